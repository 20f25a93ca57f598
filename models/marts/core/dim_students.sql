with students as (
    select * from {{ ref('stg_calpads__students') }}
),

-- Attributes as most recently reported; the year-by-year values live in fct_student_years.
latest as (
    select
        *,
        row_number() over (partition by student_token order by school_year desc) as recency,
        min(school_year) over (partition by student_token) as first_school_year,
        max(school_year) over (partition by student_token) as last_school_year
    from students
),

final as (
    select
        student_token,
        birth_year_month,
        gender,
        race_ethnicity,
        is_hispanic,
        first_school_year,
        last_school_year
    from latest
    where recency = 1
)

select * from final
