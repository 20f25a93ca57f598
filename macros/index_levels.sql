{#- How many of the nine cut points cut_1..cut_9 of `cuts` the value reaches (0-9). -#}
{% macro cuts_reached(value, cuts) %}
    ({%- for i in range(1, 10) %}case when {{ value }} >= {{ cuts }}.cut_{{ i }} then 1 else 0 end{{ ' + ' if not loop.last }}{% endfor -%})
{% endmacro %}
