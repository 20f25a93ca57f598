"""What the custodian's raw folder holds, file by file, and what an outbox is missing.

Every entry of raw/ is a CALPADS-style extract named `<CODE>_<year>.txt` (a code the column
policy knows), a file taken under another name by an explicit `--map FILE=CODE_YEAR`, the
folder of a linked source (`p20 link` reads it), or the generator's marker. Anything else is
refused by name before anything is written: a misnamed file (SENR_2025.csv) never slips past.
`p20 pseudonymise` and `p20 link` both take their files from here; the outbox manifest records
the inventory (which extracts and years arrived, which the previous outbox had and this one
lacks), and `p20 load` prints what is missing.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from p20.errors import RejectedInput, UsageError
from p20.policy import Extract, extract_by_raw_code

RAW_NAME = re.compile(r"^(?P<code>[A-Z]{4})_(?P<year>\d{4})\.txt$")
TARGET = re.compile(r"^(?P<code>[A-Z]{4})_(?P<year>\d{4})$")  # the right side of --map
SYNTH_MARKER = "_synth.json"  # written by `p20 synth` into raw/: not an extract


def linked_sources() -> dict[str, tuple[str, re.Pattern]]:
    """Linked sources (no district id), from their configurations (p20.sources):
    extract -> (folder under raw/, file name with its year)."""
    from p20.sources import load_sources

    return {name: (s.folder, s.pattern) for name, s in load_sources().items()}


@dataclass(frozen=True)
class RawFile:
    path: Path
    extract: Extract
    year: int
    mapped: bool = False  # taken under another name through --map


def parse_mapping(items: list[str]) -> dict[str, tuple[str, int]]:
    """`--map FILE=CODE_YEAR` options -> {file name: (raw file code, school year)}."""
    mapping = {}
    for item in items:
        name, _, target = item.partition("=")
        m = TARGET.match(target.strip())
        if not name.strip() or not m:
            raise UsageError(f"--map {item!r}: expected FILE=CODE_YEAR, e.g. SENR_2025_corrected.txt=SENR_2025")
        if m["code"] not in extract_by_raw_code():
            raise UsageError(f"--map {item!r}: no extract code {m['code']} in seeds/extract_columns.csv")
        mapping[name.strip()] = (m["code"], int(m["year"]))
    return mapping


def _refuse(names: list[str], why: str) -> None:
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise RejectedInput(f"{shown}: {why}; nothing was written")


def raw_extracts(raw_dir: Path, mapping: dict[str, tuple[str, int]] | None = None) -> list[RawFile]:
    """The raw extracts of a folder (schools first, then as the seed lists them, by year), or a
    refusal naming every entry p20 does not recognise and every extract-year given twice."""
    if not raw_dir.is_dir():
        raise UsageError(f"{raw_dir}: no such folder of raw extracts (run `p20 synth` first?)")
    mapping = mapping or {}
    absent = sorted(set(mapping) - {p.name for p in raw_dir.iterdir()})
    if absent:
        raise UsageError(f"--map {absent[0]}: no such file in {raw_dir}")
    known = extract_by_raw_code()
    folders = {folder for folder, _ in linked_sources().values()}
    found, unknown = [], []
    for path in sorted(raw_dir.iterdir()):
        if path.name in mapping:
            code, year = mapping[path.name]
            found.append(RawFile(path, known[code], year, mapped=True))
        elif (path.is_dir() and path.name in folders) or path.name == SYNTH_MARKER:
            continue
        elif (m := RAW_NAME.match(path.name)) and path.is_file():
            if m["code"] not in known:
                raise RejectedInput(
                    f"{path.name}: no column policy for extract code {m['code']} in "
                    "seeds/extract_columns.csv; add one before it can cross to the research zone"
                )
            found.append(RawFile(path, known[m["code"]], int(m["year"])))
        else:
            unknown.append(path.name + ("/" if path.is_dir() else ""))
    if unknown:
        _refuse(
            unknown,
            "not named as a raw extract p20 knows (SENR_2025.txt; folders "
            f"{', '.join(f + '/' for f in sorted(folders))} for p20 link). Rename it, move it out of "
            f"{raw_dir.name}/, or take it explicitly with --map FILE=CODE_YEAR (docs/formats.md)",
        )
    seen: dict[tuple[str, int], str] = {}
    for f in found:
        key = (f.extract.raw_file_code, f.year)
        if key in seen:
            _refuse([seen[key], f.path.name], f"both are {key[0]} {key[1]}; keep one")
        seen[key] = f.path.name
    if not found:
        raise UsageError(f"{raw_dir}: holds no raw extracts named like SENR_2024.txt")
    order = list(known)
    return sorted(found, key=lambda f: (order.index(f.extract.raw_file_code), f.year))


def linked_source_files(raw_dir: Path, extract: str) -> list[tuple[Path, int]]:
    """A linked source's files with their years ([] when its folder is absent), or a refusal
    naming every file of the folder that is not named as the source's files are."""
    folder_name, pattern = linked_sources()[extract]
    folder = raw_dir / folder_name
    if not folder.is_dir():
        return []
    found, unknown = [], []
    for path in sorted(folder.iterdir()):
        m = pattern.match(path.name)
        if m and path.is_file():
            found.append((path, int(m.group(1))))
        else:
            unknown.append(f"{folder_name}/{path.name}")
    if unknown:
        example = pattern.pattern.strip("^$").replace("(\\d{4})", "<year>").replace("\\.", ".")
        _refuse(unknown, f"not a {extract} file p20 link knows (names like {example}); rename it or move it out")
    return found


def arrived(files: list[dict]) -> dict[str, list[int]]:
    """Extract -> the school years an outbox's manifest entries hold."""
    out: dict[str, set[int]] = {}
    for f in files:
        out.setdefault(f["extract"], set()).add(int(f["school_year"]))
    return {name: sorted(years) for name, years in sorted(out.items())}


def inventory(files: list[dict], previous: dict | None, mapped: list[dict], carried: list[dict] = ()) -> dict:
    """The manifest's inventory: what arrived; which extract-years the previous outbox held
    (`previous`: its manifest) that this one lacks; the files taken through --map. `carried`:
    missing entries an earlier step recorded that this one does not supply (p20 link keeps
    pseudonymise's)."""
    now = {(f["extract"], int(f["school_year"])) for f in files}
    before = {(f["extract"], int(f["school_year"])) for f in (previous or {}).get("files", [])}
    missing = {(m["extract"], m["school_year"]) for m in carried} | before
    return {
        "arrived": arrived(files),
        "compared_with": (previous or {}).get("created_at"),
        "missing": [{"extract": e, "school_year": y} for e, y in sorted(missing - now)],
        "mapped": mapped,
    }


def relisted(manifest: dict, files: list[dict]) -> dict:
    """The inventory of a manifest whose files a later step (p20 link) changed: what it lacked
    before stays missing unless now supplied, and what it listed and no longer does is missing."""
    inv = manifest.get("inventory") or {}
    new = inventory(files, manifest, inv.get("mapped", []), inv.get("missing", []))
    new["compared_with"] = inv.get("compared_with")
    return new


def missing_lines(manifest: dict) -> list[str]:
    """One short line per missing extract-year of a manifest's inventory (for the commands)."""
    inv = manifest.get("inventory") or {}
    since = f" ({inv['compared_with']})" if inv.get("compared_with") else ""
    linked = set(linked_sources())
    return [
        f"missing: {m['extract']} {m['school_year']}: in the previous outbox{since}, not in this one"
        + ("; run `p20 link` to make it again" if m["extract"] in linked else "")
        for m in inv.get("missing", [])
    ]
