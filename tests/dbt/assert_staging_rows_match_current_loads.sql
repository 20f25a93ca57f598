-- What: for every extract and school year, staging holds exactly the rows the ledger recorded
-- for the current load (file -> landed Parquet -> staging reconcile).
-- When it matters: a mismatch means staging reads a superseded load, misses a landed one, or
-- the Parquet differs from what the gate validated.
-- How to resolve: compare marts.fct_loads (is_current) with the landed/ folders of that extract
-- and year; re-run `p20 load` to clear leftovers of a crashed load.
with current_loads as (
    select
        extract_name,
        school_year,
        load_id,
        n_rows
    from {{ ref('fct_loads') }}
    where is_current
),

staged as (
    select
        'schools' as extract_name,
        school_year,
        load_id,
        count(*) as n_rows
    from {{ ref('stg_calpads__schools') }}
    group by school_year, load_id
    union all
    select
        'students' as extract_name,
        school_year,
        load_id,
        count(*) as n_rows
    from {{ ref('stg_calpads__students') }}
    group by school_year, load_id
    union all
    select
        'enrollments' as extract_name,
        school_year,
        load_id,
        count(*) as n_rows
    from {{ ref('stg_calpads__enrollments') }}
    group by school_year, load_id
)

select
    coalesce(current_loads.extract_name, staged.extract_name) as extract_name,
    coalesce(current_loads.school_year, staged.school_year) as school_year,
    current_loads.n_rows as n_ledger,
    staged.n_rows as n_staged
from current_loads
full outer join staged
    on current_loads.extract_name = staged.extract_name
    and current_loads.school_year = staged.school_year
    and current_loads.load_id = staged.load_id
where coalesce(current_loads.extract_name, staged.extract_name) in ('schools', 'students', 'enrollments')
    and (current_loads.n_rows is null or staged.n_rows is null or current_loads.n_rows <> staged.n_rows)
