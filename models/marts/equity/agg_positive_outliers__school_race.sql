-- Schools that beat the odds: per school and racial/ethnic group (and all students), pooled over
-- the years, the mean distance from standard of full-academic-year students against the value
-- predicted from the school's socioeconomic composition (share SED) by a line fitted across
-- schools for the same group; teacher credential measures alongside.
with counts as (
    select * from {{ ref('int_positive_outliers__counts') }}
),

staff as (
    select * from {{ ref('fct_staff_assignments') }}
),

pattern as (
    {{ disclosure_flags('agg_positive_outliers__school_race', ['n_students']) }}
),

-- a group hidden by int_disclosure__pattern shows no count and no mean
suppressed as (
    select
        counts.*,
        pattern.is_n_students_hidden as is_suppressed
    from counts
    inner join pattern
        on {{ disclosure_cell_key(['counts.school_code', 'counts.subgroup_type', 'counts.subgroup_value']) }}
        = pattern.cell_key
),

-- least squares across the schools where the group is shown: actual = a + b x share_sed
fits as (
    select
        subgroup_type,
        subgroup_value,
        covar_pop(mean_distance_from_standard, share_sed) / nullif(var_pop(share_sed), 0) as slope,
        avg(mean_distance_from_standard) as mean_actual,
        avg(share_sed) as mean_share_sed
    from suppressed
    where not is_suppressed
    group by subgroup_type, subgroup_value
),

predicted as (
    select
        suppressed.*,
        fits.mean_actual + coalesce(fits.slope, 0) * (suppressed.share_sed - fits.mean_share_sed)
            as predicted_distance_from_standard
    from suppressed
    inner join fits
        on suppressed.subgroup_type = fits.subgroup_type
        and suppressed.subgroup_value = fits.subgroup_value
    where not suppressed.is_suppressed
),

ranked as (
    select
        *,
        mean_distance_from_standard - predicted_distance_from_standard as residual,
        percent_rank() over (
            partition by subgroup_type, subgroup_value
            order by mean_distance_from_standard - predicted_distance_from_standard
        ) as residual_percentile
    from predicted
),

teachers as (
    select
        school_code,
        avg(case when is_permit_or_waiver then 1.0 else 0.0 end) as share_teachers_on_permits,
        avg(years_experience_total) as mean_teacher_years_experience
    from staff
    group by school_code
),

final as (
    select
        suppressed.school_code,
        suppressed.subgroup_type,
        suppressed.subgroup_value,
        cast(case when not suppressed.is_suppressed then suppressed.n_students end as integer) as n_students,
        round(suppressed.share_sed, 3) as school_share_sed,
        case
            when not suppressed.is_suppressed then round(suppressed.mean_distance_from_standard, 1)
        end as mean_distance_from_standard,
        round(ranked.predicted_distance_from_standard, 1) as predicted_distance_from_standard,
        round(ranked.residual, 1) as residual,
        round(ranked.residual_percentile, 4) as residual_percentile,
        coalesce(ranked.residual_percentile >= {{ var('p20:positive_outlier_min_percentile') }}, false)
            as is_positive_outlier,
        round(teachers.share_teachers_on_permits, 3) as share_teachers_on_permits,
        round(teachers.mean_teacher_years_experience, 1) as mean_teacher_years_experience,
        suppressed.is_suppressed
    from suppressed
    left join ranked
        on suppressed.school_code = ranked.school_code
        and suppressed.subgroup_type = ranked.subgroup_type
        and suppressed.subgroup_value = ranked.subgroup_value
    left join teachers
        on suppressed.school_code = teachers.school_code
)

select * from final
