{#- Schemas are the layer names (staging, intermediate, marts, seeds), so a researcher writes
    `marts.fct_student_years`, not `main_marts.fct_student_years`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
