with landed as (
    {{ current_load(source('landed', 'enrollments')) }}
),

renamed as (
    select
        landed.student_token,
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.grade_level,
        landed.enrollment_status,
        {{ parse_yyyymmdd('landed.enrollment_start_date') }} as enrollment_start_date,
        {{ parse_yyyymmdd('landed.exit_date') }} as exit_date,
        landed.exit_reason,
        landed.completion_status,
        landed.met_uc_csu = 'Y' as met_uc_csu,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
