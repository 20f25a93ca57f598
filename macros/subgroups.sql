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


{#- count / n as a percentage with one decimal; null when `hidden` (the count or its denominator
    is hidden: int_disclosure__pattern). -#}
{% macro published_pct(count_column, n_column, hidden) %}
    case when not ({{ hidden }}) and {{ n_column }} > 0
        then round(100.0 * {{ count_column }} / {{ n_column }}, 1) end
{% endmacro %}


{#- What stands in for a rate that published_pct leaves null on a shown row: its code ('<=b',
    '>=(100-b)'), or 'withheld' (hidden so that a coded or small count elsewhere cannot be
    solved for, or its own denominator is under p20:min_group_size). Null when the rate is
    published, when the denominator is hidden (a suppressed row: is_suppressed says why), and
    when the denominator is 0 (no rate exists). -#}
{% macro coded_pct(count_column, n_column, is_count_hidden, is_n_hidden) %}
    case
        when ({{ is_n_hidden }}) or not ({{ is_count_hidden }}) or {{ n_column }} = 0 then null
        when {{ n_column }} >= {{ var('p20:min_group_size') }} and {{ pct_code(count_column, n_column) }} is not null
            then {{ pct_code(count_column, n_column) }}
        else 'withheld'
    end
{% endmacro %}
