-- Achievement by subgroup over the years: share meeting the standard and mean distance from it
-- (scale points above the Standard Met cut), and each group's gap to all students.
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

small as (
    select *, n_students < {{ var('p20:min_group_size') }} as is_small
    from counted
),

{{ complementary_suppression('suppressed', 'small', ['school_year', 'subject']) }},

all_students as (
    select school_year, subject, n_met * 1.0 / n_students as share_met, mean_distance_from_standard
    from counted
    where subgroup_type = 'all'
),

final as (
    select
        suppressed.school_year,
        suppressed.subject,
        suppressed.subgroup_type,
        suppressed.subgroup_value,
        cast(case when not suppressed.is_suppressed then suppressed.n_students end as integer) as n_students,
        {{ published_pct('suppressed.n_met', 'suppressed.n_students') }} as pct_met,
        case when not suppressed.is_suppressed
            then round(suppressed.mean_distance_from_standard, 1) end as mean_distance_from_standard,
        case when not suppressed.is_suppressed
            then round(100.0 * (suppressed.n_met * 1.0 / suppressed.n_students - all_students.share_met), 1)
        end as pct_met_gap_to_all,
        case when not suppressed.is_suppressed
            then round(suppressed.mean_distance_from_standard - all_students.mean_distance_from_standard, 1)
        end as distance_gap_to_all,
        suppressed.is_suppressed
    from suppressed
    inner join all_students
        on suppressed.school_year = all_students.school_year
        and suppressed.subject = all_students.subject
)

select * from final
