with el_statuses as (
    select * from {{ ref('int_student_years__el_status') }}
),

elas_codes as (
    select * from {{ ref('elas_codes') }}
),

final as (
    select
        el_statuses.student_token,
        el_statuses.school_year,
        el_statuses.school_code,
        el_statuses.elas_code,
        el_statuses.elas_start_date,
        el_statuses.primary_language,
        el_statuses.el_status_at_year_start,
        start_codes.is_english_learner as was_english_learner_at_year_start,
        el_statuses.is_reclassified_in_year,
        end_codes.is_english_learner as is_english_learner_at_year_end
    from el_statuses
    left join elas_codes as start_codes
        on el_statuses.el_status_at_year_start = start_codes.elas_code
    left join elas_codes as end_codes
        on el_statuses.elas_code = end_codes.elas_code
)

select * from final
