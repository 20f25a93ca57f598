"""Linked sources as configuration: one YAML file per source (scripts/p20/linked_sources/<name>.yml, or
the folder named by P20_LINK_SOURCES_DIR), read by `p20 link` and by the raw inventory.

A file names the outbox extract its rows become (its column policy in
seeds/extract_columns.csv still decides what crosses), where its files are (folder under
custodian/raw/ and a file-name pattern whose first group is the year), how they are written
(delimiter, encoding), which of its columns carry which identity field (with the date formats
to read), which carry the policy's data columns, which are read for nothing, and the Splink
model that matches it (`model:`, p20.linkmodel). The format is
documented in docs/linkage-sources.md; a new roster is linked by writing such a file.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from p20.errors import UsageError
from p20.linkmodel import parse_model
from p20.paths import REPO_ROOT

DEFAULT_DIR = REPO_ROOT / "scripts" / "p20" / "linked_sources"
IDENTITY_FIELDS = (
    "first_name", "middle_name", "last_name", "birth_date", "gender",
    "address", "city", "postcode", "high_school_code", "grad_date",
)
DATE_FIELDS = ("birth_date", "grad_date")
REQUIRED_FIELDS = ("first_name", "last_name", "birth_date")
KEYS = {
    "extract", "folder", "file_pattern", "delimiter", "encoding", "one_student_per_year",
    "identity", "date_formats", "data", "drop", "model",
}


@dataclass(frozen=True)
class Source:
    """A linked source's files and the meaning of their columns (headers as header_name spells them)."""

    name: str  # the configuration file's stem
    extract: str
    folder: str
    pattern: re.Pattern
    identity: dict  # identity field -> column
    date_formats: dict  # date field -> strptime formats, tried in order
    data: dict  # policy raw column -> column
    drop: tuple = ()
    delimiter: str = ","
    encoding: str = "utf-8"
    group_by_year: bool = False  # one student per (program) year, not per file
    config: Path | None = None
    model: dict = field(default_factory=dict)  # the Splink model (p20.linkmodel)

    def has(self, field_name: str) -> bool:
        return field_name in self.identity

    @property
    def columns(self) -> set[str]:
        """Every column a file of this source must have, each exactly once."""
        return set(self.identity.values()) | set(self.data.values()) | set(self.drop)


def sources_dir() -> Path:
    value = os.environ.get("P20_LINK_SOURCES_DIR")
    return Path(value).resolve() if value else DEFAULT_DIR


def _bad(path: Path, what: str) -> UsageError:
    return UsageError(f"{path}: linked-source configuration: {what} (docs/linkage-sources.md)")


def _parse(path: Path) -> Source:
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise _bad(path, "not valid YAML") from None
    if not isinstance(body, dict):
        raise _bad(path, "not a mapping")
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise _bad(path, f"unknown keys {', '.join(unknown)}")
    for key in ("extract", "folder", "file_pattern", "identity", "model"):
        if not body.get(key):
            raise _bad(path, f"{key!r} is required")
    identity = {str(k): str(v) for k, v in dict(body["identity"]).items()}
    bad_fields = sorted(set(identity) - set(IDENTITY_FIELDS))
    if bad_fields:
        raise _bad(path, f"unknown identity fields {', '.join(bad_fields)}; known: {', '.join(IDENTITY_FIELDS)}")
    missing = [f for f in REQUIRED_FIELDS if f not in identity]
    if missing:
        raise _bad(path, f"identity must map {', '.join(missing)}")
    try:
        pattern = re.compile(str(body["file_pattern"]))
    except re.error:
        raise _bad(path, "file_pattern is not a regular expression") from None
    if pattern.groups < 1:
        raise _bad(path, "file_pattern needs a group capturing the year")
    formats = {str(k): tuple(str(f) for f in (v if isinstance(v, list) else [v])) for k, v in dict(body.get("date_formats") or {}).items()}
    if set(formats) - set(DATE_FIELDS):
        raise _bad(path, f"date_formats only for {', '.join(DATE_FIELDS)}")
    for f in DATE_FIELDS:
        if f in identity:
            formats.setdefault(f, ("%Y%m%d",))
    delimiter = str(body.get("delimiter", ","))
    if len(delimiter) != 1:
        raise _bad(path, "delimiter must be one character")
    return Source(
        name=path.stem,
        extract=str(body["extract"]),
        folder=str(body["folder"]),
        pattern=pattern,
        identity=identity,
        date_formats=formats,
        data={str(k): str(v) for k, v in dict(body.get("data") or {}).items()},
        drop=tuple(str(c) for c in body.get("drop") or ()),
        delimiter=delimiter,
        encoding=str(body.get("encoding", "utf-8")),
        group_by_year=bool(body.get("one_student_per_year", False)),
        config=path,
        model=parse_model(path, body["model"], identity),
    )


def load_sources() -> dict[str, Source]:
    """Extract name -> its source, from every *.yml of the sources folder (one per extract)."""
    folder = sources_dir()
    if not folder.is_dir():
        raise UsageError(f"{folder}: no folder of linked-source configurations (P20_LINK_SOURCES_DIR)")
    out: dict[str, Source] = {}
    for path in sorted(folder.glob("*.yml")):
        source = _parse(path)
        if source.extract in out:
            raise _bad(path, f"a second source for extract {source.extract} ({out[source.extract].config.name})")
        out[source.extract] = source
    return out
