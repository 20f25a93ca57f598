-- Per school and racial/ethnic group (and all students), pooled over the years, the test scores
-- of full-academic-year students before disclosure control: their count, mean distance from
-- standard and the school's SED share. agg_positive_outliers__school_race publishes them
-- through int_disclosure__pattern. The race/ethnicity groups include 'unknown', so they
-- partition all students.
with assessments as (
    select * from {{ ref('fct_assessments') }}
    where scale_score is not null
),

student_years as (
    select * from {{ ref('fct_student_years') }}
),

tested as (
    select
        student_years.primary_school_code as school_code,
        coalesce(student_years.race_ethnicity, 'unknown') as race_ethnicity,
        assessments.distance_from_standard
    from assessments
    inner join student_years
        on assessments.student_token = student_years.student_token
        and assessments.school_year = student_years.school_year
        and assessments.school_code = student_years.primary_school_code
    where student_years.is_full_academic_year
),

composition as (
    select
        primary_school_code as school_code,
        avg(case when is_sed then 1.0 else 0.0 end) as share_sed
    from student_years
    group by primary_school_code
),

groups as (
    select
        school_code,
        'all' as subgroup_type,
        'all' as subgroup_value,
        distance_from_standard
    from tested
    union all
    select
        school_code,
        'race_ethnicity' as subgroup_type,
        race_ethnicity as subgroup_value,
        distance_from_standard
    from tested
),

counted as (
    select
        groups.school_code,
        groups.subgroup_type,
        groups.subgroup_value,
        count(*) as n_students,
        avg(groups.distance_from_standard) as mean_distance_from_standard,
        composition.share_sed
    from groups
    inner join composition
        on groups.school_code = composition.school_code
    group by groups.school_code, groups.subgroup_type, groups.subgroup_value, composition.share_sed
),

-- every racial/ethnic group of every school, 0 students included (disclosure_grid)
final as (
    {{ disclosure_grid('counted', ['school_code', 'share_sed'], ['subgroup_type', 'subgroup_value'],
        ['n_students'], ['mean_distance_from_standard']) }}
)

select * from final
