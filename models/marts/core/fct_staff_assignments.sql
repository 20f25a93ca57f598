with assignments as (
    select * from {{ ref('stg_calpads__staff_assignments') }}
),

credential_types as (
    select * from {{ ref('credential_types') }}
),

final as (
    select
        assignments.teacher_token,
        assignments.school_year,
        assignments.school_code,
        assignments.assignment_subject,
        assignments.job_classification,
        assignments.credential_type,
        credential_types.is_full_credential,
        credential_types.is_permit_or_waiver,
        assignments.years_experience_total,
        assignments.years_experience_district,
        assignments.fte_percent
    from assignments
    left join credential_types
        on assignments.credential_type = credential_types.credential_type
)

select * from final
