{#- After a green full `dbt build`, publish the warehouse as the snapshot researchers open
    ($P20_WAREHOUSE_DIR/published/p20.duckdb; scripts/p20/publish.py says why and gives SQL the
    two file operations, p20_snapshot_prepare and p20_snapshot_replace): copy the tables of the
    schemas var `p20:published_schemas` names (the marts and the rule tables) into a new file (in
    the storage version the profile sets for this connection), record which build it is (table
    main.published_build), and rename it over the old snapshot in one step. Each table is
    written afresh (create table ... as select), never copied as a whole database and pruned:
    a dropped table's blocks could stay readable in the file. A view in a published schema
    stops the publish (it would read the build file's staging, which the snapshot has not
    got). A failing, partial (--select/--exclude) or non-build run publishes nothing, so the
    snapshot is always the last green full build. -#}
{% macro publish_snapshot(results) %}
    {%- if execute and flags.WHICH == 'build' -%}
        {#- as p20.release.GREEN_STATUSES; 'no-op' is an exposure, which dbt build does not run -#}
        {%- set green = ['success', 'pass', 'skipped', 'warn', 'no-op'] -%}
        {%- set failed = results | rejectattr('status', 'in', green) | list -%}
        {%- set partial = invocation_args_dict.get('select') or invocation_args_dict.get('exclude')
            or invocation_args_dict.get('selector') -%}
        {%- if failed or partial -%}
            {{ log("publish_snapshot: not published (" ~ ("a partial build" if partial else failed | length ~ " nodes not green") ~ "); the snapshot stays the last green full build", info=True) }}
        {%- else -%}
            {%- set tmp = run_query("select p20_snapshot_prepare('" ~ warehouse_dir() ~ "', '"
                ~ invocation_id ~ "')").columns[0].values()[0] -%}
            {%- do run_query("attach '" ~ tmp ~ "' as p20_snapshot") -%}
            {%- set schemas = var('p20:published_schemas') -%}
            {%- set in_schemas = "table_catalog = '" ~ target.database ~ "' and table_schema in ('"
                ~ schemas | join("', '") ~ "')" -%}
            {%- set views = run_query("select table_schema || '.' || table_name from information_schema.tables where "
                ~ in_schemas ~ " and table_type <> 'BASE TABLE' order by 1").columns[0].values() -%}
            {%- if views | length > 0 -%}
                {{ exceptions.raise_compiler_error("publish_snapshot: " ~ views | join(", ")
                    ~ " is a view; a published schema holds tables only (materialize it as a table)") }}
            {%- endif -%}
            {%- set tables = run_query("select table_schema, table_name from information_schema.tables where "
                ~ in_schemas ~ " order by 1, 2") -%}
            {%- for schema in schemas -%}
                {%- do run_query("create schema p20_snapshot." ~ adapter.quote(schema)) -%}
            {%- endfor -%}
            {%- for row in tables.rows -%}
                {%- set name = adapter.quote(row[0]) ~ "." ~ adapter.quote(row[1]) -%}
                {%- do run_query("create table p20_snapshot." ~ name ~ " as select * from "
                    ~ adapter.quote(target.database) ~ "." ~ name) -%}
            {%- endfor -%}
            {#- create table as select drops comments: carry the build's table and column
                comments (persist_docs) over, so the snapshot documents itself too. -#}
            {%- set in_build = "database_name = '" ~ target.database ~ "' and schema_name in ('"
                ~ schemas | join("', '") ~ "') and comment is not null and comment <> ''" -%}
            {%- set comments = run_query(
                "select schema_name, table_name, null as column_name, comment from duckdb_tables() where " ~ in_build
                ~ " union all select schema_name, table_name, column_name, comment from duckdb_columns() where " ~ in_build) -%}
            {#- one transaction: DuckDB would commit each comment on its own (tiny, 419 comments:
                the hook took 4.2 s so, 1.6 s in one transaction, 0.5 s with no comments) -#}
            {%- do run_query("begin transaction") -%}
            {%- for row in comments.rows -%}
                {%- set name = "p20_snapshot." ~ adapter.quote(row[0]) ~ "." ~ adapter.quote(row[1]) -%}
                {%- set text = "'" ~ row[3] | replace("'", "''") ~ "'" -%}
                {%- if row[2] is none -%}
                    {%- do run_query("comment on table " ~ name ~ " is " ~ text) -%}
                {%- else -%}
                    {%- do run_query("comment on column " ~ name ~ "." ~ adapter.quote(row[2]) ~ " is " ~ text) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do run_query("commit") -%}
            {%- do run_query("create table p20_snapshot.main.published_build as select '"
                ~ invocation_id ~ "' as invocation_id, cast('" ~ run_started_at.isoformat()
                ~ "' as timestamptz) as build_started_at, current_timestamp as published_at") -%}
            {%- do run_query("checkpoint p20_snapshot") -%}
            {%- do run_query("detach p20_snapshot") -%}
            {%- set final = run_query("select p20_snapshot_replace('" ~ tmp ~ "')").columns[0].values()[0] -%}
            {{ log("publish_snapshot: " ~ final ~ " is now build " ~ invocation_id ~ " (" ~ tables.rows | length
                ~ " tables of " ~ schemas | join(", ") ~ ")", info=True) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
