with primary_schools as (
    select * from {{ ref('int_student_years__primary_school') }}
),

students as (
    select * from {{ ref('stg_calpads__students') }}
),

grade_levels as (
    select * from {{ ref('grade_levels') }}
),

final as (
    select
        primary_schools.student_token,
        primary_schools.school_year,
        primary_schools.grade_level,
        grade_levels.grade_order,
        primary_schools.primary_school_code,
        primary_schools.is_enrolled_on_census_day,
        primary_schools.is_full_academic_year,
        primary_schools.census_date,
        primary_schools.n_primary_spans,
        students.race_ethnicity,
        students.is_hispanic,
        students.gender,
        students.home_language,
        students.parent_ed_level
    from primary_schools
    left join students
        on primary_schools.student_token = students.student_token
        and primary_schools.school_year = students.school_year
    left join grade_levels
        on primary_schools.grade_level = grade_levels.grade_level
)

select * from final
