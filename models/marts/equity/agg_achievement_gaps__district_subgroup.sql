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
    select
        *,
        n_students < {{ var('p20:min_group_size') }} as is_small
    from counted
),

{{ complementary_suppression('suppressed', 'small', ['school_year', 'subject']) }},

-- a shown group's share meeting the standard near 0% or 100% is coded; other groups' shares
-- are withheld with it so that the all-students share cannot give it away
coded as (
    select
        *,
        is_suppressed or {{ pct_code('n_met', 'n_students') }} is not null as is_met_hidden_primary
    from suppressed
),

{{ complementary_suppression('withheld', 'coded', ['school_year', 'subject'], flags=[
    ('is_met_hidden_primary', 'is_met_hidden'),
]) }},

all_students as (
    select
        school_year,
        subject,
        n_met * 1.0 / n_students as share_met,
        mean_distance_from_standard,
        is_met_hidden
    from withheld
    where subgroup_type = 'all'
),

final as (
    select
        withheld.school_year,
        withheld.subject,
        withheld.subgroup_type,
        withheld.subgroup_value,
        cast(case when not withheld.is_suppressed then withheld.n_students end as integer) as n_students,
        {{ published_pct('withheld.n_met', 'withheld.n_students', 'withheld.is_met_hidden') }} as pct_met,
        {{ coded_pct('withheld.n_met', 'withheld.n_students', 'withheld.is_met_hidden', 'withheld.is_suppressed') }}
            as pct_met_coded,
        case
            when not withheld.is_suppressed then round(withheld.mean_distance_from_standard, 1)
        end as mean_distance_from_standard,
        -- a gap beside the all-students share would give a hidden share away
        case
            when not withheld.is_met_hidden and not all_students.is_met_hidden
                then round(100.0 * (withheld.n_met * 1.0 / withheld.n_students - all_students.share_met), 1)
        end as pct_met_gap_to_all,
        case
            when not withheld.is_suppressed
                then round(withheld.mean_distance_from_standard - all_students.mean_distance_from_standard, 1)
        end as distance_gap_to_all,
        withheld.is_suppressed
    from withheld
    inner join all_students
        on withheld.school_year = all_students.school_year
        and withheld.subject = all_students.subject
)

select * from final
