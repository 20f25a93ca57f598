-- Course marks with their course family through the crosswalk seed course_codes, which spans
-- the 2019-20 change of state course codes: each code is valid from first_school_year to
-- last_school_year (blank = open). A code used outside its years keeps its family but is
-- flagged, so a miscoded year shows up instead of silently changing a student's path.
with completions as (
    select * from {{ ref('stg_calpads__course_completions') }}
),

course_codes as (
    select * from {{ ref('course_codes') }}
),

course_families as (
    select * from {{ ref('course_families') }}
),

final as (
    select
        completions.student_token,
        completions.school_year,
        completions.school_code,
        completions.section_token,
        completions.academic_term,
        completions.grade_level,
        completions.state_course_code,
        completions.local_course_id,
        course_codes.course_family,
        course_families.math_sequence_rank,
        coalesce(course_families.is_algebra1_or_higher, false) as is_algebra1_or_higher,
        coalesce(course_codes.is_algebra1, false) as is_algebra1,
        course_codes.state_course_code is not null
        and completions.school_year >= coalesce(course_codes.first_school_year, completions.school_year)
        and completions.school_year <= coalesce(course_codes.last_school_year, completions.school_year)
            as is_code_valid_in_year,
        completions.credits_attempted,
        completions.credits_earned,
        completions.final_grade,
        completions.ag_code
    from completions
    left join course_codes
        on completions.state_course_code = course_codes.state_course_code
    left join course_families
        on course_codes.course_family = course_families.course_family
)

select * from final
