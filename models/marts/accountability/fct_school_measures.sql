-- Every measure of the multiple-measures index per school, year and reporting group, as
-- published: the counts of int_school_measures__counts that int_disclosure__pattern leaves
-- shown, whether the measure counts (var p20:index_min_group_size) and its level 1-10 from the
-- cut points frozen in seeds/index_level_cuts.csv. A percent is published to one decimal; a
-- hidden percent near 0 or 100 shows its code instead.
with counts as (
    select * from {{ ref('int_school_measures__counts') }}
),

pattern as (
    {{ disclosure_flags('fct_school_measures', ['n_students', 'n_counted']) }}
),

index_measures as (
    select * from {{ ref('index_measures') }}
),

cuts as (
    select * from {{ ref('index_level_cuts') }}
),

protected as (
    select
        counts.*,
        pattern.is_n_students_hidden,
        -- a mean measure's value is hidden with its group; a percent's with its count
        pattern.is_n_students_hidden or coalesce(pattern.is_n_counted_hidden, false) as is_value_hidden,
        counts.n_students >= {{ var('p20:index_min_group_size') }} as is_large_enough
    from counts
    inner join pattern
        on {{ disclosure_cell_key(['counts.school_year', 'counts.school_code', 'counts.reporting_group',
            'counts.measure']) }} = pattern.cell_key
),

final as (
    select
        protected.school_year,
        protected.school_code,
        protected.reporting_group,
        protected.measure,
        index_measures.domain,
        cast(case when not protected.is_n_students_hidden then protected.n_students end as integer) as n_students,
        case
            when protected.is_value_hidden then null
            when index_measures.unit = 'percent' then round(protected.measure_value, 1)
            else round(protected.measure_value, 2)
        end as measure_value,
        case
            when protected.n_counted is not null
                then {{ coded_pct('protected.n_counted', 'protected.n_students', 'protected.is_value_hidden',
                    'protected.is_n_students_hidden') }}
        end as measure_value_coded,
        not protected.is_value_hidden and protected.is_large_enough as is_reported,
        -- levels 1-10: how many of the nine frozen cut points the value reaches, turned round
        -- for measures where lower is better
        case
            when protected.is_value_hidden or not protected.is_large_enough or cuts.measure is null then null
            when index_measures.higher_is_better then 1 + {{ cuts_reached('protected.measure_value', 'cuts') }}
            else 10 - {{ cuts_reached('protected.measure_value', 'cuts') }}
        end as measure_level,
        protected.is_n_students_hidden as is_suppressed
    from protected
    inner join index_measures
        on protected.measure = index_measures.measure
    left join cuts
        on protected.measure = cuts.measure
)

select * from final
