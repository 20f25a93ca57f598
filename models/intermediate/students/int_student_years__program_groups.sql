-- Student groups from program records (SPRG): a student is in a group for the school year when
-- any program record that year marks it (seed program_codes.student_group). CALPADS program
-- records are year-scoped, and the CA Dashboard counts SED/SWD/foster/homeless students who
-- were in the group at any time in the year.
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
        bool_or(program_codes.student_group = 'swd') as is_swd,
        bool_or(program_codes.student_group = 'section_504') as is_section_504,
        bool_or(program_codes.student_group = 'frl') as is_frl,
        bool_or(program_codes.student_group = 'foster') as is_foster,
        bool_or(program_codes.student_group = 'homeless') as is_homeless,
        bool_or(program_codes.student_group = 'migrant') as is_migrant,
        bool_or(program_codes.student_group = 'gate') as is_gate,
        bool_or(program_codes.counts_as_sed) as has_sed_program
    from memberships
    inner join program_codes
        on memberships.program_code = program_codes.program_code
    group by memberships.student_token, memberships.school_year
)

select * from final
