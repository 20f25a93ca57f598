with enrollments as (
    select * from {{ ref('stg_calpads__enrollments') }}
),

statuses as (
    select * from {{ ref('enrollment_status_codes') }}
),

spans as (
    select * from {{ ref('int_enrollments__primary_spans') }}
),

final as (
    select
        {{ surrogate_key([
            'enrollments.student_token',
            'enrollments.school_code',
            'enrollments.enrollment_start_date',
            'enrollments.enrollment_status',
        ]) }} as enrollment_key,
        enrollments.student_token,
        enrollments.school_year,
        enrollments.school_code,
        enrollments.grade_level,
        enrollments.enrollment_status,
        statuses.is_primary,
        enrollments.enrollment_start_date,
        enrollments.exit_date,
        spans.span_end_date,
        enrollments.exit_reason,
        enrollments.completion_status,
        enrollments.met_uc_csu
    from enrollments
    left join statuses
        on enrollments.enrollment_status = statuses.enrollment_status
    left join spans
        on enrollments.student_token = spans.student_token
        and enrollments.school_year = spans.school_year
        and enrollments.school_code = spans.school_code
        and enrollments.enrollment_start_date = spans.enrollment_start_date
)

select * from final
