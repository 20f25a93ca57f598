with releases as (
    select * from {{ ref('stg_ledger__releases') }}
),

agreements as (
    select * from {{ ref('dsa_agreements') }}
),

final as (
    select
        releases.release_id,
        releases.dsa_id,
        agreements.project_title,
        agreements.recipient,
        releases.outcome,
        releases.message,
        releases.bundle_path,
        releases.release_json_sha256,
        releases.n_tables,
        releases.n_rows,
        agreements.expires_on as dsa_expires_on,
        releases.started_at,
        releases.finished_at
    from releases
    left join agreements
        on releases.dsa_id = agreements.dsa_id
)

select * from final
