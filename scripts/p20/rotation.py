"""Key rotation without losing a link.

Custodian side, `p20 keys rotate`: a new master key; from the escrow crosswalk (which knows the
normalised id behind every token) each id kind gets a token map old -> new, written as a
rotation package (Parquet maps + rotation.json sealed with the *old* manifest key, which the
warehouse trusts). The escrow is rebuilt under the new key; the old key is retired, not deleted.

Research side, `p20 rekey <package>`: the current load of every extract with token columns is
rewritten through the maps as a new load that supersedes it (the old one stays for audit), the
warehouse's key pin moves to the new fingerprint and the new manifest key is installed. The marts
come out with the same counts; only token values differ. The maps hold tokens only, no ids.
"""

import base64
import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from p20 import escrow, keys, landing, paths
from p20.errors import RejectedInput, UsageError
from p20.ledger import LoadRecord, append_ledger, current_loads, read_ledger
from p20.manifest import is_sealed_by, seal_manifest
from p20.policy import extracts
from p20.textio import atomic_dir, file_sha256, sql_str, write_json_atomic

FORMAT = "p20-rotation/1"


def rotate() -> Path:
    """Make the new key, the token maps and the rebuilt escrow; returns the package folder."""
    old = keys.load_master_key()
    escrow_key = keys.load_escrow_key()
    old_fp = keys.fingerprint(old)
    kinds = sorted(p.stem for p in (escrow.escrow_dir() / old_fp).glob("*.crosswalk"))
    if not kinds:
        raise UsageError(f"no escrow crosswalk for key {old_fp}: nothing to rotate from")
    new = os.urandom(keys.KEY_BYTES)
    new_fp = keys.fingerprint(new)
    package = paths.custodian_dir() / "rotation" / f"{old_fp}-to-{new_fp}"
    files = {}
    with atomic_dir(package) as tmp:
        for kind in kinds:
            crosswalk = escrow.read_crosswalk(kind, escrow_key, old_fp)
            normalised = crosswalk.column("normalised_id").to_pylist()
            _, new_tokens = keys.tokenise_many(new, kind, normalised)
            token_map = pa.table({"old_token": crosswalk.column("token"), "new_token": new_tokens})
            pq.write_table(token_map, tmp / f"{kind}.parquet")
            escrow.write_crosswalk(
                kind,
                pa.table({"token": new_tokens, "normalised_id": normalised}),
                escrow_key,
                new_fp,
            )
            files[kind] = {
                "sha256": file_sha256(tmp / f"{kind}.parquet"),
                "rows": token_map.num_rows,
            }
        info = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "old_fingerprint": old_fp,
            "new_fingerprint": new_fp,
            "maps": files,
            "new_manifest_key": base64.b64encode(keys.manifest_key(new)).decode(),
        }
        write_json_atomic(tmp / "rotation.json", seal_manifest(info, old))
    retired = keys.master_key_path().parent / "retired" / f"master-{old_fp}.key"
    retired.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(retired.parent, 0o700)
    os.replace(keys.master_key_path(), retired)
    keys.write_secret(keys.master_key_path(), new)
    return package


def _read_package(package: Path) -> dict:
    path = package / "rotation.json"
    if not path.exists():
        raise UsageError(f"{package}: not a rotation package (no rotation.json)")
    info = json.loads(path.read_text())
    if info.get("format") != FORMAT or not is_sealed_by(info, keys.load_manifest_key()):
        raise RejectedInput(
            "rotation.json: rule 'package authenticity' failed: not sealed with the key this "
            "warehouse trusts, or altered since"
        )
    for kind, meta in info["maps"].items():
        if file_sha256(package / f"{kind}.parquet") != meta["sha256"]:
            raise RejectedInput(
                f"{kind}.parquet: rule 'package hash' failed: changed after sealing"
            )
    return info


def rekey(package: Path) -> list[str]:
    """Rewrite every current load's tokens through the package's maps; returns the new load ids."""
    info = _read_package(package)
    trust_path = paths.warehouse_dir() / landing.TRUST_FILE
    new_loads = []
    with landing.exclusive_lock(paths.warehouse_dir()):
        trust = json.loads(trust_path.read_text()) if trust_path.exists() else {}
        if trust.get("key_fingerprint") != info["old_fingerprint"]:
            raise RejectedInput(
                f"rotation.json: rotates from key {info['old_fingerprint']}, but the warehouse "
                f"holds tokens of {trust.get('key_fingerprint')}"
            )
        con = duckdb.connect()
        for kind in info["maps"]:
            con.sql(
                f"create temp table map_{kind} as select * from read_parquet({sql_str(package / f'{kind}.parquet')})"
            )
        ledger = read_ledger()
        for (name, year), rec in sorted(current_loads(ledger).items()):
            token_cols = [c for c in extracts()[name].columns if c.action == "tokenise"]
            if not token_cols:
                continue
            source = landing.landed_path(name, year, rec["load_id"]) / "*.parquet"
            con.sql(
                f"create or replace temp table current_load as select * from read_parquet({sql_str(source)})"
            )
            select, joins = [], []
            for col in extracts()[name].columns:
                if col.action == "drop":
                    continue
                if col in token_cols:
                    alias = f"m{col.position}"
                    joins.append(
                        f"left join map_{col.id_kind} {alias} on {alias}.old_token = current_load.{col.outbox_column}"
                    )
                    select.append(f"{alias}.new_token as {col.outbox_column}")
                else:
                    select.append(f"current_load.{col.outbox_column}")
            query = f"select line_no, {', '.join(select)} from current_load {' '.join(joins)}"
            unmapped = con.sql(
                f"select count(*) from ({query}) where "
                + " or ".join(f"{c.outbox_column} is null" for c in token_cols)
            ).fetchall()[0][0]
            originally_null = con.sql(
                "select count(*) from current_load where "
                + " or ".join(f"{c.outbox_column} is null" for c in token_cols)
            ).fetchall()[0][0]
            if unmapped != originally_null:
                raise RejectedInput(
                    f"{name} {year}: {unmapped - originally_null} rows hold tokens the rotation maps "
                    "do not know; nothing was re-keyed"
                )
            load_id = landing.new_load_id()
            now = dt.datetime.now(dt.UTC).isoformat()
            record = LoadRecord(
                load_id=load_id,
                extract=name,
                school_year=year,
                file=rec.get("file"),
                file_sha256=None,
                rows=rec.get("rows"),
                suite=rec.get("suite"),
                suite_version=rec.get("suite_version"),
                key_fingerprint=info["new_fingerprint"],
                policy_version=rec.get("policy_version"),
                message=f"re-keyed to {info['new_fingerprint']}",
                outcome="landed",
                supersedes=rec["load_id"],
                rekeyed_from=rec["load_id"],  # re-keyed, not re-validated: no expectations
                started_at=now,
                finished_at=now,
            )
            landing.land(con, extracts()[name], year, record, rows_sql=query)
            append_ledger(record)
            new_loads.append(load_id)
        history = trust.get("history", []) + [
            {"key_fingerprint": info["old_fingerprint"], "rotated_at": info["created_at"]}
        ]
        write_json_atomic(
            trust_path, {"key_fingerprint": info["new_fingerprint"], "history": history}
        )
        manifest_key_path = keys.manifest_key_path()
        manifest_key_path.unlink(missing_ok=True)
        keys.write_secret(manifest_key_path, base64.b64decode(info["new_manifest_key"]))
    return new_loads
