with primary_schools as (
    select * from {{ ref('int_student_years__primary_school') }}
),

students as (
    select * from {{ ref('stg_calpads__students') }}
),

program_groups as (
    select * from {{ ref('int_student_years__program_groups') }}
),

el_statuses as (
    select * from {{ ref('int_student_years__el_status') }}
),

elas_codes as (
    select * from {{ ref('elas_codes') }}
),

parent_education_codes as (
    select * from {{ ref('parent_education_codes') }}
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
        primary_schools.status_date,
        primary_schools.n_primary_spans,
        students.race_ethnicity,
        students.is_hispanic,
        students.gender,
        students.home_language,
        students.parent_ed_level,
        el_statuses.el_status_on_status_date as el_status,
        coalesce(elas_codes.is_english_learner, false) as is_english_learner,
        coalesce(program_groups.is_swd, false) as is_swd,
        coalesce(program_groups.has_sed_program, false)
        or coalesce(parent_education_codes.counts_as_sed, false) as is_sed,
        coalesce(program_groups.is_frl, false) as is_frl,
        coalesce(program_groups.is_foster, false) as is_foster,
        coalesce(program_groups.is_homeless, false) as is_homeless,
        coalesce(program_groups.is_migrant, false) as is_migrant
    from primary_schools
    left join students
        on primary_schools.student_token = students.student_token
        and primary_schools.school_year = students.school_year
    left join program_groups
        on primary_schools.student_token = program_groups.student_token
        and primary_schools.school_year = program_groups.school_year
    left join el_statuses
        on primary_schools.student_token = el_statuses.student_token
        and primary_schools.school_year = el_statuses.school_year
    left join elas_codes
        on el_statuses.el_status_on_status_date = elas_codes.elas_code
    left join parent_education_codes
        on students.parent_ed_level = parent_education_codes.parent_ed_level
    left join grade_levels
        on primary_schools.grade_level = grade_levels.grade_level
)

select * from final
