with landed as (
    {{ current_load(source('landed', 'students')) }}
),

race_codes as (
    select * from {{ ref('race_codes') }}
),

renamed as (
    select
        landed.student_token,
        cast(landed.school_year as integer) as school_year,
        landed.school_code,
        landed.birth_year_month,
        landed.gender,
        landed.hispanic = 'Y' as is_hispanic,
        landed.race1 as race1_code,
        landed.race2 as race2_code,
        -- federal reporting, Hispanic first: any Hispanic student is Hispanic; otherwise two
        -- races reported make "two or more"; otherwise the first race's category
        case
            when landed.hispanic = 'Y' then 'hispanic'
            when landed.race2 is not null then 'two_or_more'
            else coalesce(race_codes.race_ethnicity, 'not_reported')
        end as race_ethnicity,
        landed.parent_ed_level,
        landed.home_language,
        landed.load_id,
        landed.loaded_at
    from landed
    left join race_codes
        on landed.race1 = race_codes.race_code
)

select * from renamed
