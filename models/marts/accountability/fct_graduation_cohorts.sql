-- Four-year adjusted cohorts: a student joins the cohort that should graduate four years after
-- entering grade 9 (a student first seen in grade 10-12 joins the cohort of the same expected
-- year); a student who transfers out of the district (exit reason seed leaves_cohort) leaves
-- it; a graduate has a completion (exit reason is_completer) with a standard diploma (seed
-- completion_status_codes) by the end of the cohort year. Attributed to the school of last
-- enrolment, as California's adjusted cohort rate does: the primary enrolment that started
-- last up to the cohort year (not the census-day school of the last year, which misses a
-- move after census day).
with enrollments as (
    select * from {{ ref('fct_enrollments') }}
    where is_primary
),

student_years as (
    select * from {{ ref('fct_student_years') }}
),

exit_reasons as (
    select * from {{ ref('exit_reason_codes') }}
),

completion_statuses as (
    select * from {{ ref('completion_status_codes') }}
),

high_school_years as (
    select * from student_years
    where grade_order between 9 and 12
),

entry as (
    select
        student_token,
        min(school_year + 12 - grade_order) as cohort_year
    from high_school_years
    group by student_token
),

exits as (
    select
        enrollments.student_token,
        enrollments.school_year,
        enrollments.exit_date,
        exit_reasons.is_completer
        and coalesce(completion_statuses.is_standard_diploma, false) as is_standard_diploma,
        exit_reasons.leaves_cohort
    from enrollments
    inner join exit_reasons
        on enrollments.exit_reason = exit_reasons.exit_reason
    left join completion_statuses
        on enrollments.completion_status = completion_statuses.completion_status
),

-- the later-starting record wins a same-day start, as in int_enrollments__primary_spans
last_enrollment as (
    select
        enrollments.student_token,
        enrollments.school_code,
        row_number() over (
            partition by enrollments.student_token
            order by
                enrollments.school_year desc,
                enrollments.enrollment_start_date desc,
                enrollments.school_code desc
        ) as recency
    from enrollments
    inner join entry
        on enrollments.student_token = entry.student_token
        and enrollments.school_year <= entry.cohort_year
),

last_school as (
    select
        high_school_years.student_token,
        high_school_years.race_ethnicity,
        high_school_years.is_english_learner,
        high_school_years.is_swd,
        high_school_years.is_sed,
        row_number() over (
            partition by high_school_years.student_token
            order by high_school_years.school_year desc
        ) as recency
    from high_school_years
    inner join entry
        on high_school_years.student_token = entry.student_token
        and high_school_years.school_year <= entry.cohort_year
),

outcomes as (
    select
        entry.student_token,
        entry.cohort_year,
        coalesce(bool_or(exits.is_standard_diploma), false) as is_graduate,
        coalesce(bool_or(exits.leaves_cohort), false) as left_district
    from entry
    left join exits
        on entry.student_token = exits.student_token
        and entry.cohort_year >= exits.school_year
    group by entry.student_token, entry.cohort_year
),

calendar as (
    select max(school_year) as last_school_year from {{ ref('int_school_years__calendar') }}
),

final as (
    select
        outcomes.student_token,
        outcomes.cohort_year as school_year,
        last_enrollment.school_code,
        last_school.race_ethnicity,
        last_school.is_english_learner,
        last_school.is_swd,
        last_school.is_sed,
        outcomes.is_graduate
    from outcomes
    inner join last_school
        on outcomes.student_token = last_school.student_token
        and last_school.recency = 1
    inner join last_enrollment
        on outcomes.student_token = last_enrollment.student_token
        and last_enrollment.recency = 1
    cross join calendar
    -- a student who left for another district before graduating is removed from the cohort
    where not (outcomes.left_district and not outcomes.is_graduate)
        and outcomes.cohort_year <= calendar.last_school_year
)

select * from final
