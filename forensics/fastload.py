"""Load a clean export file through DuckDB's own readers: the whole file, one statement.

forensics.ndjson cuts an NDJSON file into Arrow batches in Python (reading, the bracket screen,
the line split: 1.9 CPU s per 1M plain entries, 2.7 on a real-shaped day), and
forensics.jsonarray walks a JSON array element by element with Python's decoder; DuckDB's CSV
reader, told that a line is one column with no quoting, cuts the lines in 0.5-0.8 s, and
``read_json_objects`` the elements of an array at about 1 GB/s. This path takes a file that
needs nothing but that: every entry is JSON text that normalizes without a problem, none is
longer than MAX_FIELD_CHARS or nested deeper than MAX_DEPTH, and the file is plain (not gzip),
UTF-8, with "\\n" line ends (NDJSON) or one array (JSON). Anything else makes the statement
fail (the readers' own errors, or ``error()`` raised for an entry that needs the per-entry
path), the transaction is rolled back, and the caller loads the file the careful way, which
names every bad line (forensics.ingest). So the store's rows are the same either way; only the
cost differs.

Cost: one pass over the file, O(entries); an entry with more than MAX_DEPTH opening brackets
(an upper bound of its depth, counted by string_split) has its depth measured exactly in SQL,
O(its length) (a real export has one every few thousand lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from forensics.dedupe import settle_insert
from forensics.ingest_result import IngestResult
from forensics.limits import MAX_DEPTH, MAX_FIELD_CHARS
from forensics.normalize import normalize_sql
from forensics.store import Store, transaction

__all__ = [
    "DEPTH_SQL",
    "FAST_PROBLEM",
    "fast_insert_sql",
    "fast_path_applies",
    "lines_sql",
    "load_whole_file",
]

# What the statement raises for a line the per-entry path must see (never shown to a user: the
# file is then loaded the careful way, which names the line and its problem).
FAST_PROBLEM = "forensics: this file needs the line-by-line reader"
_GZIP = b"\x1f\x8b"
# DuckDB reads a file name with these as a glob pattern: such a file takes the reader's path.
_GLOB = "*?[]{}"


def fast_path_applies(path: Path) -> bool:
    """Whether ``path`` may take the fast path: a plain file whose name DuckDB reads as itself
    (no glob characters). Gzip takes the reader's path: DuckDB reads a truncated gzip stream
    to its cut without an error, where the reader says the file is damaged."""
    if any(char in str(path.absolute()) for char in _GLOB):
        return False
    try:
        with path.open("rb") as file:
            return file.read(2) != _GZIP
    except OSError:
        return False


# The exact nesting depth of a JSON text, in SQL (as forensics.limits.json_depth): strings cut
# out, then the running depth over the brackets left, its maximum carried with it in one BIGINT
# (maximum * 10^7 + depth; a line read here is at most 1 MiB, so both stay below 10^7) by
# list_reduce. Per character: only for a line whose brackets (string_split's count, strings
# included) pass MAX_DEPTH.
DEPTH_SQL = r"""list_reduce(list_transform(string_split(regexp_replace(regexp_replace(line,
    '"(?:[^"\\]|\\.)*"', '', 'g'), '[^\[\]{}]', '', 'g'), ''),
    ch -> CASE WHEN ch = '{' OR ch = '[' THEN 1::BIGINT ELSE -1::BIGINT END),
    (acc, d) -> greatest(acc // 10000000, acc % 10000000 + d) * 10000000 + acc % 10000000 + d,
    0::BIGINT) // 10000000"""


def lines_sql(path: Path, array: bool = False) -> str:
    """The file's entries as the relation forensics.normalize reads (``batch``): its lines, or
    with ``array`` the elements of its JSON array."""
    # Absolute, so that no prefix (s3:, http:, ~) can make DuckDB read anything but this file.
    literal = "'" + str(path.absolute()).replace("'", "''") + "'"
    brackets = "len(string_split(line, '{')) + len(string_split(line, '[')) - 2"
    needs_reader = (
        f"strlen(line) > {MAX_FIELD_CHARS} OR CASE WHEN {brackets} > {MAX_DEPTH} "
        f"THEN {DEPTH_SQL} > {MAX_DEPTH} ELSE false END"
    )
    if array:
        # Each element's text as it is in the file (normalize minifies it for ``raw``). A
        # second array appended to the file, a cut one or anything after the closing bracket
        # fails the statement.
        source = (
            f"(SELECT json AS line FROM read_json_objects({literal}, format = 'array', "
            f"compression = 'uncompressed', maximum_object_size = {4 * MAX_FIELD_CHARS}))"
        )
    else:
        source = f"""read_csv({literal}, columns = {{'line': 'VARCHAR'}}, delim = chr(1),
    quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n',
    compression = 'none', max_line_size = {4 * MAX_FIELD_CHARS})"""
    return f"""
SELECT CAST(NULL AS BIGINT) AS line_no, line,
    CASE WHEN {needs_reader} THEN error('{FAST_PROBLEM}') END::VARCHAR AS given_problem
FROM {source}"""


def fast_insert_sql(path: Path, columns: str, array: bool = False) -> str:
    """The INSERT of every entry of ``path`` (params ``source``, ``ingest_id``), a JSON array
    with ``array``; it fails, changing nothing once rolled back, for a file that needs the
    reader's path."""
    return f"""
INSERT INTO log_entries ({columns}, source, ingest_id)
SELECT {columns}, $source, $ingest_id
FROM ({normalize_sql(array, strict=True, batch_sql=lines_sql(path, array))})
WHERE CASE WHEN problem IS NULL THEN true ELSE error('{FAST_PROBLEM}') END"""


def load_whole_file(
    store: Store, path: Path, source: str, ingest_id: int, array: bool, columns: Sequence[str]
) -> IngestResult | None:
    """Load ``path`` (a JSON array with ``array``, else NDJSON) into ``columns`` of log_entries
    in one transaction, as run ``ingest_id``; None, with nothing written, when the file needs
    the reader's path."""
    conn = store.conn
    listed = ", ".join(f'"{c}"' for c in columns)
    try:
        with transaction(conn):
            before = conn.execute("SELECT coalesce(max(rowid), -1) FROM log_entries").fetchone()
            row = conn.execute(
                fast_insert_sql(path, listed, array), {"source": source, "ingest_id": ingest_id}
            ).fetchone()
            return settle_insert(conn, before[0] if before else -1, row, ingest_id)
    except (duckdb.Error, UnicodeDecodeError):
        # Rolled back: an entry that is not clean JSON, too long or too deep, or a file that is
        # not UTF-8 NDJSON with "\n" line ends or one JSON array. The reader's path names them.
        return None
