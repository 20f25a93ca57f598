with schools as (
    select * from {{ ref('stg_calpads__schools') }}
),

final as (
    select
        school_year,
        school_code,
        school_name,
        school_type,
        is_charter,
        low_grade,
        high_grade,
        local_district
    from schools
)

select * from final
