-- What: in every published subgroup table, no row (a unit's groups of one type with the unit's
-- all-students total) and no column (one group across the schools, with the district's row)
-- holds exactly one hidden cell: neither a suppressed group (is_suppressed) nor a count or rate
-- hidden alone (top/bottom-coded or withheld). The grade-8 algebra school and district marts are
-- checked as one table, since the district's counts are the sums of the schools'.
-- When it matters: a lone hidden cell is the total minus the shown cells, so a failure means a
-- published mart discloses a small group or a coded count.
-- How to resolve: raise var p20:suppression_rounds (each round hides the next-smallest cell of
-- every line with a lone hidden cell, macros/subgroups.sql); if the count does not stop
-- growing, look for a line whose cells the rule cannot reach (a unit with no total row).
with algebra as (
    select
        school_year,
        school_code as unit_code,
        subgroup_type,
        subgroup_value,
        is_suppressed,
        n_took_algebra1 is null as is_took_algebra1_hidden,
        n_passed_algebra1 is null as is_passed_algebra1_hidden,
        n_ready is null as is_ready_hidden
    from {{ ref('agg_grade8_algebra__school_subgroup') }}
    union all
    select
        school_year,
        'district' as unit_code,
        subgroup_type,
        subgroup_value,
        is_suppressed,
        n_took_algebra1 is null as is_took_algebra1_hidden,
        n_passed_algebra1 is null as is_passed_algebra1_hidden,
        n_ready is null as is_ready_hidden
    from {{ ref('agg_grade8_algebra__district_subgroup') }}
),

gaps as (
    select
        school_year,
        subject,
        subgroup_type,
        subgroup_value,
        is_suppressed,
        pct_met is null as is_met_hidden
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

{{ lone_hidden_lines('agg_grade8_algebra', 'algebra', ['school_year'], 'unit_code', across_units=true,
    flags=['is_suppressed', 'is_took_algebra1_hidden', 'is_passed_algebra1_hidden', 'is_ready_hidden']) }}
union all
{{ lone_hidden_lines('agg_achievement_gaps', 'gaps', ['school_year', 'subject'],
    flags=['is_suppressed', 'is_met_hidden']) }}
union all
{{ lone_hidden_lines('agg_positive_outliers', 'outliers', [], 'school_code') }}
