-- Every count that a protected aggregate publishes or hides, with its true value: one row per
-- mart, cell (a published row) and count. A count's rate is top/bottom-coded (macros/subgroups.sql,
-- pct_code) when is_coded_rate; its denominator is another count of the same cell. The input of
-- int_disclosure__pattern; never published (its values are the true small counts).
{%- set algebra_counts = [
    ('n_students', none, false),
    ('n_took_algebra1', 'n_students', true),
    ('n_passed_algebra1', 'n_students', true),
    ('n_ready_known', 'n_students', false),
    ('n_ready', 'n_ready_known', true),
] %}
{%- set algebra_key = ['school_year', 'unit_code', 'subgroup_type', 'subgroup_value'] %}

with algebra as (
    select * from {{ ref('int_grade8_algebra__unit_counts') }}
),

measures as (
    select * from {{ ref('int_school_measures__counts') }}
),

outliers as (
    select * from {{ ref('int_positive_outliers__counts') }}
),

gaps as (
    select * from {{ ref('int_achievement_gaps__counts') }}
),

variables as (
    {{ disclosure_variables('agg_grade8_algebra__school_subgroup', 'algebra', algebra_key, algebra_counts,
        "subgroup_type = 'all'", "unit_code <> 'district'") }}
    union all
    {{ disclosure_variables('agg_grade8_algebra__district_subgroup', 'algebra', algebra_key, algebra_counts,
        "subgroup_type = 'all'", "unit_code = 'district'") }}
    union all
    {{ disclosure_variables('fct_school_measures', 'measures',
        ['school_year', 'school_code', 'reporting_group', 'measure'],
        [('n_students', none, false), ('n_counted', 'n_students', true)], "reporting_group = 'all'") }}
    union all
    {{ disclosure_variables('agg_positive_outliers__school_race', 'outliers',
        ['school_code', 'subgroup_type', 'subgroup_value'], [('n_students', none, false)], "subgroup_type = 'all'") }}
    union all
    {{ disclosure_variables('agg_achievement_gaps__district_subgroup', 'gaps',
        ['school_year', 'subject', 'subgroup_type', 'subgroup_value'],
        [('n_students', none, false), ('n_met', 'n_students', true)], "subgroup_type = 'all'") }}
),

coded as (
    select
        *,
        -- the code a rate would get, from the rule alone (null when not coded or when the
        -- denominator is under the minimum group size and no rate is shown)
        case
            when is_coded_rate and denominator_value >= {{ var('p20:min_group_size') }}
                then {{ pct_code('count_value', 'denominator_value') }}
        end as rate_code
    from variables
),

-- dense ids for the solver: a variable, its published row, its denominator's variable
numbered as (
    select
        *,
        row_number() over (order by mart, cell_key, count_name) - 1 as variable_id,
        dense_rank() over (order by mart, cell_key) - 1 as row_id
    from coded
),

final as (
    select
        numbered.*,
        denominators.variable_id as denominator_id
    from numbered
    left join numbered as denominators
        on numbered.mart = denominators.mart
        and numbered.cell_key = denominators.cell_key
        and numbered.denominator_name = denominators.count_name
)

select * from final
