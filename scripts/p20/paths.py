"""Where the two zones live. Every command reads them from here, so the env vars always apply."""

import os
import sys
from functools import cache
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT / "seeds"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"


def _zone(env_var: str, default_name: str) -> Path:
    """A zone's folder, absolute. A relative value is taken from the repository root, never
    the working directory: the rule profiles.yml applies to P20_WAREHOUSE_DIR, so p20 and a
    plain `dbt build` agree on the folder (and the views hold its absolute paths)."""
    return REPO_ROOT / (os.environ.get(env_var) or default_name)


def foreign_checkout() -> Path | None:
    """The checkout whose .venv started this process, when that is not the checkout this code
    is in (else None). A copied or moved checkout's .venv still runs the original's code (its
    editable install and its scripts' #! lines name the old place), which would use the
    original's zones. Seen from the interpreter's venv and from the script that was run."""
    started = [Path(sys.prefix), Path(sys.argv[0]).parent.parent]
    for venv in (path.resolve() for path in started):
        checkout = venv.parent
        if venv.name == ".venv" and checkout != REPO_ROOT and (checkout / "dbt_project.yml").exists():
            return checkout
    return None


def custodian_dir() -> Path:
    """District side: raw extracts, keys, outbox (P20_CUSTODIAN_DIR, default <repo>/custodian)."""
    return _zone("P20_CUSTODIAN_DIR", "custodian")


def warehouse_dir() -> Path:
    """Institute side: landed Parquet, quarantine, ledger, DuckDB (P20_WAREHOUSE_DIR, default <repo>/warehouse)."""
    return _zone("P20_WAREHOUSE_DIR", "warehouse")


def raw_dir() -> Path:
    return custodian_dir() / "raw"


def truth_dir() -> Path:
    return custodian_dir() / "truth"


def keys_dir() -> Path:
    return custodian_dir() / "keys"


def outbox_dir() -> Path:
    return custodian_dir() / "outbox"


def landed_dir() -> Path:
    return warehouse_dir() / "landed"


def quarantine_dir() -> Path:
    return warehouse_dir() / "quarantine"


def ledger_path() -> Path:
    return warehouse_dir() / "ledger" / "loads.jsonl"


def duckdb_path() -> Path:
    """The file dbt builds (and release and audit read); researchers open the published one."""
    return warehouse_dir() / "p20.duckdb"


def published_duckdb_path(warehouse: Path | None = None) -> Path:
    """The snapshot of the last green full build that researchers open (p20.publish, which
    passes the warehouse dbt builds). Named as the build file is, so its catalog is `p20` too."""
    return (warehouse or warehouse_dir()) / "published" / "p20.duckdb"


def report_dir() -> Path:
    """Where `p20 report` writes its page (index.html), replaced whole each time."""
    return warehouse_dir() / "report"


@cache
def duckdb_storage_version() -> str:
    """The DuckDB storage version every warehouse file is created in, so that DuckDB clients
    older than the pinned duckdb open it. Its one place is the dbt profile (profiles.yml), which
    a plain `dbt build` reads too."""
    with open(REPO_ROOT / "profiles.yml", encoding="utf-8") as f:
        profile = yaml.safe_load(f)
    return profile["p20"]["outputs"]["duckdb"]["config_options"]["storage_compatibility_version"]


def duckdb_config() -> dict[str, str]:
    """`duckdb.connect(..., config=)` for a process that may create a warehouse file."""
    return {"storage_compatibility_version": duckdb_storage_version()}
