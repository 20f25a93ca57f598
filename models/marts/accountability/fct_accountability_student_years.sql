-- The student-level inputs of every index measure, one row per student and school year at the
-- student's primary school (fct_school_measures aggregates them). Academic measures count
-- full-academic-year students only, as CORE does.
with student_years as (
    select * from {{ ref('fct_student_years') }}
),

assessments as (
    select * from {{ ref('fct_assessments') }}
),

growth as (
    select
        student_token,
        school_year,
        avg(growth_points) as growth_points
    from {{ ref('fct_student_growth') }}
    group by student_token, school_year
),

school_attendance as (
    select * from {{ ref('fct_attendance_school_years') }}
),

year_attendance as (
    select * from {{ ref('fct_attendance_years') }}
),

el_history as (
    select * from {{ ref('fct_el_status_history') }}
),

surveys as (
    select
        student_token,
        school_year,
        (growth_mindset + self_efficacy + self_management + social_awareness) / 4.0 as sel_mean,
        (climate_support_learning + sense_of_belonging + fairness_of_discipline + safety) / 4.0 as climate_mean
    from {{ ref('fct_survey_responses') }}
),

grade8_marks as (
    select
        course_marks.student_token,
        course_marks.school_year,
        avg(course_marks.grade_points) as gpa,
        bool_or(course_marks.grade_points < {{ grade_points_of_var('p20:hs_ready_min_mark') }})
            as has_mark_below_minimum
    from {{ ref('fct_course_marks') }} as course_marks
    where course_marks.grade_level = '08'
    group by course_marks.student_token, course_marks.school_year
),

final as (
    select
        student_years.student_token,
        student_years.school_year,
        student_years.primary_school_code as school_code,
        student_years.race_ethnicity,
        student_years.is_english_learner,
        student_years.is_swd,
        student_years.is_sed,
        case when student_years.is_full_academic_year then ela.is_met_or_exceeded end as ela_met,
        case when student_years.is_full_academic_year then math.is_met_or_exceeded end as math_met,
        case when student_years.is_full_academic_year then growth.growth_points end as growth_points,
        case
            when student_years.grade_level = '08' then coalesce(
                grade8_marks.gpa >= {{ var('p20:hs_ready_min_gpa') }}
                and not grade8_marks.has_mark_below_minimum
                and year_attendance.attendance_rate >= {{ var('p20:hs_ready_min_attendance_rate') }}
                and not coalesce(year_attendance.was_suspended, false),
                false
            )
        end as is_hs_ready,
        case
            when school_attendance.counts_for_chronic_absence then school_attendance.is_chronically_absent
        end as is_chronically_absent,
        coalesce(year_attendance.was_suspended, false) as was_suspended,
        case
            when el_history.was_english_learner_at_year_start then el_history.is_reclassified_in_year
        end as is_redesignated,
        surveys.sel_mean,
        surveys.climate_mean
    from student_years
    left join assessments as ela
        on student_years.student_token = ela.student_token
        and student_years.school_year = ela.school_year
        and ela.subject = 'ELA'
    left join assessments as math
        on student_years.student_token = math.student_token
        and student_years.school_year = math.school_year
        and math.subject = 'MATH'
    left join growth
        on student_years.student_token = growth.student_token
        and student_years.school_year = growth.school_year
    left join grade8_marks
        on student_years.student_token = grade8_marks.student_token
        and student_years.school_year = grade8_marks.school_year
    left join year_attendance
        on student_years.student_token = year_attendance.student_token
        and student_years.school_year = year_attendance.school_year
    left join school_attendance
        on student_years.student_token = school_attendance.student_token
        and student_years.school_year = school_attendance.school_year
        and student_years.primary_school_code = school_attendance.school_code
    left join el_history
        on student_years.student_token = el_history.student_token
        and student_years.school_year = el_history.school_year
    left join surveys
        on student_years.student_token = surveys.student_token
        and student_years.school_year = surveys.school_year
)

select * from final
