-- Grade-8 algebra: who is ready at the end of grade 7, who takes Algebra I (or its integrated
-- equivalent, or a higher course) by grade 8, and who passes it by grade 8 and by grade 9.
with student_years as (
    select * from {{ ref('fct_student_years') }}
),

math_years as (
    select * from {{ ref('int_student_years__math_courses') }}
),

math_tests as (
    select * from {{ ref('fct_assessments') }}
    where subject = 'MATH'
),

attendance as (
    select * from {{ ref('fct_attendance_years') }}
),

calendar as (
    select * from {{ ref('int_school_years__calendar') }}
),

grade8 as (
    select *
    from student_years
    where grade_level = '08' and is_enrolled_on_census_day
),

-- the grade-7 year is the school year before, when the student was in grade 7 in the district
grade7 as (
    select
        grade8.student_token,
        grade8.school_year,
        math_tests.scale_score as g7_math_scale_score,
        math_tests.achievement_level as g7_math_achievement_level,
        math_years.math_final_grade as g7_math_mark,
        math_years.math_grade_points as g7_math_grade_points,
        attendance.attendance_rate as g7_attendance_rate,
        coalesce(attendance.was_suspended, false) as g7_was_suspended
    from grade8
    inner join student_years as g7_year
        on grade8.student_token = g7_year.student_token
        and g7_year.school_year = grade8.school_year - 1
        and g7_year.grade_level = '07'
    left join math_tests
        on g7_year.student_token = math_tests.student_token
        and g7_year.school_year = math_tests.school_year
    left join math_years
        on g7_year.student_token = math_years.student_token
        and g7_year.school_year = math_years.school_year
    left join attendance
        on g7_year.student_token = attendance.student_token
        and g7_year.school_year = attendance.school_year
),

-- courses up to and including the grade-8 year, and through the year after
outcomes as (
    select
        grade8.student_token,
        grade8.school_year,
        coalesce(bool_or(
            math_years.school_year <= grade8.school_year
            and math_years.took_algebra1_or_higher
        ), false) as took_algebra1_by_grade8,
        coalesce(bool_or(
            math_years.school_year <= grade8.school_year
            and math_years.passed_algebra1_or_higher
        ), false) as passed_algebra1_by_grade8,
        coalesce(bool_or(math_years.passed_algebra1_or_higher), false) as passed_algebra1_by_grade9,
        max(case
            when math_years.school_year = grade8.school_year then math_years.math_course_family
        end) as g8_math_course_family
    from grade8
    left join math_years
        on grade8.student_token = math_years.student_token
        and math_years.school_year <= grade8.school_year + 1
    group by grade8.student_token, grade8.school_year
),

last_year as (
    select max(school_year) as school_year from calendar
),

final as (
    select
        grade8.student_token,
        grade8.school_year,
        grade8.primary_school_code as school_code,
        grade8.race_ethnicity,
        grade8.gender,
        grade8.el_status,
        grade8.is_english_learner,
        grade8.is_swd,
        grade8.is_sed,
        grade7.student_token is not null as has_grade7_year,
        grade7.g7_math_scale_score,
        grade7.g7_math_achievement_level,
        grade7.g7_math_mark,
        grade7.g7_attendance_rate,
        grade7.g7_was_suspended,
        -- unknown (null) without a grade-7 year in the district; not ready without a score or mark
        case
            when grade7.student_token is not null then coalesce(
                grade7.g7_math_achievement_level >= {{ var('p20:algebra_ready_min_g7_math_level') }}
                and grade7.g7_math_grade_points >= {{ grade_points_of_var('p20:algebra_ready_min_g7_math_mark') }},
                false
            )
        end as is_algebra_ready,
        outcomes.took_algebra1_by_grade8,
        outcomes.passed_algebra1_by_grade8,
        -- unknown until the year after grade 8 is in the warehouse
        case
            when grade8.school_year < last_year.school_year then outcomes.passed_algebra1_by_grade9
        end as passed_algebra1_by_grade9,
        outcomes.g8_math_course_family,
        math_tests.achievement_level as g8_math_achievement_level
    from grade8
    cross join last_year
    left join grade7
        on grade8.student_token = grade7.student_token
        and grade8.school_year = grade7.school_year
    left join outcomes
        on grade8.student_token = outcomes.student_token
        and grade8.school_year = outcomes.school_year
    left join math_tests
        on grade8.student_token = math_tests.student_token
        and grade8.school_year = math_tests.school_year
)

select * from final
