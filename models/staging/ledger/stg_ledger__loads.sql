with ledger as (
    select * from {{ p20.source_relation(source('ledger', 'loads')) }}
),

renamed as (
    select
        cast(attempt_id as {{ dbt.type_string() }}) as attempt_id,
        cast(load_id as {{ dbt.type_string() }}) as load_id,
        cast(extract as {{ dbt.type_string() }}) as extract_name,
        cast(school_year as integer) as school_year,
        cast(file as {{ dbt.type_string() }}) as file_name,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(rows as bigint) as n_rows,
        cast(suite as {{ dbt.type_string() }}) as suite_name,
        cast(suite_version as {{ dbt.type_string() }}) as suite_version,
        cast(key_fingerprint as {{ dbt.type_string() }}) as key_fingerprint,
        cast(policy_version as {{ dbt.type_string() }}) as policy_version,
        cast(coalesce(n_failed_rules, 0) as integer) as n_failed_rules,
        cast(nullif(message, '') as {{ dbt.type_string() }}) as message,
        cast(outcome as {{ dbt.type_string() }}) as outcome,
        cast(supersedes as {{ dbt.type_string() }}) as supersedes_load_id,
        cast(rekeyed_from as {{ dbt.type_string() }}) as rekeyed_from_load_id,
        -- read from the line as JSON: null on a ledger older than the key, which has no column
        -- (DuckDB's to_json of a row; the Spark build, issue #15, needs its own form)
        cast(json_extract(to_json(ledger), '$.landed_files') as json) as landed_files,
        cast(started_at as {{ p20.type_instant() }}) as started_at,
        cast(finished_at as {{ p20.type_instant() }}) as finished_at
    from ledger
)

select * from renamed
