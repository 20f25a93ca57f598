with landed as (
    {{ current_load_if_landed('preschool_enrollments', [
        'site_code', 'program_type', 'program_school_year', 'gender', 'enrollment_date',
        'exit_date', 'days_enrolled', 'days_attended', 'student_token', 'match_probability',
    ]) }}
),

renamed as (
    select
        landed.student_token,
        cast(landed.school_year as integer) as school_year,
        landed.site_code,
        landed.program_type,
        landed.gender,
        {{ parse_yyyymmdd('landed.enrollment_date') }} as enrollment_date,
        {{ parse_yyyymmdd('landed.exit_date') }} as exit_date,
        cast(landed.days_enrolled as integer) as days_enrolled,
        cast(landed.days_attended as integer) as days_attended,
        cast(landed.match_probability as double) as match_probability,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
