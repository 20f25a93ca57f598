{#- The grade points of the mark a var names (e.g. p20:algebra_pass_min_mark = C), as a scalar
    subquery on seed marks: "at or above C" becomes grade_points >= this. -#}
{% macro grade_points_of_var(var_name) %}
    (select grade_points from {{ ref('marks') }} where final_grade = '{{ var(var_name) }}')
{% endmacro %}
