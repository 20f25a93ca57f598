with landed as (
    {{ current_load_if_landed('college_enrollments', [
        'record_found', 'high_school_code', 'high_school_grad_date', 'college_code_branch',
        'college_name', 'college_state', 'college_level', 'college_control',
        'enrollment_begin_date', 'enrollment_end_date', 'enrollment_status', 'college_graduated',
        'college_graduation_date', 'degree_title', 'degree_major', 'college_sequence',
        'program_code', 'student_token', 'match_probability',
    ]) }}
),

renamed as (
    select
        landed.student_token,
        cast(landed.school_year as integer) as request_school_year,
        landed.record_found = 'Y' as is_record_found,
        landed.record_found = 'Y' and landed.college_code_branch is null as is_ferpa_blocked,
        landed.high_school_code,
        {{ parse_yyyymmdd('landed.high_school_grad_date') }} as high_school_grad_date,
        landed.college_code_branch,
        landed.college_name,
        landed.college_state,
        landed.college_level,
        landed.college_control,
        {{ parse_yyyymmdd('landed.enrollment_begin_date') }} as enrollment_begin_date,
        {{ parse_yyyymmdd('landed.enrollment_end_date') }} as enrollment_end_date,
        landed.enrollment_status,
        landed.college_graduated = 'Y' as is_college_graduated,
        {{ parse_yyyymmdd('landed.college_graduation_date') }} as college_graduation_date,
        landed.degree_title,
        landed.degree_major,
        cast(landed.college_sequence as integer) as college_sequence,
        landed.program_code,
        cast(landed.match_probability as double) as match_probability,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
