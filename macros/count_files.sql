{#- How many files match a glob, at run time (1 while dbt parses, so a guarded branch that calls
    source() is seen and the lineage kept). Used by current_load_if_landed and ledger_or_empty. -#}
{% macro count_files(glob) %}
    {%- if not execute -%}
        {{ return(1) }}
    {%- endif -%}
    {{ return(run_query("select count(*) from glob('" ~ glob ~ "')").columns[0].values()[0]) }}
{% endmacro %}
