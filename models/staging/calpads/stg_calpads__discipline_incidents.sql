with landed as (
    {{ current_load(source('landed', 'discipline_incidents')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.student_token,
        landed.gender,
        landed.incident_token,
        {{ parse_yyyymmdd('landed.incident_date') }} as incident_date,
        landed.offense_code,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
