{#- Passes when every non-null combination of `columns` in the model exists in `to` as
    `to_columns` (same names when not given): a composite foreign key. -#}
{% test relationships_multi(model, to, columns, to_columns=none) %}
    {%- set parent_columns = to_columns or columns -%}
    select child.*
    from {{ model }} as child
    where {% for c in columns %}child.{{ c }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
      and not exists (
        select 1
        from {{ to }} as parent
        where {% for c in columns %}parent.{{ parent_columns[loop.index0] }} = child.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}
      )
{% endtest %}
