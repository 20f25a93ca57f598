{#- The current load of a landed extract: for each school year, the newest validated load.
    Load ids sort by time and only validated loads land, so the newest landed one supersedes
    the rest (which stay on disk for audit). -#}
{% macro current_load(relation) %}
    select *
    from {{ p20.source_relation(relation) }}
    where load_id in (
        select max(load_id)
        from {{ p20.source_relation(relation) }}
        group by school_year
    )
{% endmacro %}
