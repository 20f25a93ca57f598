with landed as (
    {{ current_load(source('landed', 'course_completions')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.student_token,
        landed.gender,
        landed.grade_level,
        landed.state_course_code,
        landed.local_course_id,
        landed.section_token,
        landed.academic_term,
        cast(landed.credits_attempted as decimal(6, 2)) as credits_attempted,
        cast(landed.credits_earned as decimal(6, 2)) as credits_earned,
        landed.final_grade,
        landed.ag_code,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
