with schools as (
    select * from {{ ref('stg_calpads__schools') }}
),

school_years as (
    select distinct school_year
    from schools
),

final as (
    select
        school_year,
        make_date(school_year - 1, 7, 1) as school_year_start_date,
        {{ first_weekday_on_or_after(
            'make_date(school_year - 1, ' ~ var('p20:census_month') ~ ', 1)',
            var('p20:census_iso_weekday')
        ) }} as census_date,
        make_date(
            school_year,
            {{ var('p20:fay_through_month') }},
            {{ var('p20:fay_through_day') }}
        ) as fay_through_date,
        make_date(
            school_year,
            {{ var('p20:school_year_end_month') }},
            {{ var('p20:school_year_end_day') }}
        ) as school_year_end_date
    from school_years
)

select * from final
