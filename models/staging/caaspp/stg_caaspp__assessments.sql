with landed as (
    {{ current_load(source('landed', 'assessments')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.student_token,
        landed.gender,
        landed.grade_assessed,
        landed.test_type,
        landed.subject,
        landed.completeness,
        landed.administration_condition,
        cast(landed.scale_score as integer) as scale_score,
        cast(landed.scale_score_sem as integer) as scale_score_sem,
        cast(landed.achievement_level as integer) as achievement_level,
        cast(landed.claim1_level as integer) as claim1_level,
        cast(landed.claim2_level as integer) as claim2_level,
        cast(landed.claim3_level as integer) as claim3_level,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
