with loads as (
    select * from {{ ref('stg_ledger__loads') }}
),

landed as (
    select * from loads
    where outcome = 'landed'
),

superseded as (
    select
        supersedes_load_id as load_id,
        min(load_id) as superseded_by_load_id
    from landed
    where supersedes_load_id is not null
    group by supersedes_load_id
),

final as (
    select
        loads.attempt_id,
        loads.load_id,
        loads.extract_name,
        loads.school_year,
        loads.file_name,
        loads.file_sha256,
        loads.n_rows,
        loads.suite_name,
        loads.suite_version,
        loads.key_fingerprint,
        loads.policy_version,
        loads.outcome,
        loads.n_failed_rules,
        loads.message,
        loads.supersedes_load_id,
        superseded.superseded_by_load_id,
        loads.rekeyed_from_load_id,
        loads.outcome = 'landed' and superseded.superseded_by_load_id is null as is_current,
        loads.started_at,
        loads.finished_at
    from loads
    left join superseded
        on loads.load_id = superseded.load_id
)

select * from final
