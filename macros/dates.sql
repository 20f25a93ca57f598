{#- Engine-specific date SQL lives here, dispatched, so models stay portable (DuckDB, Spark). -#}

{#- A CCYYMMDD string as a date; blank or malformed gives null. -#}
{% macro parse_yyyymmdd(column) %}
    {{ return(adapter.dispatch('parse_yyyymmdd', 'p20')(column)) }}
{% endmacro %}

{% macro default__parse_yyyymmdd(column) %}
    cast(try_strptime(nullif({{ column }}, ''), '%Y%m%d') as date)
{% endmacro %}

{% macro spark__parse_yyyymmdd(column) %}
    to_date(nullif({{ column }}, ''), 'yyyyMMdd')
{% endmacro %}

{#- ISO day of week: Monday = 1 ... Sunday = 7. -#}
{% macro iso_day_of_week(date_expr) %}
    {{ return(adapter.dispatch('iso_day_of_week', 'p20')(date_expr)) }}
{% endmacro %}

{% macro default__iso_day_of_week(date_expr) %}
    isodow({{ date_expr }})
{% endmacro %}

{#- Parenthesised whole: it is pasted into arithmetic (first_weekday_on_or_after), where an
    unbracketed "... % 7) + 1" turned "3 - isodow" into "3 - x + 1" (census day two days late). -#}
{% macro spark__iso_day_of_week(date_expr) %}
    (((dayofweek({{ date_expr }}) + 5) % 7) + 1)
{% endmacro %}

{#- The first given ISO weekday on or after a date. -#}
{% macro first_weekday_on_or_after(date_expr, iso_weekday) %}
    {{ p20.add_days(
        date_expr,
        '((' ~ iso_weekday ~ ' - ' ~ p20.iso_day_of_week(date_expr) ~ ' + 7) % 7)'
    ) }}
{% endmacro %}

{#- A date plus n days, still a date (dbt.dateadd gives a timestamp on some engines). -#}
{% macro add_days(date_expr, n) %}
    cast({{ dbt.dateadd('day', n, date_expr) }} as date)
{% endmacro %}
