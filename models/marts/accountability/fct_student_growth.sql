-- Conditional growth: how a student's scale score compares with students of the same grade,
-- subject and year who started from a similar place (the same decile of the prior-year score,
-- one grade lower). A simple, documented stand-in for student growth percentiles.
with scores as (
    select
        student_token,
        school_year,
        school_code,
        subject,
        grade_assessed_order,
        scale_score
    from {{ ref('fct_assessments') }}
    where scale_score is not null
),

paired as (
    select
        current_year.*,
        prior_year.scale_score as prior_scale_score
    from scores as current_year
    inner join scores as prior_year
        on current_year.student_token = prior_year.student_token
        and current_year.subject = prior_year.subject
        and prior_year.school_year = current_year.school_year - 1
        and prior_year.grade_assessed_order = current_year.grade_assessed_order - 1
),

binned as (
    select
        *,
        ntile(10) over (
            partition by school_year, subject, grade_assessed_order
            order by prior_scale_score, student_token
        ) as prior_score_decile
    from paired
),

final as (
    select
        student_token,
        school_year,
        school_code,
        subject,
        grade_assessed_order,
        prior_scale_score,
        scale_score,
        prior_score_decile,
        scale_score - avg(scale_score) over (
            partition by school_year, subject, grade_assessed_order, prior_score_decile
        ) as growth_points
    from binned
)

select * from final
