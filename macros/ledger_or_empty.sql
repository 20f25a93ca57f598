{#- A ledger source that may not exist yet (ledger/releases.jsonl appears with the first
    `p20 release`): with no file, an empty relation with the given typed columns, so staging
    and the marts build either way. -#}
{% macro ledger_or_empty(table_name, typed_columns) %}
    {%- set path = warehouse_dir() ~ '/ledger/' ~ table_name ~ '.jsonl' -%}
    {%- if count_files(path) > 0 -%}
        select * from {{ p20.source_relation(source('ledger', table_name)) }}
    {%- else -%}
        select
            {%- for column, data_type in typed_columns.items() %}
            cast(null as {{ data_type }}) as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        where false
    {%- endif -%}
{% endmacro %}
