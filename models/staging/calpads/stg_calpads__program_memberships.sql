with landed as (
    {{ current_load(source('landed', 'programs')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.student_token,
        landed.gender,
        landed.program_code,
        landed.membership_code,
        {{ parse_yyyymmdd('landed.program_start_date') }} as program_start_date,
        {{ parse_yyyymmdd('landed.program_end_date') }} as program_end_date,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
