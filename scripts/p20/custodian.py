"""`p20 pseudonymise`: raw extracts -> outbox the research zone may receive.

Per extract file: every column is handled as the column policy (seeds/extract_columns.csv)
says: keep, tokenise (HMAC of the normalised id, per id kind), coarsen (birth date to year and
month) or drop. A file with more or fewer fields than the policy knows is refused, so a new
column can never slip through. Rows move as Arrow columns, in file order, through four
stages side by side: a reader thread parses the next file (Arrow's CSV reader) and
dictionary-encodes its id columns; this thread looks up the distinct ids' tokens (only ids never
seen before are hashed, in Python) and maps them back by index; a writer thread renders and
writes the previous file, and a flusher takes its sha256 and waits for the disk. The outbox is
written under a temporary name and renamed into place with its manifest. Which files are taken
is p20.inventory's: an entry of raw/ it does not recognise refuses the run by name. The files
`p20 link` added to the previous outbox are carried over when they are still valid under this
key; otherwise the manifest's inventory lists them missing, with the hint to link again.
"""

import datetime as dt
import hashlib
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import NoReturn

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from p20 import escrow, keys
from p20.diagnose import delimiter_problem, encoding_problem, header_problem
from p20.errors import RejectedInput
from p20.inventory import inventory, raw_extracts
from p20.manifest import MANIFEST, MANIFEST_FORMAT, is_sealed_by, read_manifest, seal_manifest
from p20.pipeline import Ordered
from p20.policy import Extract, linked_extracts, policy_version, project_var
from p20.textio import DELIMITER, atomic_dir, file_sha256, register_lines, write_json_atomic

# Characters of a CCYYMMDD birth date that cross, by var p20:birth_date_precision.
BIRTH_DATE_PRECISION = {"month": 6, "year": 4}
# What is trimmed around a birth date before it is coarsened: the Unicode space separators
# (category Zs), the characters DuckDB's trim() removed in earlier versions of this module.
SPACE_SEPARATORS = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
UTF8_BOM = b"\xef\xbb\xbf"
PARSE = pcsv.ParseOptions(delimiter=DELIMITER, quote_char=False, escape_char=False)
WRITE = pcsv.WriteOptions(
    include_header=False, delimiter=DELIMITER, quoting_style="none", batch_size=1 << 16
)


