{#- The one place a source becomes SQL, per engine. Sources live in the warehouse zone as files
    (landed Parquet, ledger JSON lines), not as tables in a catalogue.
    DuckDB: the source itself; dbt-duckdb renders its meta.external_location (read_parquet over
    the hive-partitioned load folders, read_json over the ledger).
    Spark: Spark ignores external_location, so the files are read by path: parquet.`<dir>` reads
    the extract's folder recursively and discovers school_year= and load_id= as partition
    columns (no glob); json.`<file>` reads the ledger. source() is still called, so lineage and
    freshness stay in the graph. -#}
{% macro source_relation(relation) %}
    {{ return(adapter.dispatch('source_relation', 'p20')(relation)) }}
{% endmacro %}

{% macro default__source_relation(relation) %}
    {{ return(relation) }}
{% endmacro %}

{% macro spark__source_relation(relation) %}
    {%- set root = env_var('P20_WAREHOUSE_DIR', 'warehouse') -%}
    {%- if relation.source_name == 'ledger' -%}
        {{ return('json.`' ~ root ~ '/ledger/' ~ relation.identifier ~ '.jsonl`') }}
    {%- endif -%}
    {{ return('parquet.`' ~ root ~ '/landed/' ~ relation.identifier ~ '`') }}
{% endmacro %}

{#- An instant (a point in time, shown in UTC). DuckDB: timestamp with time zone. Spark's
    timestamp is already an instant (TIMESTAMP_LTZ, session time zone UTC in profiles.yml). -#}
{% macro type_instant() %}
    {{ return(adapter.dispatch('type_instant', 'p20')()) }}
{% endmacro %}

{% macro default__type_instant() %}
    {{ return('timestamp with time zone') }}
{% endmacro %}

{% macro spark__type_instant() %}
    {{ return('timestamp') }}
{% endmacro %}
