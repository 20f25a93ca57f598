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


{#- Disclosure control for a subgroup aggregate with a column n_students: a group of fewer than
    p20:min_group_size students is suppressed, and so is the next-smallest group of the same
    subgroup type whenever exactly one is, so that a suppressed count cannot be recovered by
    subtracting the published ones from the total (FORMATS.md, "Disclosure rules in use").
    Returns every column of `relation` plus is_suppressed. -#}
{% macro with_suppression(relation, partition_by) %}
    {%- set partition = partition_by | join(', ') -%}
    select
        ranked.*,
        ranked.is_small
        or (ranked.n_small_in_type = 1 and ranked.n_groups_in_type > 1 and ranked.size_rank = 1)
            as is_suppressed
    from (
        select
            flagged.*,
            sum(case when flagged.is_small then 1 else 0 end) over (partition by {{ partition }}) as n_small_in_type,
            count(*) over (partition by {{ partition }}) as n_groups_in_type,
            row_number() over (
                partition by {{ partition }}, flagged.is_small
                order by flagged.n_students, flagged.subgroup_value
            ) as size_rank
        from (
            select *, n_students < {{ var('p20:min_group_size') }} as is_small
            from {{ relation }}
        ) as flagged
    ) as ranked
{% endmacro %}


{#- count / n as a percentage with one decimal, null when suppressed. -#}
{% macro published_pct(count_column, n_column='n_students') %}
    case when not is_suppressed and {{ n_column }} > 0
        then round(100.0 * {{ count_column }} / {{ n_column }}, 1) end
{% endmacro %}
