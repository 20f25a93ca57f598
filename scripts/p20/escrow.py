"""Escrow: the custodian's encrypted crosswalk token -> normalised id, for controlled
re-identification (a student's record must be corrected, a court orders it ...).

One file per key fingerprint and id kind, custodian/escrow/<fingerprint>/<kind>.crosswalk, AES-256-GCM under the escrow key (separate from
the master key), bound to the id kind and the key fingerprint as associated data, so a file
cannot be passed off for another kind or key. Every lookup needs the escrow key and a reason,
and appends a line (who, when, which token, why; never the id) to escrow/lookups.jsonl.
The research zone never receives anything from this folder.
"""

import datetime as dt
import getpass
import json
import os
import secrets

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from p20 import paths
from p20.errors import RejectedInput, UsageError

FORMAT = "p20-escrow/1"
SCHEMA = pa.schema([("token", pa.string()), ("normalised_id", pa.string())])
MIN_REASON_CHARS = 10


def escrow_dir():
    return paths.custodian_dir() / "escrow"


def _aad(id_kind: str, key_fingerprint: str) -> bytes:
    return f"{FORMAT}|{id_kind}|{key_fingerprint}".encode()


def _serialise(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def crosswalk_path(id_kind: str, key_fingerprint: str):
    return escrow_dir() / key_fingerprint / f"{id_kind}.crosswalk"


def read_crosswalk(id_kind: str, escrow_key: bytes, key_fingerprint: str) -> pa.Table | None:
    path = crosswalk_path(id_kind, key_fingerprint)
    if not path.exists():
        return None
    blob = path.read_bytes()
    try:
        plain = AESGCM(escrow_key).decrypt(blob[:12], blob[12:], _aad(id_kind, key_fingerprint))
    except InvalidTag:
        raise RejectedInput(
            f"{path.name}: cannot be opened: wrong escrow key, or it belongs to another key "
            "fingerprint or id kind"
        ) from None
    return pa.ipc.open_stream(plain).read_all()


def write_crosswalk(id_kind: str, pairs: pa.Table, escrow_key: bytes, key_fingerprint: str) -> int:
    """Merge (token, normalised_id) pairs into the kind's crosswalk; returns its size."""
    existing = read_crosswalk(id_kind, escrow_key, key_fingerprint)
    pairs = pairs.cast(SCHEMA)
    table = pairs if existing is None else pa.concat_tables([existing.cast(SCHEMA), pairs])
    table = table.group_by(["token", "normalised_id"]).aggregate([]).sort_by("token")
    nonce = secrets.token_bytes(12)
    blob = nonce + AESGCM(escrow_key).encrypt(nonce, _serialise(table), _aad(id_kind, key_fingerprint))
    path = crosswalk_path(id_kind, key_fingerprint)
    for folder in (escrow_dir(), path.parent):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    tmp = path.parent / f".tmp-{path.name}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(blob)
    os.replace(tmp, path)
    return table.num_rows


def lookup(token: str, reason: str, id_kind: str, escrow_key: bytes, key_fingerprint: str) -> str | None:
    """The normalised id behind a token, or None. The reason is logged; the id never is."""
    if len(reason.strip()) < MIN_REASON_CHARS:
        raise UsageError(f"--reason: say why this re-identification is needed (at least {MIN_REASON_CHARS} characters)")
    table = read_crosswalk(id_kind, escrow_key, key_fingerprint)
    if table is None:
        raise UsageError(
            f"{crosswalk_path(id_kind, key_fingerprint)}: no crosswalk; `p20 pseudonymise` writes it"
        )
    match = table.filter(pc.equal(table.column("token"), token.strip().lower()))
    found = match.column("normalised_id")[0].as_py() if match.num_rows else None
    entry = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "user": getpass.getuser(),
        "id_kind": id_kind,
        "token": token,
        "reason": reason.strip(),
        "found": found is not None,
    }
    with open(escrow_dir() / "lookups.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, sort_keys=True) + "\n")
    return found
