-- The grade-8 algebra counts of every school and of the district, per school year and subgroup,
-- before disclosure control: the cells that int_disclosure__pattern protects and the two
-- published algebra marts show. The district's counts are the sums of its schools'. Every unit
-- with grade-8 students in a year has a row for every subgroup seen in any year, 0 students
-- included (disclosure_grid).
with students as (
    select * from {{ ref('fct_grade8_algebra') }}
),

long as (
    {{ subgroup_rows('students', [
        'school_year', 'school_code', 'took_algebra1_by_grade8', 'passed_algebra1_by_grade8', 'is_algebra_ready'
    ]) }}
),

counted as (
    select
        school_year,
        school_code as unit_code,
        subgroup_type,
        subgroup_value,
        count(*) as n_students,
        sum(case when took_algebra1_by_grade8 then 1 else 0 end) as n_took_algebra1,
        sum(case when passed_algebra1_by_grade8 then 1 else 0 end) as n_passed_algebra1,
        sum(case when is_algebra_ready then 1 else 0 end) as n_ready,
        count(is_algebra_ready) as n_ready_known
    from long
    group by school_year, school_code, subgroup_type, subgroup_value
),

schools as (
    {{ disclosure_grid('counted', ['school_year', 'unit_code'], ['subgroup_type', 'subgroup_value'],
        ['n_students', 'n_took_algebra1', 'n_passed_algebra1', 'n_ready', 'n_ready_known']) }}
),

-- school codes are digits, so the unit 'district' is no school's
district as (
    select
        school_year,
        'district' as unit_code,
        subgroup_type,
        subgroup_value,
        sum(n_students) as n_students,
        sum(n_took_algebra1) as n_took_algebra1,
        sum(n_passed_algebra1) as n_passed_algebra1,
        sum(n_ready) as n_ready,
        sum(n_ready_known) as n_ready_known
    from schools
    group by school_year, subgroup_type, subgroup_value
),

final as (
    select * from schools
    union all
    select * from district
)

select * from final
