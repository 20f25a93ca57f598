-- A student's mathematics in one school year: the highest course in the sequence (and its
-- mark), and whether an Algebra I-or-higher course was taken and passed that year.
with course_marks as (
    select * from {{ ref('int_course_marks__crosswalked') }}
    where math_sequence_rank is not null
),

mark_codes as (
    select * from {{ ref('marks') }}
),

marked as (
    select
        course_marks.*,
        mark_codes.grade_points,
        mark_codes.grade_points >= {{ grade_points_of_var('p20:algebra_pass_min_mark') }} as is_passed,
        row_number() over (
            partition by course_marks.student_token, course_marks.school_year
            order by
                course_marks.math_sequence_rank desc,
                course_marks.academic_term desc,
                mark_codes.grade_points desc
        ) as preference
    from course_marks
    left join mark_codes
        on course_marks.final_grade = mark_codes.final_grade
),

final as (
    select
        student_token,
        school_year,
        max(case when preference = 1 then course_family end) as math_course_family,
        max(case when preference = 1 then math_sequence_rank end) as math_sequence_rank,
        max(case when preference = 1 then final_grade end) as math_final_grade,
        max(case when preference = 1 then grade_points end) as math_grade_points,
        bool_or(is_algebra1_or_higher) as took_algebra1_or_higher,
        coalesce(bool_or(is_algebra1_or_higher and is_passed), false) as passed_algebra1_or_higher
    from marked
    group by student_token, school_year
)

select * from final
