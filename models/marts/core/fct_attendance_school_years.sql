-- The school's view of attendance: a student counts at each school he or she was expected to
-- attend, as the CA Dashboard counts a school's chronic absence.
with attendance as (
    select * from {{ ref('stg_calpads__attendance_summaries') }}
),

final as (
    select
        student_token,
        school_year,
        school_code,
        days_expected,
        days_attended,
        days_expected - days_attended as days_absent,
        days_absent_oss,
        days_iss,
        days_excused,
        days_unexcused,
        case when days_expected > 0 then cast(days_attended as double) / days_expected end as attendance_rate,
        {{ is_chronically_absent('days_expected', 'days_attended') }} as is_chronically_absent,
        days_expected >= {{ var('p20:chronic_absence_min_days_expected') }} as counts_for_chronic_absence
    from attendance
)

select * from final
