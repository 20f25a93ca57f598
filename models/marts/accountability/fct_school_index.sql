-- The multiple-measures index per school, year and reporting group: the mean level of the
-- academic and of the non-academic measures that count, weighted 60/40 (vars). Reporting groups
-- are CORE's: all students, the school's lowest-performing racial/ethnic group (lowest mean of
-- ELA and math proficiency among groups that count), English learners, students with
-- disabilities and socioeconomically disadvantaged students. For all students, the lowest 5%
-- of schools each year are identified and paired with the most similar well-performing school.
with measures as (
    select * from {{ ref('fct_school_measures') }}
    where is_reported
),

schools as (
    select * from {{ ref('dim_schools') }}
),

student_years as (
    select * from {{ ref('fct_student_years') }}
),

race_groups as (
    select
        school_year,
        school_code,
        reporting_group,
        avg(measure_value) as mean_proficiency,
        count(*) as n_proficiency_measures
    from measures
    where reporting_group like 'race_ethnicity:%'
        and measure in ('ela_proficiency', 'math_proficiency')
    group by school_year, school_code, reporting_group
),

lowest_race_groups as (
    select
        school_year,
        school_code,
        reporting_group,
        row_number() over (
            partition by school_year, school_code
            order by mean_proficiency, reporting_group
        ) as lowness
    from race_groups
    where n_proficiency_measures = 2
),

grouped as (
    select
        measures.school_year,
        measures.school_code,
        measures.reporting_group,
        cast(null as varchar) as lowest_race_ethnicity,
        measures.measure,
        measures.domain,
        measures.measure_level
    from measures
    where measures.reporting_group in
        ('all', 'english_learners', 'students_with_disabilities', 'socioeconomically_disadvantaged')
    union all
    select
        measures.school_year,
        measures.school_code,
        'lowest_race_ethnicity' as reporting_group,
        substr(measures.reporting_group, length('race_ethnicity:') + 1) as lowest_race_ethnicity,
        measures.measure,
        measures.domain,
        measures.measure_level
    from measures
    inner join lowest_race_groups
        on measures.school_year = lowest_race_groups.school_year
        and measures.school_code = lowest_race_groups.school_code
        and measures.reporting_group = lowest_race_groups.reporting_group
        and lowest_race_groups.lowness = 1
),

domains as (
    select
        school_year,
        school_code,
        reporting_group,
        max(lowest_race_ethnicity) as lowest_race_ethnicity,
        avg(case when domain = 'academic' then measure_level end) as academic_level,
        avg(case when domain = 'non_academic' then measure_level end) as non_academic_level,
        cast(count(measure_level) as integer) as n_measures
    from grouped
    group by school_year, school_code, reporting_group
),

scored as (
    select
        *,
        {{ var('p20:index_weight_academic') }} * academic_level
        + {{ var('p20:index_weight_non_academic') }} * non_academic_level as index_score
    from domains
),

demographics as (
    select
        school_year,
        primary_school_code as school_code,
        avg(case when is_sed then 1.0 else 0.0 end) as share_sed,
        avg(case when is_english_learner then 1.0 else 0.0 end) as share_el,
        avg(case when is_swd then 1.0 else 0.0 end) as share_swd
    from student_years
    group by school_year, primary_school_code
),

ranked as (
    select
        scored.school_year,
        scored.school_code,
        schools.school_level,
        demographics.share_sed,
        demographics.share_el,
        demographics.share_swd,
        scored.index_score,
        row_number() over (partition by scored.school_year order by scored.index_score, scored.school_code)
            as index_rank,
        count(*) over (partition by scored.school_year) as n_ranked,
        percent_rank() over (partition by scored.school_year order by scored.index_score) as index_percentile
    from scored
    inner join schools
        on scored.school_year = schools.school_year
        and scored.school_code = schools.school_code
    left join demographics
        on scored.school_year = demographics.school_year
        and scored.school_code = demographics.school_code
    where scored.reporting_group = 'all'
        and scored.index_score is not null
),

flagged as (
    select
        *,
        index_rank <= ceil({{ var('p20:index_lowest_share') }} * n_ranked) as is_lowest_performing
    from ranked
),

pairs as (
    select
        low.school_year,
        low.school_code,
        high.school_code as paired_school_code,
        row_number() over (
            partition by low.school_year, low.school_code
            order by
                power(low.share_sed - high.share_sed, 2)
                + power(low.share_el - high.share_el, 2)
                + power(low.share_swd - high.share_swd, 2),
                high.school_code
        ) as nearness
    from flagged as low
    inner join flagged as high
        on low.school_year = high.school_year
        and low.school_level = high.school_level
        and high.index_percentile >= {{ var('p20:index_pairing_min_percentile') }}
        and not high.is_lowest_performing
    where low.is_lowest_performing
),

-- published to the precision each column's YAML declares (meta.precision); the ranks, the
-- lowest 5% and the pairs above are computed from the unrounded values
final as (
    select
        scored.school_year,
        scored.school_code,
        scored.reporting_group,
        scored.lowest_race_ethnicity,
        round(scored.academic_level, 2) as academic_level,
        round(scored.non_academic_level, 2) as non_academic_level,
        scored.n_measures,
        round(scored.index_score, 2) as index_score,
        round(flagged.index_percentile, 4) as index_percentile,
        flagged.is_lowest_performing,
        pairs.paired_school_code
    from scored
    left join flagged
        on scored.school_year = flagged.school_year
        and scored.school_code = flagged.school_code
        and scored.reporting_group = 'all'
    left join pairs
        on scored.school_year = pairs.school_year
        and scored.school_code = pairs.school_code
        and scored.reporting_group = 'all'
        and pairs.nearness = 1
)

select * from final
