with landed as (
    {{ current_load(source('landed', 'schools')) }}
),

school_types as (
    select * from {{ ref('school_types') }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.school_name,
        landed.school_type,
        school_types.is_charter,
        landed.low_grade,
        landed.high_grade,
        landed.local_district,
        landed.reporting_lea,
        landed.load_id,
        landed.loaded_at
    from landed
    left join school_types
        on landed.school_type = school_types.school_type
)

select * from renamed
