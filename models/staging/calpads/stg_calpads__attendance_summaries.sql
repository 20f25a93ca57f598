with landed as (
    {{ current_load(source('landed', 'attendance')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.student_token,
        landed.gender,
        cast(landed.days_expected as integer) as days_expected,
        cast(landed.days_attended as integer) as days_attended,
        cast(landed.days_absent_oss as integer) as days_absent_oss,
        cast(landed.days_iss as integer) as days_iss,
        cast(landed.days_excused as integer) as days_excused,
        cast(landed.days_unexcused as integer) as days_unexcused,
        cast(landed.days_incomplete_independent_study as integer) as days_incomplete_independent_study,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
