with marks as (
    select * from {{ ref('int_course_marks__crosswalked') }}
),

sections as (
    select * from {{ ref('stg_calpads__course_sections') }}
),

mark_codes as (
    select * from {{ ref('marks') }}
),

final as (
    select
        marks.student_token,
        marks.school_year,
        marks.school_code,
        marks.section_token,
        marks.academic_term,
        marks.grade_level,
        marks.state_course_code,
        marks.local_course_id,
        sections.course_name,
        sections.teacher_token,
        marks.course_family,
        marks.math_sequence_rank,
        marks.is_algebra1,
        marks.is_algebra1_or_higher,
        marks.is_code_valid_in_year,
        marks.credits_attempted,
        marks.credits_earned,
        marks.final_grade,
        mark_codes.grade_points,
        mark_codes.is_passing,
        marks.ag_code,
        sections.is_uc_csu_approved
    from marks
    left join sections
        on marks.school_year = sections.school_year
        and marks.school_code = sections.school_code
        and marks.section_token = sections.section_token
        and marks.academic_term = sections.academic_term
    left join mark_codes
        on marks.final_grade = mark_codes.final_grade
)

select * from final
