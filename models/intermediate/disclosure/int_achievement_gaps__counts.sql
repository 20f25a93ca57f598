-- Achievement per school year, subject and subgroup of the district's tested students before
-- disclosure control: how many tested, how many met the standard, and the mean distance from
-- it. agg_achievement_gaps__district_subgroup publishes them through int_disclosure__pattern.
with assessments as (
    select * from {{ ref('fct_assessments') }}
    where scale_score is not null
),

student_years as (
    select * from {{ ref('fct_student_years') }}
),

tested as (
    select
        assessments.school_year,
        assessments.subject,
        assessments.is_met_or_exceeded,
        assessments.distance_from_standard,
        student_years.race_ethnicity,
        student_years.gender,
        student_years.el_status,
        student_years.is_swd,
        student_years.is_sed
    from assessments
    inner join student_years
        on assessments.student_token = student_years.student_token
        and assessments.school_year = student_years.school_year
),

long as (
    {{ subgroup_rows('tested', ['school_year', 'subject', 'is_met_or_exceeded', 'distance_from_standard']) }}
),

counted as (
    select
        school_year,
        subject,
        subgroup_type,
        subgroup_value,
        count(*) as n_students,
        sum(case when is_met_or_exceeded then 1 else 0 end) as n_met,
        avg(distance_from_standard) as mean_distance_from_standard
    from long
    group by school_year, subject, subgroup_type, subgroup_value
),

-- every subgroup of every year and subject, 0 students included (disclosure_grid)
final as (
    {{ disclosure_grid('counted', ['school_year', 'subject'], ['subgroup_type', 'subgroup_value'],
        ['n_students', 'n_met'], ['mean_distance_from_standard']) }}
)

select * from final
