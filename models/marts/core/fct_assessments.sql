-- Achievement level is derived from the scale score and the grade's cut scores (seed
-- assessment_scales) and kept beside the level the test vendor reported; a dbt test requires
-- them to agree.
with assessments as (
    select * from {{ ref('stg_caaspp__assessments') }}
),

scales as (
    select * from {{ ref('assessment_scales') }}
),

final as (
    select
        assessments.student_token,
        assessments.school_year,
        assessments.school_code,
        assessments.test_type,
        assessments.subject,
        assessments.grade_assessed,
        cast(assessments.grade_assessed as integer) as grade_assessed_order,
        assessments.completeness,
        assessments.administration_condition,
        assessments.scale_score,
        assessments.scale_score_sem,
        assessments.achievement_level as reported_achievement_level,
        case
            when assessments.scale_score is null or scales.subject is null then null
            when assessments.scale_score >= scales.level4_min_score then 4
            when assessments.scale_score >= scales.level3_min_score then 3
            when assessments.scale_score >= scales.level2_min_score then 2
            else 1
        end as achievement_level,
        assessments.scale_score >= scales.level3_min_score as is_met_or_exceeded,
        -- distance from the Standard Met cut, the CA Dashboard's academic indicator unit
        assessments.scale_score - scales.level3_min_score as distance_from_standard,
        assessments.claim1_level,
        assessments.claim2_level,
        assessments.claim3_level
    from assessments
    left join scales
        on assessments.subject = scales.subject
        and assessments.grade_assessed = scales.grade_assessed
)

select * from final
