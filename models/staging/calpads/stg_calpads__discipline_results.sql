with landed as (
    {{ current_load(source('landed', 'discipline_results')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.student_token,
        landed.gender,
        landed.incident_token,
        landed.result_code,
        cast(landed.duration_days as integer) as duration_days,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
