-- A student's path from preschool to college, one row per district student: preschool records
-- and college (NSC) records are those p20 link matched to the student (match probability at or
-- above var p20:link_match_threshold; unmatched records carry no token and cannot join here).
with students as (
    select * from {{ ref('dim_students') }}
),

student_years as (
    select * from {{ ref('fct_student_years') }}
),

grade8 as (
    select * from {{ ref('fct_grade8_algebra') }}
),

enrollments as (
    select * from {{ ref('fct_enrollments') }}
),

exit_reasons as (
    select * from {{ ref('exit_reason_codes') }}
),

completion_statuses as (
    select * from {{ ref('completion_status_codes') }}
),

preschool as (
    select * from {{ ref('stg_preschool__enrollments') }}
    where student_token is not null
),

nsc as (
    select * from {{ ref('stg_nsc__college_enrollments') }}
),

-- Each NSC request reports every enrolment so far: the newest request is the whole story.
college as (
    select * from nsc
    where student_token is not null
        and request_school_year = (select max(requests.request_school_year) from nsc as requests)
),

first_grade as (
    select
        student_token,
        min(school_year) as first_school_year,
        min(case when grade_order = 0 then school_year end) as kindergarten_school_year,
        min(grade_order) as first_grade_order
    from student_years
    group by student_token
),

preschool_years as (
    select
        student_token,
        count(distinct school_year) as n_preschool_years,
        max(school_year) as last_preschool_school_year,
        min(match_probability) as preschool_match_probability
    from preschool
    group by student_token
),

-- The last grade-8 year (a student who repeated grade 8 has two).
last_grade8 as (
    select * from grade8
    qualify row_number() over (partition by student_token order by school_year desc) = 1
),

high_school_exits as (
    select
        enrollments.student_token,
        enrollments.school_year,
        enrollments.exit_date,
        exit_reasons.is_completer
        and coalesce(completion_statuses.is_standard_diploma, false) as is_graduate,
        exit_reasons.is_dropout
    from enrollments
    inner join exit_reasons
        on enrollments.exit_reason = exit_reasons.exit_reason
    left join completion_statuses
        on enrollments.completion_status = completion_statuses.completion_status
    where enrollments.grade_level = '12'
        and (exit_reasons.is_completer or exit_reasons.is_dropout)
    qualify
        row_number() over (
            partition by enrollments.student_token order by enrollments.exit_date desc
        ) = 1
),

college_summary as (
    select
        student_token,
        bool_or(is_record_found) as has_college_record,
        bool_or(is_ferpa_blocked) as is_ferpa_blocked,
        min(enrollment_begin_date) as first_college_begin_date,
        min(match_probability) as college_match_probability
    from college
    group by student_token
),

first_college as (
    select
        student_token,
        college_level,
        college_control
    from college
    where enrollment_begin_date is not null
    qualify
        row_number() over (
            partition by student_token order by enrollment_begin_date, college_sequence, college_code_branch
        ) = 1
),

final as (
    select
        students.student_token,
        first_grade.first_school_year,
        first_grade.first_grade_order = 0 as entered_in_kindergarten,
        first_grade.kindergarten_school_year,
        preschool_years.student_token is not null as attended_preschool,
        coalesce(preschool_years.n_preschool_years, 0) as n_preschool_years,
        preschool_years.preschool_match_probability,
        last_grade8.school_year as grade8_school_year,
        last_grade8.took_algebra1_by_grade8,
        last_grade8.passed_algebra1_by_grade8,
        high_school_exits.school_year as high_school_exit_school_year,
        high_school_exits.exit_date as high_school_exit_date,
        high_school_exits.is_graduate as is_high_school_graduate,
        high_school_exits.is_dropout as is_high_school_dropout,
        college_summary.student_token is not null as has_nsc_record,
        college_summary.is_ferpa_blocked,
        college_summary.first_college_begin_date,
        case
            when high_school_exits.exit_date is null or college_summary.student_token is null then null
            when college_summary.is_ferpa_blocked then null
            else
                coalesce(
                    college_summary.first_college_begin_date
                    <= {{ dbt.dateadd('day', 365, 'high_school_exits.exit_date') }},
                    false
                )
        end as enrolled_in_college_within_a_year,
        first_college.college_level as first_college_level,
        first_college.college_control as first_college_control,
        college_summary.college_match_probability
    from students
    left join first_grade
        on students.student_token = first_grade.student_token
    left join preschool_years
        on students.student_token = preschool_years.student_token
    left join last_grade8
        on students.student_token = last_grade8.student_token
    left join high_school_exits
        on students.student_token = high_school_exits.student_token
    left join college_summary
        on students.student_token = college_summary.student_token
    left join first_college
        on students.student_token = first_college.student_token
)

select * from final
