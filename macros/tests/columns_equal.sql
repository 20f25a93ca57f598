{#- Rows where two columns disagree (nulls on both sides agree): for a derived value that must
    equal the value the source reported. -#}
{% test columns_equal(model, left, right) %}
    select *
    from {{ model }}
    where not ({{ left }} is not distinct from {{ right }})
{% endtest %}
