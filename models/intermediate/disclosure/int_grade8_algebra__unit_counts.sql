-- The grade-8 algebra counts of every school and of the district, per school year and subgroup,
-- before disclosure control: the cells that int_disclosure__pattern protects and the two
-- published algebra marts show. The district's counts are the sums of its schools'. Every unit
-- with grade-8 students in a year has a row for every subgroup seen in any year (0 students
-- included): a row that exists only where a group has students would tell an outsider that it
-- has at least one, and a district's small group at least as many as the schools that list it.
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

grid as (
    select
        units.school_year,
        units.unit_code,
        groups.subgroup_type,
        groups.subgroup_value
    from (select distinct school_year, unit_code from counted) as units
    cross join (select distinct subgroup_type, subgroup_value from counted) as groups
),

schools as (
    select
        grid.school_year,
        grid.unit_code,
        grid.subgroup_type,
        grid.subgroup_value,
        {%- for count_name in ['n_students', 'n_took_algebra1', 'n_passed_algebra1', 'n_ready', 'n_ready_known'] %}
        coalesce(counted.{{ count_name }}, 0) as {{ count_name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from grid
    left join counted
        on grid.school_year = counted.school_year
        and grid.unit_code = counted.unit_code
        and grid.subgroup_type = counted.subgroup_type
        and grid.subgroup_value = counted.subgroup_value
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
