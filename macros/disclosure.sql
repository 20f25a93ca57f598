{#- Disclosure control of the published aggregates (models/intermediate/disclosure; README,
    "What a hidden cell tells a researcher"). A cell is one published row of a protected mart,
    named by its mart and `cell_key`: its key columns joined by '|', built by this macro
    wherever a model joins a cell to its pattern. -#}
{% macro disclosure_cell_key(columns) -%}
    concat_ws('|', {% for column in columns %}cast({{ column }} as {{ dbt.type_string() }}){% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}


{#- The variables of one protected mart for int_disclosure__cells: one row per cell and count
    of `relation` (a model of true counts whose columns are named as the counts). `counts` lists
    (count, its denominator count or none, whether its rate is top/bottom-coded); the cell's
    size, the student count of its group, has no denominator. `unit_total` says which rows are
    the all-students row of their unit (a school or the district). -#}
{% macro disclosure_variables(mart, relation, key_columns, counts, unit_total, where='true') %}
    {%- for count_name, denominator, is_coded in counts %}
    select
        '{{ mart }}' as mart,
        {{ disclosure_cell_key(key_columns) }} as cell_key,
        '{{ count_name }}' as count_name,
        cast({{ count_name }} as bigint) as count_value,
        {%- if denominator %}
        '{{ denominator }}' as denominator_name,
        cast({{ denominator }} as bigint) as denominator_value,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as denominator_name,
        cast(null as bigint) as denominator_value,
        {%- endif %}
        {{ 'true' if is_coded else 'false' }} as is_coded_rate,
        {{ unit_total }} as is_unit_total
    from {{ relation }}
    where {{ where }}{% if count_name != 'n_students' %} and {{ count_name }} is not null{% endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}


{#- Members of sum relations for int_disclosure__relations: for every group of `relation` by
    `line_columns` (and each count), `+1` for each member row where `member` holds and `-1` for
    the row where `total` holds, i.e. the members add up to the total. -#}
{% macro disclosure_sum_members(kind, mart, relation, key_columns, line_columns, counts, member, total, mart_column=none) %}
    {%- for count_name in counts %}
    select
        '{{ kind }}|{{ count_name }}|' || {{ disclosure_cell_key(line_columns) }} as relation_id,
        {{ mart_column if mart_column else "'" ~ mart ~ "'" }} as mart,
        {{ disclosure_cell_key(key_columns) }} as cell_key,
        '{{ count_name }}' as count_name,
        case when {{ total }} then -1 else 1 end as coefficient,
        '=' as declared_sense
    from {{ relation }}
    where ({{ member }}) or ({{ total }})
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}


{#- The pattern of one protected mart, one row per cell: `cell_key` and, for each count, the
    boolean is_<count>_hidden (int_disclosure__pattern). -#}
{% macro disclosure_flags(mart, counts) %}
    select
        cell_key,
        {%- for count_name in counts %}
        max(case when count_name = '{{ count_name }}' and is_hidden then 1 else 0 end) = 1
            as is_{{ count_name }}_hidden{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_disclosure__pattern') }}
    where mart = '{{ mart }}'
    group by cell_key
{% endmacro %}


{#- Every group of every unit as a row (counts 0 where it has no students, `other_columns` null):
    a row that exists only where a group has students would tell an outsider it has at least
    one, and a total at least as many as the units that list it. Units are the combinations of
    `unit_columns` in `relation`; groups those of `group_columns` seen anywhere in it. -#}
{% macro disclosure_grid(relation, unit_columns, group_columns, count_columns, other_columns=[]) %}
    {%- set sides = [] %}
    {%- for column in unit_columns %}{% do sides.append(('units', column)) %}{% endfor %}
    {%- for column in group_columns %}{% do sides.append(('grid_groups', column)) %}{% endfor %}
    select
        {%- for side, column in sides %}
        {{ side }}.{{ column }},
        {%- endfor %}
        {%- for column in count_columns %}
        coalesce(counted.{{ column }}, 0) as {{ column }}{% if not loop.last or other_columns %},{% endif %}
        {%- endfor %}
        {%- for column in other_columns %}
        counted.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from (select distinct {{ unit_columns | join(', ') }} from {{ relation }}) as units
    cross join (select distinct {{ group_columns | join(', ') }} from {{ relation }}) as grid_groups
    left join {{ relation }} as counted
        on {% for side, column in sides %}{{ side }}.{{ column }} = counted.{{ column }}{% if not loop.last %}
        and {% endif %}{% endfor %}
{% endmacro %}
