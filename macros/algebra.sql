{#- The grade-8 algebra subgroup aggregate, at school level (group_columns = school_year,
    school_code) or district level (school_year): one model each, one definition. -#}
{% macro grade8_algebra_subgroup_aggregate(group_columns) %}
with students as (
    select * from {{ ref('fct_grade8_algebra') }}
),

long as (
    {{ subgroup_rows('students', group_columns + [
        'took_algebra1_by_grade8', 'passed_algebra1_by_grade8', 'is_algebra_ready'
    ]) }}
),

counted as (
    select
        {{ group_columns | join(', ') }},
        subgroup_type,
        subgroup_value,
        count(*) as n_students,
        sum(case when took_algebra1_by_grade8 then 1 else 0 end) as n_took_algebra1,
        sum(case when passed_algebra1_by_grade8 then 1 else 0 end) as n_passed_algebra1,
        sum(case when is_algebra_ready then 1 else 0 end) as n_ready,
        count(is_algebra_ready) as n_ready_known
    from long
    group by {{ group_columns | join(', ') }}, subgroup_type, subgroup_value
),

suppressed as (
    {{ with_suppression('counted', group_columns + ['subgroup_type']) }}
),

final as (
    select
        {{ group_columns | join(', ') }},
        subgroup_type,
        subgroup_value,
        cast(case when not is_suppressed then n_students end as integer) as n_students,
        cast(case when not is_suppressed then n_took_algebra1 end as integer) as n_took_algebra1,
        {{ published_pct('n_took_algebra1') }} as pct_took_algebra1,
        cast(case when not is_suppressed then n_passed_algebra1 end as integer) as n_passed_algebra1,
        {{ published_pct('n_passed_algebra1') }} as pct_passed_algebra1,
        cast(case when not is_suppressed then n_ready end as integer) as n_ready,
        cast(case when not is_suppressed then n_ready_known end as integer) as n_ready_known,
        case when n_ready_known >= {{ var('p20:min_group_size') }}
            then {{ published_pct('n_ready', 'n_ready_known') }} end as pct_ready,
        is_suppressed
    from suppressed
)

select * from final
{% endmacro %}
