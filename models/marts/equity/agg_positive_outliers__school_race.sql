-- Schools that beat the odds: per school and racial/ethnic group (and all students), pooled over
-- the years, the mean distance from standard of full-academic-year students against the value
-- predicted from the school's socioeconomic composition (share SED) by a line fitted across
-- schools for the same group; teacher credential measures alongside.
with assessments as (
    select * from {{ ref('fct_assessments') }}
    where scale_score is not null
),

student_years as (
    select * from {{ ref('fct_student_years') }}
),

staff as (
    select * from {{ ref('fct_staff_assignments') }}
),

tested as (
    select
        student_years.primary_school_code as school_code,
        student_years.race_ethnicity,
        assessments.distance_from_standard
    from assessments
    inner join student_years
        on assessments.student_token = student_years.student_token
        and assessments.school_year = student_years.school_year
        and assessments.school_code = student_years.primary_school_code
    where student_years.is_full_academic_year
),

composition as (
    select
        primary_school_code as school_code,
        avg(case when is_sed then 1.0 else 0.0 end) as share_sed
    from student_years
    group by primary_school_code
),

groups as (
    select
        school_code,
        'all' as subgroup_type,
        'all' as subgroup_value,
        distance_from_standard
    from tested
    union all
    select
        school_code,
        'race_ethnicity' as subgroup_type,
        race_ethnicity as subgroup_value,
        distance_from_standard
    from tested
    where race_ethnicity is not null
),

counted as (
    select
        groups.school_code,
        groups.subgroup_type,
        groups.subgroup_value,
        count(*) as n_students,
        avg(groups.distance_from_standard) as mean_distance_from_standard,
        composition.share_sed
    from groups
    inner join composition
        on groups.school_code = composition.school_code
    group by groups.school_code, groups.subgroup_type, groups.subgroup_value, composition.share_sed
),

small as (
    select
        *,
        n_students < {{ var('p20:min_group_size') }} as is_small
    from counted
),

-- within each school: a race/ethnicity hidden alone would be the school's all-students count
-- minus the others (no district row of these groups is published, so no column rule)
{{ complementary_suppression('suppressed', 'small', [], 'school_code') }},

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
        ranked.residual_percentile,
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
