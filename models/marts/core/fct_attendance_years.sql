with attendance as (
    select * from {{ ref('stg_calpads__attendance_summaries') }}
),

-- A student may be enrolled at two schools in a year: the year's rates add up their days.
student_years as (
    select
        student_token,
        school_year,
        cast(count(*) as integer) as n_schools,
        cast(sum(days_expected) as integer) as days_expected,
        cast(sum(days_attended) as integer) as days_attended,
        cast(sum(days_absent_oss) as integer) as days_absent_oss,
        cast(sum(days_iss) as integer) as days_iss,
        cast(sum(days_excused) as integer) as days_excused,
        cast(sum(days_unexcused) as integer) as days_unexcused
    from attendance
    group by student_token, school_year
),

final as (
    select
        student_token,
        school_year,
        n_schools,
        days_expected,
        days_attended,
        days_expected - days_attended as days_absent,
        days_absent_oss,
        days_iss,
        days_excused,
        days_unexcused,
        case when days_expected > 0 then cast(days_attended as double) / days_expected end as attendance_rate,
        case
            when days_expected > 0 then cast(days_expected - days_attended as double) / days_expected
        end as absence_rate,
        {{ is_chronically_absent('days_expected', 'days_attended') }} as is_chronically_absent,
        days_absent_oss + days_iss > 0 as was_suspended
    from student_years
)

select * from final
