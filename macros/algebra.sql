{#- The grade-8 algebra subgroup aggregate at school level (level = 'school': one row per school
    year, school and subgroup) or district level ('district': per school year and subgroup):
    one model each, one definition. Both show the counts of int_grade8_algebra__unit_counts
    that int_disclosure__pattern leaves shown; the schools and the district are protected as
    one set of linked tables with the other protected marts, so a school's hidden cell cannot
    be recovered from the district row either. -#}
{% macro grade8_algebra_subgroup_aggregate(level) %}
{%- set mart = 'agg_grade8_algebra__' ~ level ~ '_subgroup' -%}
{%- set counts = ['n_students', 'n_took_algebra1', 'n_passed_algebra1', 'n_ready', 'n_ready_known'] -%}
with counts as (
    select * from {{ ref('int_grade8_algebra__unit_counts') }}
    where unit_code {{ "<>" if level == 'school' else "=" }} 'district'
),

pattern as (
    {{ disclosure_flags(mart, counts) }}
),

protected as (
    select
        counts.*,
        {%- for count_name in counts %}
        pattern.is_{{ count_name }}_hidden{% if not loop.last %},{% endif %}
        {%- endfor %}
    from counts
    inner join pattern
        on {{ disclosure_cell_key(['counts.school_year', 'counts.unit_code', 'counts.subgroup_type',
            'counts.subgroup_value']) }} = pattern.cell_key
),

final as (
    select
        school_year,
        {%- if level == 'school' %}
        unit_code as school_code,
        {%- endif %}
        subgroup_type,
        subgroup_value,
        {%- for count_name in counts if count_name in ['n_students', 'n_took_algebra1'] %}
        cast(case when not is_{{ count_name }}_hidden then {{ count_name }} end as integer) as {{ count_name }},
        {%- endfor %}
        {{ published_pct('n_took_algebra1', 'n_students', 'is_n_took_algebra1_hidden or is_n_students_hidden') }}
            as pct_took_algebra1,
        {{ coded_pct('n_took_algebra1', 'n_students', 'is_n_took_algebra1_hidden', 'is_n_students_hidden') }}
            as pct_took_algebra1_coded,
        cast(case when not is_n_passed_algebra1_hidden then n_passed_algebra1 end as integer) as n_passed_algebra1,
        {{ published_pct('n_passed_algebra1', 'n_students', 'is_n_passed_algebra1_hidden or is_n_students_hidden') }}
            as pct_passed_algebra1,
        {{ coded_pct('n_passed_algebra1', 'n_students', 'is_n_passed_algebra1_hidden', 'is_n_students_hidden') }}
            as pct_passed_algebra1_coded,
        cast(case when not is_n_ready_hidden then n_ready end as integer) as n_ready,
        cast(case when not is_n_ready_known_hidden then n_ready_known end as integer) as n_ready_known,
        {{ published_pct('n_ready', 'n_ready_known', 'is_n_ready_hidden or is_n_ready_known_hidden') }} as pct_ready,
        {{ coded_pct('n_ready', 'n_ready_known', 'is_n_ready_hidden', 'is_n_ready_known_hidden') }} as pct_ready_coded,
        is_n_students_hidden as is_suppressed
    from protected
)

select * from final
{% endmacro %}
