{#- The lines (macros/subgroups.sql, subgroup_table_lines) of the published subgroup tables in
    `cells` in which exactly one cell is hidden by a boolean column of `flags`: one row per such
    line and flag, for singular tests (none should exist). `label` names the tables. -#}
{% macro lone_hidden_lines(label, cells, table_columns, unit_column=none, across_units=false, flags=['is_suppressed']) %}
    {%- set line = ['line_kind'] -%}
    {%- for column in table_columns %}{% do line.append('line_' ~ column) %}{% endfor -%}
    {%- do line.extend(['line_unit', 'line_type', 'line_value']) -%}
    {%- for flag in flags %}
    select
        '{{ label }}' as tables,
        '{{ flag }}' as hidden_by,
        line_kind,
        {%- set parts = [] %}
        {%- for column in table_columns %}
        {%- if not loop.first %}{% do parts.append("' '") %}{% endif %}
        {%- do parts.append('cast(line_' ~ column ~ ' as ' ~ dbt.type_string() ~ ')') %}
        {%- endfor %}
        {{ dbt.concat(parts) if parts | length > 1 else (parts[0] if parts else "''") }} as line_table,
        line_unit,
        line_type,
        line_value,
        count(*) as n_cells
    from ({{ subgroup_table_lines(cells, table_columns, unit_column, across_units) }}) as lines
    group by {{ line | join(', ') }}
    having sum(case when {{ flag }} then 1 else 0 end) = 1
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}
