with enrollments as (
    select * from {{ ref('stg_calpads__enrollments') }}
),

statuses as (
    select * from {{ ref('enrollment_status_codes') }}
),

calendar as (
    select * from {{ ref('int_school_years__calendar') }}
),

primary_enrollments as (
    select
        enrollments.*,
        coalesce(enrollments.exit_date, calendar.school_year_end_date) as reported_end_date
    from enrollments
    inner join statuses
        on enrollments.enrollment_status = statuses.enrollment_status
    inner join calendar
        on enrollments.school_year = calendar.school_year
    where statuses.is_primary
),

ordered as (
    select
        *,
        lead(enrollment_start_date) over (
            partition by student_token, school_year
            order by enrollment_start_date, school_code
        ) as next_start_date
    from primary_enrollments
),

-- Overlapping primary enrolments (the new school's record opens before the old one closes):
-- the later-starting record wins from its first day, so the earlier span ends the day before.
resolved as (
    select
        student_token,
        school_year,
        school_code,
        grade_level,
        enrollment_start_date,
        exit_date,
        exit_reason,
        case
            when next_start_date is not null and next_start_date <= reported_end_date
                then {{ add_days('next_start_date', -1) }}
            else reported_end_date
        end as span_end_date
    from ordered
),

final as (
    select *
    from resolved
    where span_end_date >= enrollment_start_date
)

select * from final
