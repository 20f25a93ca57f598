{#- The warehouse zone's folder, absolute: the folder of the DuckDB file the profile opens.
    profiles.yml is the one place that makes P20_WAREHOUSE_DIR absolute (against the repository
    root, never the working directory); everything on the dbt side reads it back from there.
    YAML cannot call a macro, so dbt_project.yml's target-path and the sources'
    external_location write the same `target.path.rsplit('/', 1)[0]`. -#}
{% macro warehouse_dir() %}
    {{ return(target.path.rsplit('/', 1)[0]) }}
{% endmacro %}

{#- on-run-start: refuse a warehouse path that is still relative (dbt given a relative
    --profiles-dir, e.g. `--profiles-dir .`): the views would hold paths that only work from
    the folder dbt ran in. -#}
{% macro require_absolute_warehouse() %}
    {%- if not target.path.startswith('/') -%}
        {{ exceptions.raise_compiler_error("profiles.yml: the warehouse path '" ~ target.path
            ~ "' is relative, so the staging views would only work from this folder; run dbt from the"
            ~ " repository root without --profiles-dir, give --profiles-dir as an absolute path, or set"
            ~ " P20_WAREHOUSE_DIR to an absolute path") }}
    {%- endif -%}
{% endmacro %}
