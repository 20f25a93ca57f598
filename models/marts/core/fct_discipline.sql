-- One row per incident result per student: what the school did about an incident (SIRS),
-- with the incident's date and offense (SINC).
with results as (
    select * from {{ ref('stg_calpads__discipline_results') }}
),

incidents as (
    select * from {{ ref('stg_calpads__discipline_incidents') }}
),

result_codes as (
    select * from {{ ref('discipline_result_codes') }}
),

final as (
    select
        results.incident_token,
        results.student_token,
        results.result_code,
        results.school_year,
        results.school_code,
        incidents.incident_date,
        incidents.offense_code,
        result_codes.is_suspension,
        result_codes.is_out_of_school,
        results.duration_days
    from results
    left join incidents
        on results.school_year = incidents.school_year
        and results.incident_token = incidents.incident_token
        and results.student_token = incidents.student_token
    left join result_codes
        on results.result_code = result_codes.discipline_result
)

select * from final
