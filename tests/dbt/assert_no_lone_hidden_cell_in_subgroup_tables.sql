-- What: in every published subgroup table, no row (a unit's groups of one type with the unit's
-- all-students total) and no column (one group across the schools, with the district's row)
-- holds exactly one suppressed cell (is_suppressed). The grade-8 algebra school and district marts are
-- checked as one table, since the district's counts are the sums of the schools'.
-- When it matters: a lone hidden cell is the total minus the shown cells, so a failure means a
-- published mart discloses a small group.
-- How to resolve: raise var p20:suppression_rounds (each round hides the next-smallest cell of
-- every line with a lone hidden cell, macros/subgroups.sql); if the count does not stop
-- growing, look for a line whose cells the rule cannot reach (a unit with no total row).
with algebra as (
    select
        school_year,
        school_code as unit_code,
        subgroup_type,
        subgroup_value,
        is_suppressed
    from {{ ref('agg_grade8_algebra__school_subgroup') }}
    union all
    select
        school_year,
        'district' as unit_code,
        subgroup_type,
        subgroup_value,
        is_suppressed
    from {{ ref('agg_grade8_algebra__district_subgroup') }}
),

gaps as (
    select
        school_year,
        subject,
        subgroup_type,
        subgroup_value,
        is_suppressed
    from {{ ref('agg_achievement_gaps__district_subgroup') }}
),

outliers as (
    select
        school_code,
        subgroup_type,
        subgroup_value,
        is_suppressed
    from {{ ref('agg_positive_outliers__school_race') }}
)

{{ lone_hidden_lines('agg_grade8_algebra', 'algebra', ['school_year'], 'unit_code', across_units=true) }}
union all
{{ lone_hidden_lines('agg_achievement_gaps', 'gaps', ['school_year', 'subject']) }}
union all
{{ lone_hidden_lines('agg_positive_outliers', 'outliers', [], 'school_code') }}