def encode_ids(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column of ids as indices into its distinct values: one dictionary shared by every chunk
    (already done by read_raw's thread for the columns it knows will be tokenised)."""
    if pa.types.is_dictionary(values.type):
        return values
    return values.dictionary_encode()


class TokenCache:
    """Tokens of every raw id form seen so far, per id kind: a student appears in every extract
    of every year, but is normalised and hashed once.

    A column's distinct values are first looked up, vectorised, in `recent`: the forms seen so
    far in the column's school year, or in the year before for the first column of a year (files
    are taken a school year at a time, and one year's people are mostly the next year's). Only
    the rest go through the Python dict of every form seen, and only forms never seen are hashed."""

    def __init__(self, master: bytes):
        self.master = master
        self.known: dict[str, dict[str, str]] = {}  # id kind -> raw form -> token ('' if no id)
        # id kind -> (school year, raw forms, their tokens)
        self.recent: dict[str, tuple[int, pa.Array, pa.Array]] = {}
        self.pairs: dict[str, list[pa.Table]] = {}  # id kind -> (token, normalised id) batches

    def column(self, values: pa.ChunkedArray, id_kind: str, year: int) -> pa.ChunkedArray:
        """The token of each value, in order ('' where the id is blank)."""
        self.known.setdefault(id_kind, {})  # an id kind met gets a crosswalk, even an empty one
        if len(values) == 0:
            return pa.chunked_array([], pa.string())
        encoded = encode_ids(values)
        tokens = self.tokens(encoded.chunk(0).dictionary, id_kind, year)
        return pa.chunked_array([tokens.take(chunk.indices) for chunk in encoded.chunks], pa.string())

    def tokens(self, distinct: pa.Array, id_kind: str, year: int) -> pa.Array:
        """Tokens for the distinct raw values of a column of one school year."""
        empty = pa.array([], pa.string())
        recent_year, recent_raw, recent_tokens = self.recent.get(id_kind, (year, empty, empty))
        tokens = recent_tokens.take(pc.index_in(distinct, value_set=recent_raw))
        missing = tokens.is_null()
        found_raw, found_tokens = distinct.filter(missing), empty
        if len(found_raw):
            known = self.known[id_kind]
            values = found_raw.to_pylist()
            new = [v for v in values if v not in known]
            normalised, hashed = keys.tokenise_many(self.master, id_kind, new)
            known.update(zip(new, (t or "" for t in hashed), strict=True))
            pairs = pa.table({"token": hashed, "normalised_id": normalised}, schema=escrow.SCHEMA)
            self.pairs.setdefault(id_kind, []).append(pairs.filter(pc.is_valid(pairs["token"])))
            found_tokens = pa.array([known[v] for v in values], pa.string())
            tokens = pc.replace_with_mask(tokens, missing, found_tokens)
        if year != recent_year:
            self.recent[id_kind] = (year, distinct, tokens)
        elif len(found_raw):
            self.recent[id_kind] = (
                year,
                pa.concat_arrays([recent_raw, found_raw]),
                pa.concat_arrays([recent_tokens, found_tokens]),
            )
        return tokens

    def crosswalk(self, id_kind: str) -> pa.Table:
        """Distinct (token, normalised_id) pairs, for the escrow."""
        batches = self.pairs.get(id_kind, [])
        return pa.concat_tables(batches) if batches else escrow.SCHEMA.empty_table()


def _refuse_layout_breaks(path: Path, extract: Extract) -> NoReturn:
    """Called when the fast typed read failed: find the lines whose field count breaks the
    column policy and refuse the file, naming them (never their content)."""
    con = duckdb.connect()
    register_lines(con, path, "raw_lines")
    expected = len(extract.columns)
    bad = con.execute(
        f"select line_no from raw_lines where len(string_split(line, '{DELIMITER}')) <> ? "
        "order by line_no",
        [expected],
    ).fetchall()
    if not bad:
        raise RejectedInput(f"{path.name}: file is not readable as caret-delimited text")
    last = con.execute("select max(line_no) from raw_lines").fetchall()[0][0]
    if [r[0] for r in bad] == [last] and not path.read_bytes().endswith(b"\n"):
        raise RejectedInput(  # a cut-off transfer, not a new column
            f"{path.name}: rule 'complete last line' failed: line {last}, the last, ends without a "
            "line end and lacks fields: the file looks cut off; send the whole file again"
        )
    first = ", ".join(str(r[0]) for r in bad[:10])
    raise RejectedInput(
        f"{path.name}: rule 'column policy' failed on {len(bad)} lines (first: {first}): the "
        f"{extract.raw_file_code} policy lists {expected} fields; a new or missing column must "
        "be added to seeds/extract_columns.csv with its action before anything crosses"
    )


def read_raw(path: Path, extract: Extract) -> pa.Table:
    """The columns of a raw file that cross (in file order), or a refusal: text, and the ones
    to be tokenised dictionary-encoded (encode_ids; done here so that it runs on the reading
    thread). The whole file must be UTF-8, dropped columns included; a UTF-8 byte-order mark is
    skipped."""
    table = _read_text(path, extract)
    for col in extract.columns:
        if col.action == "tokenise" and table.num_rows:
            i = table.schema.get_field_index(col.raw_column)
            table = table.set_column(i, col.raw_column, encode_ids(table.column(i)))
    return table


def _read_text(path: Path, extract: Extract) -> pa.Table:
    data = path.read_bytes()
    wanted = [c.raw_column for c in extract.columns if c.action != "drop"]
    if not data.removeprefix(UTF8_BOM).strip(b"\r\n"):
        return pa.table({name: pa.array([], pa.string()) for name in wanted})
    # One cause behind every broken line is named once (p20.diagnose): encoding, header row.
    problem = None if data.isascii() else encoding_problem(path.name, data)
    if problem:
        raise RejectedInput(problem)
    names = [c.raw_column for c in extract.columns]
    first = data.removeprefix(UTF8_BOM).split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    problem = header_problem(path.name, first, names)
    if problem:
        raise RejectedInput(problem)
    try:
        return pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(column_names=names),
            parse_options=PARSE,
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(wanted, pa.string()),
                include_columns=wanted,
                strings_can_be_null=False,
                check_utf8=False,  # checked above, for every column
            ),
        )
    except pa.ArrowInvalid:
        pass  # Arrow's message quotes the offending line: diagnose it by line number instead
    problem = delimiter_problem(path.name, data.removeprefix(UTF8_BOM), len(names))
    if problem:  # one cause for every line: say it once, not as a column-policy failure
        raise RejectedInput(problem)
    _refuse_layout_breaks(path, extract)


def render_lines(columns: list[pa.ChunkedArray]) -> pa.Buffer:
    """Columns as caret-delimited lines: no header, no quoting, '\\n' line ends."""
    table = pa.table(columns, names=[str(i) for i in range(len(columns))])
    sink = pa.BufferOutputStream()
    try:
        pcsv.write_csv(table, sink, WRITE)
        return sink.getvalue()
    except pa.ArrowInvalid:  # a '"' in a value (Arrow refuses it unquoted): join by hand
        lines = pc.binary_join_element_wise(*columns, DELIMITER)
        return pa.py_buffer("".join(f"{line}\n" for line in lines.to_pylist()).encode())


def _hash_and_flush(body: pa.Buffer, path: Path) -> str:
    """The sha256 of a file's bytes, once they are on disk."""
    sha256 = hashlib.sha256(body).hexdigest()
    with open(path, "rb") as f:
        os.fsync(f.fileno())
    return sha256


