{#- After a green full `dbt build`, publish the warehouse as the snapshot researchers open
    ($P20_WAREHOUSE_DIR/published/p20.duckdb; scripts/p20/publish.py says why and gives SQL the
    two file operations, p20_snapshot_prepare and p20_snapshot_replace): copy every schema into
    a new file (in the storage version the profile sets for this connection), record which
    build it is (table main.published_build), and rename it over the old snapshot in one step. A failing, partial (--select/--exclude) or non-build run publishes nothing, so the
    snapshot is always the last green full build. -#}
{% macro publish_snapshot(results) %}
    {%- if execute and flags.WHICH == 'build' -%}
        {%- set green = ['success', 'pass', 'skipped', 'warn'] -%}
        {%- set failed = results | rejectattr('status', 'in', green) | list -%}
        {%- set partial = invocation_args_dict.get('select') or invocation_args_dict.get('exclude')
            or invocation_args_dict.get('selector') -%}
        {%- if failed or partial -%}
            {{ log("publish_snapshot: not published (" ~ ("a partial build" if partial else failed | length ~ " nodes not green") ~ "); the snapshot stays the last green full build", info=True) }}
        {%- else -%}
            {%- set tmp = run_query("select p20_snapshot_prepare('" ~ invocation_id ~ "')").columns[0].values()[0] -%}
            {%- do run_query("attach '" ~ tmp ~ "' as p20_snapshot") -%}
            {%- do run_query("copy from database " ~ target.database ~ " to p20_snapshot") -%}
            {%- do run_query("create table p20_snapshot.main.published_build as select '"
                ~ invocation_id ~ "' as invocation_id, cast('" ~ run_started_at.isoformat()
                ~ "' as timestamptz) as build_started_at, current_timestamp as published_at") -%}
            {%- do run_query("checkpoint p20_snapshot") -%}
            {%- do run_query("detach p20_snapshot") -%}
            {%- set final = run_query("select p20_snapshot_replace('" ~ tmp ~ "')").columns[0].values()[0] -%}
            {{ log("publish_snapshot: " ~ final ~ " is now build " ~ invocation_id, info=True) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
