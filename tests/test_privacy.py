"""Nothing identifying crosses into the research zone: planted canary ids, names and birth
dates, and the key in any encoding, appear in no file of the outbox or the warehouse, nor in
any value of any landed Parquet file or DuckDB table."""

import base64
import re

import duckdb

from p20 import keys


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
    for name in ("canary ssid", "canary first name", "exact birth date"):
        assert needles[name] in raw_text, name
    files = [*tiny_run.warehouse.rglob("*"), *(tiny_run.custodian / "outbox").rglob("*")]
    files = [p for p in files if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any(p.name == "manifest.json" for p in files)
    assert any("target" in p.parts and p.name == "manifest.json" for p in files)  # dbt artifacts
    for path in files:
        data = path.read_bytes()
        for name, needle in needles.items():
            assert needle not in data, f"{name} found in {path}"
    for where, text in _table_dumps(tiny_run).items():
        for name, needle in needles.items():
            if "raw bytes" not in name:
                assert needle.decode() not in text, f"{name} found in {where}"


def test_escrow_stays_in_the_custodian_zone(tiny_run):
    assert next((tiny_run.custodian / "escrow").rglob("student.crosswalk")).exists()
    # escrow files are custodian/escrow/<fingerprint>/<id kind>.crosswalk
    leaked = [p for p in tiny_run.warehouse.rglob("*") if p.suffix == ".crosswalk" or p.name == "escrow"]
    leaked += [p for p in (tiny_run.custodian / "outbox").rglob("*") if p.suffix == ".crosswalk"]
    assert leaked == []


def test_no_value_in_the_warehouse_looks_like_an_ssid(tiny_run):
    ssid_like = re.compile(r"(?<![0-9a-f])\d{9,10}(?![0-9a-f])")
    for where, text in _table_dumps(tiny_run).items():
        assert not ssid_like.search(text), f"an SSID-like number in {where}"
