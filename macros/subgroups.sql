{#- One row per input row and reporting subgroup: the long form that subgroup aggregates group
    by. The subgroups are the algebra study's (all students; race/ethnicity; gender; EL
    status; students with disabilities; socioeconomically disadvantaged). -#}
{% macro subgroup_rows(relation, columns) %}
    {%- set subgroups = [
        ('all', "'all'"),
        ('race_ethnicity', "coalesce(race_ethnicity, 'unknown')"),
        ('gender', "coalesce(gender, 'unknown')"),
        ('el_status', "coalesce(el_status, 'unknown')"),
        ('swd', "case when is_swd then 'Y' else 'N' end"),
        ('sed', "case when is_sed then 'Y' else 'N' end"),
    ] -%}
    {%- for subgroup_type, value in subgroups %}
    select
        {{ columns | join(',\n        ') }},
        '{{ subgroup_type }}' as subgroup_type,
        {{ value }} as subgroup_value
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}


{#- Disclosure control for subgroup aggregates (FORMATS.md, "Disclosure rules in use").

    The cells of a subgroup aggregate form tables: for one `table_columns` value (a school year,
    a school year and subject ...) and one subgroup type, a unit (a school, or the district) has
    one row of cells, one per group of the type, whose total is the unit's `all` cell. When the
    same groups are published for several units and for their sum (`across_units`: the schools
    and the district), each group is also a column of cells across the units, whose total is
    the district's cell. A hidden cell alone in such a line (a row with its total, or a column
    with the district) can be recovered by subtracting the others from the total, so whenever
    exactly one cell of a line is hidden, the smallest shown cell of that line is hidden with
    it. Hiding one cell can leave another line with a lone hidden cell, so the rule is applied
    var p20:suppression_rounds times, every line at once (portable SQL: no recursion); the
    singular test assert_no_lone_hidden_cell_in_subgroup_tables fails if a lone hidden cell
    remains.

    complementary_suppression emits CTEs (to paste into a model's with-list) ending in one named
    `name`: every column of `cells` plus, for each (primary, result) in `flags`, the boolean
    column `result`: the cells hidden by the boolean column `primary` and those hidden with
    them. `cells` needs the columns table_columns, unit_column (if any; a district row among
    school rows needs a unit value of its own), subgroup_type, subgroup_value and n_students
    (the complementary cell is the line's smallest group). -#}
{% macro complementary_suppression(name, cells, table_columns, unit_column=none, across_units=false, flags=[('is_small', 'is_suppressed')]) %}
    {%- set units = [unit_column] if unit_column else [] -%}
    {%- set cell_key = table_columns + units + ['subgroup_type', 'subgroup_value'] -%}
    {%- set line = ['line_kind'] -%}
    {%- for column in table_columns %}{% do line.append('line_' ~ column) %}{% endfor -%}
    {%- do line.extend(['line_unit', 'line_type', 'line_value']) -%}
    {%- set rounds = var('p20:suppression_rounds') | int -%}
{{ name }}__lines as (
    {{ subgroup_table_lines(cells, table_columns, unit_column, across_units) }}
),

{{ name }}__round_0 as (
    select
        {% for column in cell_key %}{{ column }},
        {% endfor -%}
        {%- for primary, result in flags %}
        {{ primary }} as {{ result }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ cells }}
),
{% for round in range(1, rounds + 1) %}
{{ name }}__round_{{ round }} as (
    select
        {% for column in cell_key %}previous.{{ column }},
        {% endfor -%}
        {%- for primary, result in flags %}
        previous.{{ result }} or coalesce(chosen.{{ result }}, false) as {{ result }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ name }}__round_{{ round - 1 }} as previous
    left join (
        select
            {% for column in cell_key %}{{ column }},
            {% endfor -%}
            {%- for primary, result in flags %}
            max(case when {{ result }}_chosen then 1 else 0 end) = 1 as {{ result }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from (
            -- in each line whose only hidden cell is another, the smallest shown cell; of equal
            -- ones, the one that leaves fewest lines with a lone hidden cell
            select
                {% for column in cell_key %}{{ column }},
                {% endfor -%}
                {%- for primary, result in flags %}
                not {{ result }}
                and {{ result }}_in_line = 1
                and row_number() over (
                    partition by {% for column in line %}{{ column }}, {% endfor %}{{ result }}
                    order by n_students, {{ result }}_cost{% for column in cell_key %}, {{ column }}{% endfor %}
                ) = 1 as {{ result }}_chosen{% if not loop.last %},{% endif %}
                {%- endfor %}
            from (
                select
                    in_lines.*,
                    {%- for primary, result in flags %}
                    sum(case
                        when {{ result }}_in_line = 0 then 1
                        when {{ result }}_in_line = 1 then -1
                        else 0
                    end) over (
                        partition by {% for column in cell_key %}{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
                    ) as {{ result }}_cost{% if not loop.last %},{% endif %}
                    {%- endfor %}
                from (
                    select
                        {% for column in line + cell_key %}lines.{{ column }},
                        {% endfor -%}
                        lines.n_students,
                        {%- for primary, result in flags %}
                        hidden.{{ result }},
                        sum(case when hidden.{{ result }} then 1 else 0 end) over (
                            partition by {% for column in line %}lines.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
                        ) as {{ result }}_in_line{% if not loop.last %},{% endif %}
                        {%- endfor %}
                    from {{ name }}__lines as lines
                    inner join {{ name }}__round_{{ round - 1 }} as hidden
                        on {% for column in cell_key %}lines.{{ column }} = hidden.{{ column }}{% if not loop.last %}
                        and {% endif %}{% endfor %}
                ) as in_lines
            ) as costed
        ) as marked
        group by {{ cell_key | join(', ') }}
    ) as chosen
        on {% for column in cell_key %}previous.{{ column }} = chosen.{{ column }}{% if not loop.last %}
        and {% endif %}{% endfor %}
),
{% endfor %}
{{ name }} as (
    select
        cells.*,
        {%- for primary, result in flags %}
        final_round.{{ result }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ cells }} as cells
    inner join {{ name }}__round_{{ rounds }} as final_round
        on {% for column in cell_key %}cells.{{ column }} = final_round.{{ column }}{% if not loop.last %}
        and {% endif %}{% endfor %}
)
{%- endmacro %}


{#- The lines of the subgroup tables of `cells` (see complementary_suppression): one row per
    line and member cell, with every column of the cell. A line is keyed by line_kind ('row' or
    'column'), the table_columns, line_unit (the row's unit; '' for a column), line_type and
    line_value (the column's group; '' for a row). -#}
{% macro subgroup_table_lines(cells, table_columns, unit_column=none, across_units=false) %}
    {%- set units = [unit_column] if unit_column else [] -%}
    -- a unit's groups of one type, with the unit's total (its 'all' cell)
    select
        'row' as line_kind,
        {% for column in table_columns %}cells.{{ column }} as line_{{ column }},
        {% endfor -%}
        {{ 'cells.' ~ unit_column if unit_column else "''" }} as line_unit,
        types.subgroup_type as line_type,
        '' as line_value,
        cells.*
    from {{ cells }} as cells
    inner join (
        select distinct {{ (table_columns + units + ['subgroup_type']) | join(', ') }}
        from {{ cells }}
        where subgroup_type <> 'all'
    ) as types
        on {% for column in table_columns + units %}cells.{{ column }} = types.{{ column }}
        and {% endfor %}(cells.subgroup_type = types.subgroup_type or cells.subgroup_type = 'all')
    {%- if across_units %}
    union all
    -- one group across the units (the schools and the district)
    select
        'column' as line_kind,
        {% for column in table_columns %}cells.{{ column }} as line_{{ column }},
        {% endfor -%}
        '' as line_unit,
        cells.subgroup_type as line_type,
        cells.subgroup_value as line_value,
        cells.*
    from {{ cells }} as cells
    {%- endif %}
{% endmacro %}


{#- Top/bottom coding (FORMATS.md): the code of a rate near 0% or 100%, '<=b' when count / n is
    at most b percent and '>=(100-b)' when it is at least 100 - b percent, else null. b is the
    bound of the band of var p20:pct_coding_bands with the largest min_students not above n
    (groups smaller than every band take the first band's). Exact integer arithmetic, before
    any rounding. -#}
{% macro pct_code(count_column, n_column) %}
    {%- set bands = var('p20:pct_coding_bands') | sort(attribute='min_students', reverse=true) -%}
    case
        {%- for band in bands %}
        {%- set guard = (n_column ~ ' >= ' ~ band.min_students) if not loop.last else 'true' %}
        when {{ guard }} and 100 * {{ count_column }} <= {{ band.bound_pct }} * {{ n_column }}
            then '<={{ band.bound_pct }}'
        when {{ guard }} and 100 * ({{ n_column }} - {{ count_column }}) <= {{ band.bound_pct }} * {{ n_column }}
            then '>={{ 100 - band.bound_pct }}'
        when {{ guard }} then null
        {%- endfor %}
    end
{%- endmacro %}


{#- count / n as a percentage with one decimal; null when `hidden` (suppressed, top/bottom-coded
    or withheld with a coded cell). -#}
{% macro published_pct(count_column, n_column, hidden) %}
    case when not {{ hidden }} and {{ n_column }} > 0
        then round(100.0 * {{ count_column }} / {{ n_column }}, 1) end
{% endmacro %}


{#- What stands in for a rate that published_pct leaves null on a shown row: its code ('<=b',
    '>=(100-b)'), or 'withheld' (hidden so that a coded or small count elsewhere in the table
    cannot be recovered from totals, or its own denominator is under p20:min_group_size). Null
    when the rate is published, on suppressed rows (is_suppressed says why), and when the
    denominator is 0 (no rate exists). -#}
{% macro coded_pct(count_column, n_column, hidden, is_suppressed='is_suppressed') %}
    case
        when {{ is_suppressed }} or not {{ hidden }} or {{ n_column }} = 0 then null
        when {{ n_column }} >= {{ var('p20:min_group_size') }} and {{ pct_code(count_column, n_column) }} is not null
            then {{ pct_code(count_column, n_column) }}
        else 'withheld'
    end
{% endmacro %}
