with ledger as (
    {{ ledger_or_empty('releases', {
        'release_id': 'varchar',
        'dsa_id': 'varchar',
        'outcome': 'varchar',
        'message': 'varchar',
        'path': 'varchar',
        'release_json_sha256': 'varchar',
        'n_tables': 'integer',
        'n_rows': 'bigint',
        'started_at': 'varchar',
        'finished_at': 'varchar',
    }) }}
),

renamed as (
    select
        cast(release_id as {{ dbt.type_string() }}) as release_id,
        cast(dsa_id as {{ dbt.type_string() }}) as dsa_id,
        cast(outcome as {{ dbt.type_string() }}) as outcome,
        cast(nullif(message, '') as {{ dbt.type_string() }}) as message,
        cast(path as {{ dbt.type_string() }}) as bundle_path,
        cast(release_json_sha256 as {{ dbt.type_string() }}) as release_json_sha256,
        cast(n_tables as integer) as n_tables,
        cast(n_rows as bigint) as n_rows,
        cast(started_at as {{ p20.type_instant() }}) as started_at,
        cast(finished_at as {{ p20.type_instant() }}) as finished_at
    from ledger
)

select * from renamed
