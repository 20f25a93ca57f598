with spans as (
    select * from {{ ref('int_enrollments__primary_spans') }}
),

calendar as (
    select * from {{ ref('int_school_years__calendar') }}
),

flagged as (
    select
        spans.*,
        calendar.census_date,
        spans.enrollment_start_date <= calendar.census_date
        and spans.span_end_date >= calendar.census_date as covers_census_day,
        spans.enrollment_start_date <= calendar.census_date
        and spans.span_end_date >= calendar.fay_through_date as covers_full_academic_year
    from spans
    inner join calendar
        on spans.school_year = calendar.school_year
),

-- The primary school of the year is the one enrolled on census day; a student who arrived
-- after (or left before) census day gets the first school of the year.
ranked as (
    select
        *,
        row_number() over (
            partition by student_token, school_year
            order by
                case when covers_census_day then 0 else 1 end,
                enrollment_start_date,
                school_code
        ) as preference,
        count(*) over (partition by student_token, school_year) as n_primary_spans
    from flagged
),

final as (
    select
        student_token,
        school_year,
        school_code as primary_school_code,
        grade_level,
        census_date,
        -- the day the year's statuses (EL) are read on: census day, or the first day enrolled
        -- for a student who arrived after it (or left before it)
        case when covers_census_day then census_date else enrollment_start_date end as status_date,
        covers_census_day as is_enrolled_on_census_day,
        covers_full_academic_year as is_full_academic_year,
        n_primary_spans
    from ranked
    where preference = 1
)

select * from final
