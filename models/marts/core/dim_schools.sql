with schools as (
    select * from {{ ref('stg_calpads__schools') }}
),

grade_levels as (
    select * from {{ ref('grade_levels') }}
),

final as (
    select
        schools.school_year,
        schools.school_code,
        schools.school_name,
        schools.school_type,
        schools.is_charter,
        schools.low_grade,
        schools.high_grade,
        -- the level schools are compared within: by the highest grade served
        case
            when high_grades.grade_order <= 6 then 'elementary'
            when high_grades.grade_order <= 8 then 'middle'
            else 'high'
        end as school_level,
        schools.local_district
    from schools
    left join grade_levels as high_grades
        on schools.high_grade = high_grades.grade_level
)

select * from final
