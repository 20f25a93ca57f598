with memberships as (
    select * from {{ ref('stg_calpads__program_memberships') }}
),

program_codes as (
    select * from {{ ref('program_codes') }}
),

final as (
    select
        memberships.student_token,
        memberships.school_year,
        memberships.school_code,
        memberships.program_code,
        program_codes.student_group,
        memberships.membership_code,
        memberships.program_start_date,
        memberships.program_end_date
    from memberships
    left join program_codes
        on memberships.program_code = program_codes.program_code
)

select * from final
