{#- current_load over an extract that a warehouse may not have loaded (the linked extracts come
    from `p20 link`, an optional step): with no landed file yet, an empty relation with the
    same columns (all text, as landed), so staging and the marts build either way. -#}
{% macro current_load_if_landed(extract_name, columns) %}
    {%- set glob = warehouse_dir() ~ '/landed/' ~ extract_name ~ '/school_year=*/load_id=*/*.parquet' -%}
    {%- if count_files(glob) > 0 -%}
        {{ current_load(source('landed', extract_name)) }}
    {%- else -%}
        select
            {%- for column in columns %}
            cast(null as varchar) as {{ column }},
            {%- endfor %}
            cast(null as integer) as school_year,
            cast(null as varchar) as load_id,
            cast(null as timestamp) as loaded_at
        where false
    {%- endif -%}
{% endmacro %}
