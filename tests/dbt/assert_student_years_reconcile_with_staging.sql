-- What: every student with a primary enrolment in the current load of a year has exactly one
-- row in fct_student_years for that year, and no other student does.
-- When it matters: a failure means students were lost or invented between staging and the
-- mart (a join fanning out, or the overlap rule dropping a whole year).
-- How to resolve: compare int_enrollments__primary_spans with fct_student_years for the year
-- this returns, starting with students that changed school mid-year.
with primary_statuses as (
    select enrollment_status from {{ ref('enrollment_status_codes') }}
    where is_primary
),

staged as (
    select
        school_year,
        count(distinct student_token) as n_students
    from {{ ref('stg_calpads__enrollments') }}
    where enrollment_status in (select primary_statuses.enrollment_status from primary_statuses)
    group by school_year
),

marted as (
    select
        school_year,
        count(*) as n_students
    from {{ ref('fct_student_years') }}
    group by school_year
)

select
    coalesce(staged.school_year, marted.school_year) as school_year,
    staged.n_students as n_staged,
    marted.n_students as n_marted
from staged
full outer join marted
    on staged.school_year = marted.school_year
where staged.n_students is null
    or marted.n_students is null
    or staged.n_students <> marted.n_students
