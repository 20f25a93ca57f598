with ledger as (
    select
        attempt_id,
        -- through JSON: read_json infers nothing useful for a ledger whose lists are all empty
        from_json(
            to_json(expectations),
            '[{"index": "INTEGER", "rule": "VARCHAR", "expectation": "VARCHAR",
               "column": "VARCHAR", "success": "BOOLEAN", "element_count": "BIGINT",
               "unexpected_count": "BIGINT", "missing_count": "BIGINT",
               "observed_value": "BIGINT", "could_not_evaluate": "BOOLEAN"}]'
        ) as expectations
    from {{ p20.source_relation(source('ledger', 'loads')) }}
),

unnested as (
    select
        attempt_id,
        unnest(expectations) as expectation
    from ledger
),

renamed as (
    select
        cast(attempt_id as {{ dbt.type_string() }}) as attempt_id,
        cast(expectation.index + 1 as integer) as expectation_number,
        cast(expectation.rule as {{ dbt.type_string() }}) as rule_name,
        cast(expectation.expectation as {{ dbt.type_string() }}) as expectation_type,
        cast(nullif(expectation.column, '') as {{ dbt.type_string() }}) as column_names,
        cast(expectation.success as boolean) as is_success,
        cast(coalesce(expectation.could_not_evaluate, false) as boolean) as could_not_evaluate,
        cast(expectation.element_count as bigint) as n_rows_checked,
        cast(expectation.unexpected_count as bigint) as n_rows_failing,
        cast(expectation.missing_count as bigint) as n_rows_missing,
        cast(expectation.observed_value as bigint) as observed_row_count
    from unnested
)

select * from renamed
