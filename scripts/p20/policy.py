"""The extract layouts and code sets, read from the dbt seeds: one source of truth for the
custodian (what may cross), the gate (what a valid file looks like) and dbt (how to decode)."""

import csv
import hashlib
import re
from dataclasses import dataclass
from functools import cache

import yaml

from p20.paths import REPO_ROOT, SEEDS_DIR

COLUMN_POLICY_SEED = SEEDS_DIR / "extract_columns.csv"
# The column `p20 link` adds to a record with no district id: the SSID it matched (tokenised by
# the policy like any SSID). An extract whose policy lists it is made by `p20 link`, not by
# `p20 pseudonymise`.
LINK_ID_COLUMN = "matched_ssid"
ACTIONS = {"keep", "tokenise", "coarsen", "drop"}
# An SSID is a 9-10 digit integer standing alone: not inside a hex token, and not the
# fractional part of a decimal (a mean over 512 students can end in exactly nine digits).
SSID_LIKE = re.compile(r"(?<![0-9a-f.])\d{9,10}(?![0-9a-f])")


@dataclass(frozen=True)
class Column:
    position: int
    raw_column: str
    action: str
    outbox_column: str
    id_kind: str


@dataclass(frozen=True)
class Extract:
    name: str
    raw_file_code: str
    columns: tuple[Column, ...]

    @property
    def outbox_columns(self) -> list[str]:
        return [c.outbox_column for c in self.columns if c.action != "drop"]

    @property
    def is_linked(self) -> bool:
        """Made by `p20 link` (records matched on identity fields), not `p20 pseudonymise`."""
        return any(c.raw_column == LINK_ID_COLUMN for c in self.columns)


def read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@cache
def extracts() -> dict[str, Extract]:
    """Extract name -> layout, in the order the seed lists them (schools first: others refer to it)."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in read_seed("extract_columns"):
        if row["action"] not in ACTIONS:
            raise ValueError(f"seeds/extract_columns.csv: unknown action {row['action']!r}")
        grouped.setdefault(row["extract"], []).append(row)
    result = {}
    for name, rows in grouped.items():
        rows.sort(key=lambda r: int(r["position"]))
        cols = tuple(
            Column(
                position=int(r["position"]),
                raw_column=r["raw_column"],
                action=r["action"],
                outbox_column=r["outbox_column"],
                id_kind=r["id_kind"],
            )
            for r in rows
        )
        result[name] = Extract(name=name, raw_file_code=rows[0]["raw_file_code"], columns=cols)
    return result


def extract_by_raw_code() -> dict[str, Extract]:
    """The CALPADS-style extracts `p20 pseudonymise` reads, by raw file code."""
    return {e.raw_file_code: e for e in extracts().values() if not e.is_linked}


def pseudonymised_extracts() -> dict[str, Extract]:
    return {name: e for name, e in extracts().items() if not e.is_linked}


def linked_extracts() -> dict[str, Extract]:
    return {name: e for name, e in extracts().items() if e.is_linked}


@cache
def policy_version() -> str:
    """Short hash of the column policy: the manifest records which policy made an outbox."""
    return hashlib.sha256(COLUMN_POLICY_SEED.read_bytes()).hexdigest()[:12]


@cache
def code_set(seed: str) -> list[str]:
    """The accepted values of a code set: the first column of its seed."""
    rows = read_seed(seed)
    if not rows:
        return []
    first = next(iter(rows[0]))
    return [row[first] for row in rows]


@cache
def exit_completion_pairs() -> list[tuple[str, str | None]]:
    """The (exit reason, completion status) pairs an enrolment may carry: any exit with no
    status; a completer exit (seed exit_reason_codes.is_completer) with a status of seed
    completion_status_codes. The gate's pair rule on SENR reads them."""
    exits = read_seed("exit_reason_codes")
    statuses = code_set("completion_status_codes")
    completers = [e["exit_reason"] for e in exits if e["is_completer"] == "true"]
    return [(e["exit_reason"], None) for e in exits] + [(e, s) for e in completers for s in statuses]


@cache
def project_var(name: str):
    """A namespaced var of dbt_project.yml (`p20:<name>`): rules dbt and Python share."""
    with open(REPO_ROOT / "dbt_project.yml", encoding="utf-8") as f:
        project = yaml.safe_load(f)
    return project["vars"][f"p20:{name}"]
