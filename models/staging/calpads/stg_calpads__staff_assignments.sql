with landed as (
    {{ current_load(source('landed', 'staff_assignments')) }}
),

renamed as (
    select
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.teacher_token,
        landed.gender,
        landed.job_classification,
        landed.assignment_subject,
        landed.credential_type,
        cast(landed.years_experience_total as integer) as years_experience_total,
        cast(landed.years_experience_district as integer) as years_experience_district,
        cast(landed.fte_percent as integer) as fte_percent,
        landed.load_id,
        landed.loaded_at
    from landed
)

select * from renamed
