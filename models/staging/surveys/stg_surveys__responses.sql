with landed as (
    {{ current_load(source('landed', 'surveys')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.student_token,
        landed.gender,
        landed.grade_level,
        {{ parse_yyyymmdd('landed.survey_date') }} as survey_date,
        cast(landed.growth_mindset as decimal(6, 2)) as growth_mindset,
        cast(landed.self_efficacy as decimal(6, 2)) as self_efficacy,
        cast(landed.self_management as decimal(6, 2)) as self_management,
        cast(landed.social_awareness as decimal(6, 2)) as social_awareness,
        cast(landed.climate_support_learning as decimal(6, 2)) as climate_support_learning,
        cast(landed.sense_of_belonging as decimal(6, 2)) as sense_of_belonging,
        cast(landed.fairness_of_discipline as decimal(6, 2)) as fairness_of_discipline,
        cast(landed.safety as decimal(6, 2)) as safety,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
