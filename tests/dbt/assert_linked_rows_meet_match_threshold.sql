-- What: every preschool or college row that carries a student_token was matched by p20 link at
-- or above var p20:link_match_threshold (the one place the threshold is set; p20 link reads it
-- too), and carries its match probability.
-- When it matters: a token below the threshold means the outbox was linked under another
-- threshold than the warehouse documents, so the marts' linked shares are not what they say.
-- How to resolve: re-run `p20 link` (custodian) with the documented var, then `p20 load` and
-- `dbt build`; or, if the threshold changed on purpose, change the var in dbt_project.yml.
select
    'preschool_enrollments' as extract_name,
    school_year,
    match_probability
from {{ ref('stg_preschool__enrollments') }}
where student_token is not null
    and (match_probability is null or match_probability < {{ var('p20:link_match_threshold') }})
union all
select
    'college_enrollments' as extract_name,
    request_school_year as school_year,
    match_probability
from {{ ref('stg_nsc__college_enrollments') }}
where student_token is not null
    and (match_probability is null or match_probability < {{ var('p20:link_match_threshold') }})
