"""Shared fixtures: isolated zones per test session, and one tiny end-to-end pipeline run."""

import atexit
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from p20.teardown import quiet_interpreter_shutdown

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Keep DuckDB's teardown report (see p20.teardown) out of the test log, in the controller
    and in every xdist worker."""
    atexit.register(quiet_interpreter_shutdown)


@dataclass
class Zones:
    custodian: Path
    warehouse: Path
    canaries: dict | None = None

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("P20_MASTER_KEY", None)
        env.update(P20_CUSTODIAN_DIR=str(self.custodian), P20_WAREHOUSE_DIR=str(self.warehouse))
        return env

    def p20(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        """Run the p20 command as a user would, in these zones."""
        proc = subprocess.run(
            [sys.executable, "-m", "p20", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"p20 {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc


def mart(zones: Zones, sql: str):
    """Query the zones' warehouse read-only, as a researcher would (a pandas DataFrame)."""
    import duckdb

    con = duckdb.connect(str(zones.warehouse / "p20.duckdb"), read_only=True)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


# Linked files `p20 link` adds to a ten-year outbox (2016-2025): preschool program years
# 2014-2024 (one or two years before kindergarten) and one NSC request (school year 2026).
N_LINKED_FILES = 12


def n_extract_files() -> int:
    """Files in a ten-year outbox: one per extract kind per school year, and the linked ones."""
    from p20.policy import pseudonymised_extracts

    return 10 * len(pseudonymised_extracts()) + N_LINKED_FILES


def new_zones(root: Path) -> Zones:
    zones = Zones(custodian=root / "custodian", warehouse=root / "warehouse")
    return zones


@pytest.fixture
def zones(tmp_path) -> Zones:
    return new_zones(tmp_path)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """In-process calls use a test's own zones, never the developer's ./custodian or ./warehouse."""
    monkeypatch.setenv("P20_CUSTODIAN_DIR", str(tmp_path / "custodian"))
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.delenv("P20_MASTER_KEY", raising=False)


# Distinctive identifying values planted in the raw extracts of one student (see plant_canaries).
CANARY = {"ssid": "0246813579", "first_name": "Zebulonia", "last_name": "Quixotefield"}


def plant_canaries(raw: Path) -> dict[str, str]:
    """Give one real student of the raw extracts a canary SSID and name in every file, and
    return those values plus the student's exact birth date (all must stay custodian-side)."""
    first_sinf = (raw / "SINF_2016.txt").read_bytes().decode().split("\r\n")
    fields = first_sinf[-2].split("^")  # a grade-12 student: born before 2000
    victim_ssid, birth_date = fields[6].strip(), fields[10]
    for path in sorted(raw.glob("S*_*.txt")):
        lines = path.read_bytes().decode().split("\r\n")
        for i, line in enumerate(lines):
            f = line.split("^")
            if len(f) > 10 and f[6].strip().lstrip("0") == victim_ssid.lstrip("0"):
                f[6], f[8], f[9] = CANARY["ssid"], CANARY["first_name"], CANARY["last_name"]
                lines[i] = "^".join(f)
        path.write_text("\r\n".join(lines), newline="")
    return {**CANARY, "birth_date": birth_date}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Zones:
    """The whole path on the tiny preset, with canaries planted in the raw extracts, then
    `p20 demo --preset tiny` (keys, pseudonymise, load, dbt build). Tests treat it as
    read-only; those that change things work on a copy."""
    zones = new_zones(tmp_path_factory.mktemp("tiny"))
    zones.p20("synth", "--preset", "tiny", "--seed", "7", check=True)
    zones.canaries = plant_canaries(zones.custodian / "raw")
    zones.p20("demo", "--preset", "tiny", "--seed", "7", check=True)
    return zones


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> Zones:
    """`p20 demo` on the small preset (the README's demo: 21 schools, ~10,000 students a
    year), for the study marts whose checks need statistical power. Only
    tests/test_small_preset.py uses it, so that one worker alone pays for it (--dist loadfile)."""
    zones = new_zones(tmp_path_factory.mktemp("small"))
    zones.p20("demo", "--preset", "small", "--seed", "42", check=True)
    return zones


def copy_zones(src: Zones, root: Path) -> Zones:
    dst = new_zones(root)
    dst.canaries = src.canaries
    shutil.copytree(src.custodian, dst.custodian, symlinks=True)
    shutil.copytree(src.warehouse, dst.warehouse, symlinks=True)
    return dst


def reseal_manifest(zones: Zones) -> None:
    """Make the manifest match the files again after a test edited one, sealed with the
    custodian's key (as a custodian whose own process produced a bad file would): so the
    gate's rules, not the hash or MAC checks, must catch it."""
    from p20 import keys
    from p20.manifest import seal_manifest
    from p20.textio import file_sha256

    outbox = zones.custodian / "outbox"
    manifest = json.loads((outbox / "manifest.json").read_text())
    for entry in manifest["files"]:
        path = outbox / entry["file"]
        entry["sha256"] = file_sha256(path)
        entry["rows"] = sum(1 for _ in path.open("rb"))
    master = keys.load_master_key(zones.custodian / "keys" / "master.key")
    (outbox / "manifest.json").write_text(json.dumps(seal_manifest(manifest, master), indent=2))


def trim_outbox(zones: Zones, keep) -> None:
    """Keep only the outbox files whose manifest entry satisfies `keep` (re-sealed), so tests
    that load many times stay fast."""
    outbox = zones.custodian / "outbox"
    manifest = json.loads((outbox / "manifest.json").read_text())
    for entry in manifest["files"]:
        if not keep(entry):
            (outbox / entry["file"]).unlink()
    manifest["files"] = [e for e in manifest["files"] if keep(e)]
    (outbox / "manifest.json").write_text(json.dumps(manifest))
    reseal_manifest(zones)


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes (for 'nothing changed' checks)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Two clean years (2024, 2025) of the tiny district loaded, and the labelled faults of 2025
    (`p20 synth --faults`): (root of the zones, the faults' index). Tests copy what they change."""
    import os

    from p20 import gate, keys
    from p20.custodian import pseudonymise

    root = tmp_path_factory.mktemp("faults")
    custodian, warehouse = root / "custodian", root / "warehouse"
    saved = {k: os.environ.get(k) for k in ("P20_CUSTODIAN_DIR", "P20_WAREHOUSE_DIR")}
    os.environ.update(P20_CUSTODIAN_DIR=str(custodian), P20_WAREHOUSE_DIR=str(warehouse))
    try:
        new_zones(root).p20(
            "synth", "--preset", "tiny", "--seed", "3", "--years", "2024-2025", "--faults", check=True
        )
        keys.init_master_key()
        keys.init_escrow_key()
        keys.write_secret(keys.manifest_key_path(), keys.manifest_key(keys.load_master_key()))
        pseudonymise(custodian / "raw", custodian / "outbox")
        outcomes = gate.load(custodian / "outbox")
        assert all(o.status == "landed" for o in outcomes)
    finally:
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v
    faults = json.loads((custodian / "faults" / "faults.json").read_text())["faults"]
    return root, faults
