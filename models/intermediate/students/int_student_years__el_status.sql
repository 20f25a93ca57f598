-- English language acquisition status per student and school year (SELA reports one status
-- per student and year, with the date it began). Read as of two dates:
-- * the start of the school year: a status that began during the year replaced the one before;
--   only a reclassification (RFEP) says what came before (EL);
-- * the student's status date (census day, or the first day enrolled if later).
-- A reclassification in the year is an RFEP status that began inside the school year.
with statuses as (
    select * from {{ ref('stg_calpads__english_learner_statuses') }}
),

calendar as (
    select * from {{ ref('int_school_years__calendar') }}
),

student_years as (
    select * from {{ ref('int_student_years__primary_school') }}
),

dated as (
    select
        statuses.student_token,
        statuses.school_year,
        statuses.school_code,
        statuses.elas_code,
        statuses.elas_start_date,
        statuses.primary_language,
        statuses.elas_code = 'RFEP'
        and statuses.elas_start_date >= calendar.school_year_start_date
        and statuses.elas_start_date <= calendar.school_year_end_date as is_reclassified_in_year,
        student_years.status_date
    from statuses
    inner join calendar
        on statuses.school_year = calendar.school_year
    left join student_years
        on statuses.student_token = student_years.student_token
        and statuses.school_year = student_years.school_year
),

final as (
    select
        dated.student_token,
        dated.school_year,
        dated.school_code,
        dated.elas_code,
        dated.elas_start_date,
        dated.primary_language,
        dated.is_reclassified_in_year,
        case when dated.is_reclassified_in_year then 'EL' else dated.elas_code end as el_status_at_year_start,
        case
            when dated.elas_code = 'RFEP' and dated.elas_start_date > dated.status_date then 'EL'
            else dated.elas_code
        end as el_status_on_status_date,
        dated.status_date
    from dated
)

select * from final
