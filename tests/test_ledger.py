"""Every ledger field is defined once, in p20.ledger.LoadRecord: the staging model that reads
the ledger and its YAML document exactly the fields the record marks as staged, under the
names the record gives them. Reads files only (no dbt run, no warehouse)."""

import dataclasses
import re

import yaml

from conftest import REPO

STAGING = REPO / "models" / "staging" / "ledger"
# and the row read as JSON (`json_extract(to_json(ledger), '$.key')`, for a key old lines lack)
SQL_FUNCTIONS = {"coalesce", "nullif", "cast", "as", "json_extract", "to_json", "ledger"}


def _staged_fields() -> dict[str, str]:
    from p20.ledger import LoadRecord

    return {
        f.name: f.metadata["staged"] for f in dataclasses.fields(LoadRecord) if "staged" in f.metadata
    }


def _model_columns() -> dict[str, str]:
    """stg_ledger__loads' columns: ledger key -> staged name, from its `cast(...) as name` lines."""
    sql = (STAGING / "stg_ledger__loads.sql").read_text()
    sql = re.sub(r"\{\{.*?\}\}", "type", sql)
    columns = {}
    for expr, alias in re.findall(r"^\s*cast\((.+) as [a-z ]+\) as (\w+),?$", sql, re.M):
        (key,) = set(re.findall(r"[a-z_][a-z0-9_]*", expr)) - SQL_FUNCTIONS
        columns[key] = alias
    return columns


def test_staging_model_reads_the_staged_fields_of_the_load_record():
    assert _model_columns() == _staged_fields()


def test_staging_yaml_documents_the_same_columns_in_order():
    models = yaml.safe_load((STAGING / "_ledger__models.yml").read_text())["models"]
    (loads,) = [m for m in models if m["name"] == "stg_ledger__loads"]
    assert [c["name"] for c in loads["columns"]] == list(_model_columns().values())


def test_expectation_outcomes_are_read_under_the_keys_the_gate_writes():
    from p20.ledger import ExpectationOutcome

    sql = (STAGING / "stg_ledger__load_expectations.sql").read_text()
    struct = re.search(r"'\[\{(.*?)\}\]'", sql, re.S).group(1)
    assert re.findall(r'"(\w+)":', struct) == list(ExpectationOutcome.__annotations__)


def test_a_record_round_trips_and_counts_its_own_lists():
    from p20.ledger import LoadRecord

    record = LoadRecord(
        load_id="L", extract="schools", school_year=2020, file="schools_2020.txt", file_sha256="0" * 64,
        rows=3, suite="schools", suite_version="1", key_fingerprint="k", policy_version="p",
        outcome="rejected", started_at="t0", finished_at="t1", message="m",
        failed_rules=[{"rule": "r"}], expectations=[{"rule": "r"}, {"rule": "s"}],
    )
    line = record.to_json()
    assert (line["n_failed_rules"], line["n_expectations"]) == (1, 2)
    assert "recovered_after_crash" not in line  # written only on a recovered line
    assert LoadRecord.from_json(line) == record
    recovered = dataclasses.replace(record, recovered_after_crash=True).to_json()
    assert recovered == {**line, "recovered_after_crash": True}
