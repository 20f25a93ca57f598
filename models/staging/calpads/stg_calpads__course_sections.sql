with landed as (
    {{ current_load(source('landed', 'course_sections')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.section_token,
        landed.state_course_code,
        landed.local_course_id,
        landed.course_name,
        landed.teacher_token,
        landed.academic_term,
        landed.uc_csu_approved = 'Y' as is_uc_csu_approved,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
