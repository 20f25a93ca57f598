{#- How many files match a glob, at run time (1 while dbt parses, so a guarded branch that calls
    source() is seen and the lineage kept). Used by current_load_if_landed and ledger_or_empty. -#}
{% macro count_files(glob) %}
    {%- if not execute -%}
        {{ return(1) }}
    {%- endif -%}
    {{ return(adapter.dispatch('count_files', 'p20')(glob)) }}
{% endmacro %}

{% macro default__count_files(glob) %}
    {{ return(run_query("select count(*) from glob('" ~ glob ~ "')").columns[0].values()[0]) }}
{% endmacro %}

{#- Spark has no glob() and fails on a path that does not exist, so it lists the folder above
    the glob's fixed part (landed/ or ledger/, which always exist) with the binaryFile reader
    (file names only: the content column is never read) and matches the glob as a regex. -#}
{% macro spark__count_files(glob) %}
    {%- set parts = glob.split('/') -%}
    {%- set state = namespace(fixed=0, open=true) -%}
    {%- for part in parts -%}
        {%- if '*' in part -%}{%- set state.open = false -%}{%- endif -%}
        {%- if state.open -%}{%- set state.fixed = state.fixed + 1 -%}{%- endif -%}
    {%- endfor -%}
    {%- set folder = parts[:state.fixed - 1] | join('/') -%}
    {#- the rest of the glob as a regex without backslashes (Spark unescapes string literals) -#}
    {%- set pattern = (parts[state.fixed - 1:] | join('/')).replace('.', '[.]').replace('*', '[^/]*') -%}
    {%- do run_query(
        "create or replace temporary view p20_count_files using binaryFile options (path '"
        ~ folder ~ "', recursiveFileLookup 'true')"
    ) -%}
    {{ return(run_query(
        "select count(*) from p20_count_files where path rlike '/" ~ pattern ~ "$'"
    ).columns[0].values()[0]) }}
{% endmacro %}
