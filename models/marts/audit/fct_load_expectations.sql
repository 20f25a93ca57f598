with expectations as (
    select * from {{ ref('stg_ledger__load_expectations') }}
),

loads as (
    select * from {{ ref('stg_ledger__loads') }}
),

final as (
    select
        {{ dbt.concat([
            "expectations.attempt_id",
            "'-'",
            dbt.safe_cast("expectations.expectation_number", dbt.type_string()),
        ]) }} as load_expectation_key,
        expectations.attempt_id,
        loads.load_id,
        loads.extract_name,
        loads.school_year,
        loads.file_name,
        loads.suite_name,
        loads.suite_version,
        loads.outcome,
        expectations.expectation_number,
        expectations.rule_name,
        expectations.expectation_type,
        expectations.column_names,
        expectations.is_success,
        expectations.could_not_evaluate,
        expectations.n_rows_checked,
        expectations.n_rows_failing,
        expectations.n_rows_missing,
        expectations.observed_row_count,
        loads.started_at
    from expectations
    inner join loads
        on expectations.attempt_id = loads.attempt_id
)

select * from final
