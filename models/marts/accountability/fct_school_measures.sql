-- Every measure of the multiple-measures index per school, year and reporting group, with its
-- student count, whether it counts (var p20:index_min_group_size) and its level 1-10 from the
-- cut points frozen in seeds/index_level_cuts.csv. Values are rounded to the cuts' 4 decimals:
-- a float mean's last bits depend on the order DuckDB's threads add it up, and a published
-- value (and its level) must be the same on every build.
{%- set measures = [
    ('ela_proficiency', "avg(case when ela_met then 100.0 when not ela_met then 0.0 end)", "count(ela_met)"),
    ('math_proficiency', "avg(case when math_met then 100.0 when not math_met then 0.0 end)", "count(math_met)"),
    ('academic_growth', "avg(growth_points)", "count(growth_points)"),
    ('hs_readiness', "avg(case when is_hs_ready then 100.0 when not is_hs_ready then 0.0 end)", "count(is_hs_ready)"),
    ('chronic_absence', "avg(case when is_chronically_absent then 100.0 when not is_chronically_absent then 0.0 end)", "count(is_chronically_absent)"),
    ('suspension', "avg(case when was_suspended then 100.0 else 0.0 end)", "count(*)"),
    ('el_redesignation', "avg(case when is_redesignated then 100.0 when not is_redesignated then 0.0 end)", "count(is_redesignated)"),
    ('social_emotional', "avg(sel_mean)", "count(sel_mean)"),
    ('culture_climate', "avg(climate_mean)", "count(climate_mean)"),
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

-- each student once per reporting group: all, EL, SWD, SED, and the student's race/ethnicity
-- (from which fct_school_index picks a school's lowest-performing racial/ethnic group)
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
        'race_ethnicity:' || students.race_ethnicity as reporting_group
    from students
    where students.race_ethnicity is not null
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
        'race_ethnicity:' || cohorts.race_ethnicity as reporting_group
    from cohorts
    where cohorts.race_ethnicity is not null
),

long as (
    {%- for measure, value, n in measures %}
    select
        school_year,
        school_code,
        reporting_group,
        '{{ measure }}' as measure,
        {{ n }} as n_students,
        round({{ value }}, 4) as measure_value
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
        round(avg(case when is_graduate then 100.0 else 0.0 end), 4) as measure_value
    from cohort_groups
    group by school_year, school_code, reporting_group
),

index_measures as (
    select * from {{ ref('index_measures') }}
),

cuts as (
    select * from {{ ref('index_level_cuts') }}
),

final as (
    select
        long.school_year,
        long.school_code,
        long.reporting_group,
        long.measure,
        index_measures.domain,
        cast(long.n_students as integer) as n_students,
        long.measure_value,
        long.n_students >= {{ var('p20:index_min_group_size') }} as is_reported,
        -- levels 1-10: how many of the nine frozen cut points the value reaches, turned round
        -- for measures where lower is better
        case
            when long.n_students < {{ var('p20:index_min_group_size') }} or long.measure_value is null
                or cuts.measure is null then null
            when index_measures.higher_is_better then 1 + {{ cuts_reached('long.measure_value', 'cuts') }}
            else 10 - {{ cuts_reached('long.measure_value', 'cuts') }}
        end as measure_level
    from long
    inner join index_measures
        on long.measure = index_measures.measure
    left join cuts
        on long.measure = cuts.measure
    where long.n_students > 0
)

select * from final
