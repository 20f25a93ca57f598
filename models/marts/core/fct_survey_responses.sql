with responses as (
    select * from {{ ref('stg_surveys__responses') }}
),

final as (
    select
        student_token,
        school_year,
        school_code,
        grade_level,
        survey_date,
        growth_mindset,
        self_efficacy,
        self_management,
        social_awareness,
        climate_support_learning,
        sense_of_belonging,
        fairness_of_discipline,
        safety
    from responses
)

select * from final
