with landed as (
    {{ current_load(source('landed', 'english_learners')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.student_token,
        landed.gender,
        landed.elas_code,
        {{ parse_yyyymmdd('landed.elas_start_date') }} as elas_start_date,
        landed.primary_language,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
