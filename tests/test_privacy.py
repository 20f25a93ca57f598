"""Nothing identifying crosses into the research zone: planted canary ids, names and birth
dates, and the key in any encoding, appear in no file of the outbox or the warehouse, nor in
any value of any landed Parquet file or DuckDB table."""

import base64

import duckdb

from p20 import keys
from p20.policy import SSID_LIKE


def _needles(zones) -> dict[str, bytes]:
    master = keys._decode_key((zones.custodian / "keys" / "master.key").read_bytes(), "test")
    token_key = keys.derive_key(master, "token:student")
    c = zones.canaries
    needles = {
        "canary ssid": c["ssid"],
        "canary ssid without leading zero": c["ssid"].lstrip("0"),
        "canary first name": c["first_name"],
        "canary last name": c["last_name"],
        "exact birth date": c["birth_date"],
    }
    escrow_key = keys._decode_key((zones.custodian / "keys" / "escrow.key").read_bytes(), "test")
    for name, key in {"master key": master, "student token key": token_key, "escrow key": escrow_key}.items():
        needles[f"{name} (hex)"] = key.hex()
        needles[f"{name} (base64)"] = base64.b64encode(key).decode()
    out = {k: v.encode() for k, v in needles.items()}
    out["master key (raw bytes)"] = master
    out["escrow key (raw bytes)"] = escrow_key
    return out


def _table_dumps(zones) -> dict[str, str]:
    """Every value of every landed Parquet file and DuckDB table, as text (compression would
    hide a value from a byte search)."""
    dumps = {}
    con = duckdb.connect()
    for pq in zones.warehouse.rglob("*.parquet"):
        dumps[str(pq)] = con.sql(f"select * from read_parquet('{pq}')").df().to_csv()
    db = duckdb.connect(str(zones.warehouse / "p20.duckdb"), read_only=True)
    for schema, table in db.execute(
        "select table_schema, table_name from information_schema.tables"
    ).fetchall():
        dumps[f"{schema}.{table}"] = db.sql(f'select * from "{schema}"."{table}"').df().to_csv()
    db.close()
    return dumps


def test_canaries_and_key_bytes_are_nowhere_in_outbox_or_warehouse(tiny_run):
    assert tiny_run.canaries, "the session run plants canaries"
    needles = _needles(tiny_run)
    # The canaries really were in the raw extracts (the test could fail).
    raw_text = b"".join(p.read_bytes() for p in (tiny_run.custodian / "raw").glob("*.txt"))
    assert [n for n in ("canary ssid", "canary first name", "exact birth date") if needles[n] not in raw_text] == []
    files = [*tiny_run.warehouse.rglob("*"), *(tiny_run.custodian / "outbox").rglob("*")]
    files = [p for p in files if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any(p.name == "manifest.json" for p in files)
    assert any("target" in p.parts and p.name == "manifest.json" for p in files)  # dbt artifacts
    # Findings name the needle and the place, never its value: a failing run must not print
    # a key or an id into the CI log (pytest would show the operands of a bare `in`).
    found = []
    for path in files:
        data = path.read_bytes()
        found += [(name, str(path)) for name, needle in needles.items() if needle in data]
    found += [(name, where) for where, text in _table_dumps(tiny_run).items()
              for name, needle in needles.items()
              if "raw bytes" not in name and needle.decode() in text]
    assert found == []


def test_escrow_stays_in_the_custodian_zone(tiny_run):
    assert next((tiny_run.custodian / "escrow").rglob("student.crosswalk")).exists()
    # escrow files are custodian/escrow/<fingerprint>/<id kind>.crosswalk
    leaked = [p for p in tiny_run.warehouse.rglob("*") if p.suffix == ".crosswalk" or p.name == "escrow"]
    leaked += [p for p in (tiny_run.custodian / "outbox").rglob("*") if p.suffix == ".crosswalk"]
    assert leaked == []


def test_the_ssid_pattern_tells_ids_from_tokens_and_fractions():
    assert SSID_LIKE.search(",0246813579,") and SSID_LIKE.search(",246813579\n")
    assert not SSID_LIKE.search(",41.312109375,")  # a float mean, seen in CI on 2026-11-24
    assert not SSID_LIKE.search(",9f0246813579ab,")  # part of a token


def test_no_value_in_the_warehouse_looks_like_an_ssid(tiny_run):
    tables = _table_dumps(tiny_run)
    assert len(tables) > 20
    assert [where for where, text in tables.items() if SSID_LIKE.search(text)] == []
