{#- The grade-8 algebra subgroup aggregate at school level (level = 'school': one row per school
    year, school and subgroup) or district level ('district': per school year and subgroup):
    one model each, one definition. The two are published together and the district's counts
    are the sums of the schools', so disclosure control runs on both at once (the schools and
    the district as units of one table, macros/subgroups.sql) and each model keeps its own
    rows: a school's hidden cell cannot be recovered from the district row either. -#}
{% macro grade8_algebra_subgroup_aggregate(level) %}
{%- set measures = [
    ('took_algebra1', 'n_students'),
    ('passed_algebra1', 'n_students'),
    ('ready', 'n_ready_known'),
] -%}
with students as (
    select * from {{ ref('fct_grade8_algebra') }}
),

long as (
    {{ subgroup_rows('students', [
        'school_year', 'school_code', 'took_algebra1_by_grade8', 'passed_algebra1_by_grade8', 'is_algebra_ready'
    ]) }}
),

schools as (
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

-- the district's row of every group: the sum of its schools' (school codes are digits, so the
-- unit 'district' is no school's)
counted as (
    select *, n_students < {{ var('p20:min_group_size') }} as is_small
    from (
        select * from schools
        union all
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
    ) as units
),

{{ complementary_suppression('suppressed', 'counted', ['school_year'], 'unit_code', across_units=true) }},

-- a shown group's rate near 0% or 100% is coded, and its count hidden; readiness is hidden too
-- where fewer than p20:min_group_size students have a known readiness
coded as (
    select
        suppressed.*,
        {%- for measure, n_column in measures %}
        suppressed.is_suppressed
            {%- if n_column != 'n_students' %}
            or suppressed.{{ n_column }} < {{ var('p20:min_group_size') }}
            {%- endif %}
            or {{ pct_code('suppressed.n_' ~ measure, 'suppressed.' ~ n_column) }} is not null
            as is_{{ measure }}_hidden_primary{% if not loop.last %},{% endif %}
        {%- endfor %}
    from suppressed
),

{{ complementary_suppression('withheld', 'coded', ['school_year'], 'unit_code', across_units=true, flags=[
    ('is_took_algebra1_hidden_primary', 'is_took_algebra1_hidden'),
    ('is_passed_algebra1_hidden_primary', 'is_passed_algebra1_hidden'),
    ('is_ready_hidden_primary', 'is_ready_hidden'),
]) }},

final as (
    select
        school_year,
        {%- if level == 'school' %}
        unit_code as school_code,
        {%- endif %}
        subgroup_type,
        subgroup_value,
        cast(case when not is_suppressed then n_students end as integer) as n_students,
        cast(case when not is_took_algebra1_hidden then n_took_algebra1 end as integer) as n_took_algebra1,
        {{ published_pct('n_took_algebra1', 'n_students', 'is_took_algebra1_hidden') }} as pct_took_algebra1,
        {{ coded_pct('n_took_algebra1', 'n_students', 'is_took_algebra1_hidden') }} as pct_took_algebra1_coded,
        cast(case when not is_passed_algebra1_hidden then n_passed_algebra1 end as integer) as n_passed_algebra1,
        {{ published_pct('n_passed_algebra1', 'n_students', 'is_passed_algebra1_hidden') }} as pct_passed_algebra1,
        {{ coded_pct('n_passed_algebra1', 'n_students', 'is_passed_algebra1_hidden') }} as pct_passed_algebra1_coded,
        cast(case when not is_ready_hidden then n_ready end as integer) as n_ready,
        cast(case when not is_suppressed then n_ready_known end as integer) as n_ready_known,
        {{ published_pct('n_ready', 'n_ready_known', 'is_ready_hidden') }} as pct_ready,
        {{ coded_pct('n_ready', 'n_ready_known', 'is_ready_hidden') }} as pct_ready_coded,
        is_suppressed
    from withheld
    where unit_code {{ "<>" if level == 'school' else "=" }} 'district'
)

select * from final
{% endmacro %}