def pseudonymise_columns(
    table: pa.Table, extract: Extract, year: int, tokens: TokenCache
) -> list[pa.ChunkedArray]:
    """The crossing columns of one raw file (read_raw), in outbox order, row order kept."""
    birth_chars = BIRTH_DATE_PRECISION[project_var("birth_date_precision")]
    columns = []
    for col in extract.columns:
        if col.action == "keep":
            columns.append(table.column(col.raw_column))
        elif col.action == "coarsen":  # CCYYMMDD -> CCYYMM (or CCYY)
            trimmed = pc.utf8_trim(table.column(col.raw_column), SPACE_SEPARATORS)
            columns.append(pc.utf8_slice_codeunits(trimmed, 0, birth_chars))
        elif col.action == "tokenise":
            columns.append(tokens.column(table.column(col.raw_column), col.id_kind, year))
    return columns


def linked_entries_to_keep(previous: dict | None, outbox: Path, master: bytes) -> list[dict]:
    """The previous outbox's `p20 link` files that the new outbox keeps: only under a manifest
    sealed with this key, and each file still as its hash says (tokens of another key would
    not join; those are listed missing instead, with the hint to link again)."""
    if not previous or not is_sealed_by(previous, keys.manifest_key(master)):
        return []
    linked = [e for e in previous.get("files", []) if e.get("extract") in linked_extracts()]
    return [e for e in linked if (outbox / e["file"]).is_file() and file_sha256(outbox / e["file"]) == e["sha256"]]


def pseudonymise(
    raw_dir: Path, outbox: Path, key_path: Path | None = None, mapping: dict[str, tuple[str, int]] | None = None
) -> dict:
    """Write the whole outbox (extracts + manifest) atomically; returns the manifest. Files
    under other names are taken only through `mapping` (inventory.parse_mapping); the files
    `p20 link` added to the previous outbox are kept when they are still valid."""
    found = raw_extracts(raw_dir, mapping)
    files = [(f.path, f.extract, f.year) for f in found]
    mapped = [{"raw_file": f.path.name, "extract": f.extract.name, "school_year": f.year} for f in found if f.mapped]
    master = keys.load_master_key(key_path)
    escrow_key = keys.load_escrow_key()
    fingerprint = keys.fingerprint(master)
    previous = read_manifest(outbox)
    kept_linked = linked_entries_to_keep(previous, outbox, master)
    entries = {}
    tokens = TokenCache(master)
    # A school year at a time: the files of one year share their people (see TokenCache).
    todo = sorted(files, key=lambda f: f[2])
    with atomic_dir(outbox) as tmp, Ordered() as pipe, ThreadPoolExecutor(max_workers=1) as flusher:
        # Stages side by side (p20.pipeline): the reader parses the next file, the writer
        # renders and writes the previous one, the flusher hashes it and waits for the disk
        # (atomic_dir's own fsync then finds the files clean): Arrow and hashlib let go of the
        # GIL. This thread looks up tokens (the part that needs Python).
        writing: dict[Path, Future] = {}

        def write_file(columns: list[pa.ChunkedArray], out: Path) -> Future:
            """Render and write a file; its hash and fsync go on to the flusher."""
            body = render_lines(columns)
            with open(out, "wb") as f:
                f.write(body)
            return flusher.submit(_hash_and_flush, body, out)

        # a refusal of a file is raised by read_ahead, in file order
        for (path, extract, year), table in pipe.read_ahead(todo, lambda _, f: read_raw(*f[:2])):
            out_name = f"{extract.name}_{year}.txt"
            columns = pseudonymise_columns(table, extract, year, tokens)
            writing[path] = pipe.write(write_file, columns, tmp / out_name)
            entries[path] = {
                "file": out_name,
                "raw_file": path.name,
                "extract": extract.name,
                "school_year": year,
                "rows": table.num_rows,
                "columns": extract.outbox_columns,
            }
            del table, columns
        for path, written in writing.items():
            entries[path]["sha256"] = written.result().result()  # written, then hashed and flushed
        # The escrow is written before the outbox appears: a token never leaves without it.
        for id_kind in tokens.known:
            escrow.write_crosswalk(id_kind, tokens.crosswalk(id_kind), escrow_key, fingerprint)
        for entry in kept_linked:
            shutil.copy2(outbox / entry["file"], tmp / entry["file"])
        listed = [entries[path] for path, _, _ in files] + kept_linked
        manifest = {
            "format": MANIFEST_FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "key_fingerprint": fingerprint,
            "policy_version": policy_version(),
            "files": listed,
            "inventory": inventory(listed, previous, mapped),
        }
        if kept_linked:
            manifest["link"] = previous.get("link")
        manifest = seal_manifest(manifest, master)
        write_json_atomic(tmp / MANIFEST, manifest)
    return manifest
