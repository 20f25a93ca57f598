"""The fault corpus (`p20 synth --faults`): every labelled kind of bad extract is refused by
`p20 pseudonymise` or rejected by `p20 load` with a message naming the file and the rule it
says, and the warehouse stays byte-for-byte unchanged except for the ledger and quarantine."""

import json
import shutil
from pathlib import Path

from conftest import tree_snapshot

# Faults the pipeline is meant to absorb rather than refuse.
TOLERATED = {"byte_order_mark"}  # DuckDB's reader strips a UTF-8 byte-order mark


def _needle(fault: dict) -> str:
    """The rule text a refusal must name, from the fault's `expected` description."""
    expected = fault["expected"]
    if fault["label"] == "row_count_far_below_previous_year":
        return "volume band"
    if "rule '" in expected:
        return expected.split("rule '", 1)[1].split("'")[0]
    if "never a full birth date" in expected:
        return "never a full birth date"
    return expected.split(": ", 1)[1]


def _outbox_with(work: Path, fault: dict, src: Path, master: bytes) -> Path:
    """An outbox holding just the outbox-stage fault file, with a manifest sealed by the
    custodian (a custodian whose own process wrote the bad file)."""
    from p20 import keys
    from p20.manifest import MANIFEST_FORMAT, seal_manifest
    from p20.policy import extracts
    from p20.textio import file_sha256

    outbox = work / "outbox"
    outbox.mkdir(parents=True)
    shutil.copy(src, outbox / src.name)
    manifest = {
        "format": MANIFEST_FORMAT,
        "key_fingerprint": keys.fingerprint(master),
        "files": [
            {
                "file": src.name,
                "extract": fault["extract"],
                "school_year": fault["school_year"],
                "sha256": file_sha256(outbox / src.name),
                "rows": src.read_bytes().count(b"\n"),
                "columns": extracts()[fault["extract"]].outbox_columns,
            }
        ],
    }
    (outbox / "manifest.json").write_text(json.dumps(seal_manifest(manifest, master)))
    return outbox


def test_every_fault_kind_is_refused_naming_file_and_rule(corpus, tmp_path, monkeypatch):
    from p20 import gate, keys
    from p20.custodian import pseudonymise
    from p20.errors import RejectedInput

    root, faults = corpus
    monkeypatch.setenv("P20_CUSTODIAN_DIR", str(root / "custodian"))
    master = keys.load_master_key()
    refused, problems = [], []
    for fault in faults:
        label, src = fault["label"], root / "custodian" / "faults" / fault["file"]
        warehouse = tmp_path / label / "warehouse"
        shutil.copytree(root / "warehouse", warehouse)
        monkeypatch.setenv("P20_WAREHOUSE_DIR", str(warehouse))
        before = {k: v for k, v in tree_snapshot(warehouse).items() if not k.startswith(("ledger", "quarantine"))}
        try:
            if fault["stage"] == "raw":
                raw = tmp_path / label / "raw"
                raw.mkdir()
                shutil.copy(src, raw / src.name)
                outbox = tmp_path / label / "outbox"
                pseudonymise(raw, outbox)
            else:
                outbox = _outbox_with(tmp_path / label, fault, src, master)
            outcomes = gate.load(outbox)
            rejected = [o for o in outcomes if o.status == "rejected"]
            message = " ".join(o.message for o in rejected)
            status = "rejected" if rejected else "accepted"
        except RejectedInput as exc:
            message, status = str(exc), "refused"
        after = {k: v for k, v in tree_snapshot(warehouse).items() if not k.startswith(("ledger", "quarantine"))}
        if label in TOLERATED:
            if status != "accepted":
                problems.append(f"{label}: meant to be tolerated, got {status}: {message}")
            continue
        if status == "accepted":
            problems.append(f"{label}: accepted")
            continue
        if after != before:
            problems.append(f"{label}: the warehouse changed outside ledger/quarantine")
        names = (src.name, f"{fault['extract']}_{fault['school_year']}.txt")
        if _needle(fault) not in message or not any(name in message for name in names):
            problems.append(f"{label}: message does not name the file and rule {_needle(fault)!r}: {message[:300]}")
        refused.append(label)
    assert not problems, "\n".join(problems)
    assert len(faults) >= 45 and len(refused) >= 44, refused
