-- Every measure of the multiple-measures index per school, year and reporting group before
-- disclosure control: its student count, and for a percent measure the count of students it
-- counts (the numerator), for a mean measure the mean. fct_school_measures publishes these
-- through int_disclosure__pattern. The race/ethnicity groups include 'unknown', so they
-- partition all students and their counts sum to the 'all' row's.
{#- (measure, the student's yes/no for a percent measure, the student's value for a mean) -#}
{%- set measures = [
    ('ela_proficiency', 'ela_met', none),
    ('math_proficiency', 'math_met', none),
    ('academic_growth', none, 'growth_points'),
    ('hs_readiness', 'is_hs_ready', none),
    ('chronic_absence', 'is_chronically_absent', none),
    ('suspension', 'coalesce(was_suspended, false)', none),
    ('el_redesignation', 'is_redesignated', none),
    ('social_emotional', none, 'sel_mean'),
    ('culture_climate', none, 'climate_mean'),
] %}
{%- set groups = [
    ('all', 'true'),
    ('english_learners', 'is_english_learner'),
    ('students_with_disabilities', 'is_swd'),
    ('socioeconomically_disadvantaged', 'is_sed'),
] %}

with students as (
    select * from {{ ref('fct_accountability_student_years') }}
),

cohorts as (
    select * from {{ ref('fct_graduation_cohorts') }}
),

student_groups as (
    {%- for group, condition in groups %}
    select
        students.*,
        '{{ group }}' as reporting_group
    from students
    where {{ condition }}
    union all
    {%- endfor %}
    select
        students.*,
        'race_ethnicity:' || coalesce(students.race_ethnicity, 'unknown') as reporting_group
    from students
),

cohort_groups as (
    {%- for group, condition in groups %}
    select
        cohorts.*,
        '{{ group }}' as reporting_group
    from cohorts
    where {{ condition }}
    union all
    {%- endfor %}
    select
        cohorts.*,
        'race_ethnicity:' || coalesce(cohorts.race_ethnicity, 'unknown') as reporting_group
    from cohorts
),

long as (
    {%- for measure, flag, value in measures %}
    select
        school_year,
        school_code,
        reporting_group,
        '{{ measure }}' as measure,
        count({{ flag or value }}) as n_students,
        {%- if flag %}
        sum(case when {{ flag }} then 1 else 0 end) as n_counted,
        cast(null as double) as mean_value
        {%- else %}
        cast(null as bigint) as n_counted,
        round(avg({{ value }}), 4) as mean_value
        {%- endif %}
    from student_groups
    group by school_year, school_code, reporting_group
    union all
    {%- endfor %}
    select
        school_year,
        school_code,
        reporting_group,
        'graduation' as measure,
        count(*) as n_students,
        sum(case when is_graduate then 1 else 0 end) as n_counted,
        cast(null as double) as mean_value
    from cohort_groups
    group by school_year, school_code, reporting_group
),

present as (
    select * from long
    where n_students > 0
),

-- every reporting group of every school's measure, 0 students included (disclosure_grid)
grid as (
    {{ disclosure_grid('present', ['school_year', 'school_code', 'measure'], ['reporting_group'],
        ['n_students'], ['n_counted', 'mean_value']) }}
),

final as (
    select
        school_year,
        school_code,
        reporting_group,
        measure,
        n_students,
        -- a percent measure counts 0 of a group with no students; a mean measure counts nothing
        case
            when max(n_counted) over (partition by measure) is not null then coalesce(n_counted, 0)
        end as n_counted,
        -- rounded to the cuts' 4 decimals: a float mean's last bits depend on the order DuckDB's
        -- threads add it up, and a value (and its level) must be the same on every build
        case
            when n_students = 0 then null
            when n_counted is not null then round(100.0 * n_counted / n_students, 4)
            else mean_value
        end as measure_value
    from grid
)

select * from final
