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
from typing import Any

import duckdb

from forensics.dedupe import settle_runs
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
    "load_files_as_runs",
    "load_whole_file",
    "run_lines_sql",
    "runs_insert_sql",
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


_BRACKETS = "len(string_split(line, '{')) + len(string_split(line, '[')) - 2"
# A line the per-entry path must see: too long, or (exactly, once the cheap bound says it may be)
# nested too deep.
_NEEDS_READER = (
    f"strlen(line) > {MAX_FIELD_CHARS} OR CASE WHEN {_BRACKETS} > {MAX_DEPTH} "
    f"THEN {DEPTH_SQL} > {MAX_DEPTH} ELSE false END"
)
_GIVEN_PROBLEM = f"CASE WHEN {_NEEDS_READER} THEN error('{FAST_PROBLEM}') END::VARCHAR"


def _csv_lines(files: str, filename: bool = False) -> str:
    """DuckDB's CSV reader over ``files`` (a literal or a parameter) told that a line is one
    column with no quoting: the lines, cut in bulk. Not Hive-partitioned: a directory named
    ``line=null`` on the way to the file would otherwise replace every line with NULL (and
    the blank-line rule would drop them all, silently)."""
    named = ", filename = true" if filename else ""
    return f"""read_csv({files}, columns = {{'line': 'VARCHAR'}}, delim = chr(1),
    quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n',
    compression = 'none', max_line_size = {4 * MAX_FIELD_CHARS},
    hive_partitioning = false{named})"""


def lines_sql(path: Path, array: bool = False) -> str:
    """The file's entries as the relation forensics.normalize reads (``batch``): its lines, or
    with ``array`` the elements of its JSON array."""
    # Absolute, so that no prefix (s3:, http:, ~) can make DuckDB read anything but this file.
    literal = "'" + str(path.absolute()).replace("'", "''") + "'"
    if array:
        # Each element's text as it is in the file (normalize minifies it for ``raw``). A
        # second array appended to the file, a cut one or anything after the closing bracket
        # fails the statement.
        source = (
            f"(SELECT json AS line FROM read_json_objects({literal}, format = 'array', "
            f"compression = 'uncompressed', maximum_object_size = {4 * MAX_FIELD_CHARS}, "
            "hive_partitioning = false))"
        )
    else:
        source = _csv_lines(literal)
    return f"""
SELECT CAST(NULL AS BIGINT) AS line_no, line, {_GIVEN_PROBLEM} AS given_problem
FROM {source}"""


def run_lines_sql() -> str:
    """The lines of the NDJSON files in the list parameter ``$files`` (absolute paths) as
    ``batch``, each line's ``line_no`` the ingest run of its file (``$runs``, in step)."""
    # A file name DuckDB gives back other than it was given would lose its lines in the join:
    # it fails the statement instead.
    return f"""
SELECT CASE WHEN file_runs.ingest_id IS NOT NULL THEN file_runs.ingest_id
            ELSE error('{FAST_PROBLEM}')::BIGINT END AS line_no,
    line, {_GIVEN_PROBLEM} AS given_problem
FROM {_csv_lines("$files", filename=True)} AS lines
LEFT JOIN (SELECT unnest($files) AS name, unnest($runs) AS ingest_id) AS file_runs
    ON lines.filename = file_runs.name"""


# An entry normalize finds a problem in fails the whole statement (the reader's path names it).
_REFUSE_PROBLEMS = f"WHERE CASE WHEN problem IS NULL THEN true ELSE error('{FAST_PROBLEM}') END"


def fast_insert_sql(path: Path, columns: str, array: bool = False) -> str:
    """The INSERT of every entry of ``path`` (params ``source``, ``ingest_id``), a JSON array
    with ``array``; it fails, changing nothing once rolled back, for a file that needs the
    reader's path."""
    return f"""
INSERT INTO log_entries ({columns}, source, ingest_id)
SELECT {columns}, $source, $ingest_id
FROM ({normalize_sql(array, strict=True, batch_sql=lines_sql(path, array))})
{_REFUSE_PROBLEMS}"""


def runs_insert_sql(columns: str) -> str:
    """The INSERT of every entry of the NDJSON files in ``$files``, each as its run in
    ``$runs`` with its source in ``$sources`` (lists in step); it fails, changing nothing once
    rolled back, when any file needs the reader's path."""
    batch = run_lines_sql()
    return f"""
INSERT INTO log_entries ({columns}, source, ingest_id)
SELECT {columns}, file_runs.source, entries.line_no
FROM ({normalize_sql(strict=True, batch_sql=batch)}) AS entries
JOIN (SELECT unnest($runs) AS ingest_id, unnest($sources) AS source) AS file_runs
    ON entries.line_no = file_runs.ingest_id
{_REFUSE_PROBLEMS}"""


def load_whole_file(
    store: Store, path: Path, source: str, ingest_id: int, array: bool, columns: Sequence[str]
) -> IngestResult | None:
    """Load ``path`` (a JSON array with ``array``, else NDJSON) into ``columns`` of log_entries
    in one transaction, as run ``ingest_id``; None, with nothing written, when the file needs
    the reader's path."""
    try:
        with transaction(store.conn):
            sql = fast_insert_sql(path, _listed(columns), array)
            params = {"source": source, "ingest_id": ingest_id}
            return _insert_settled(store, sql, params, [ingest_id])[ingest_id]
    except (duckdb.Error, UnicodeDecodeError):
        # Rolled back: an entry that is not clean JSON, too long or too deep, or a file that is
        # not UTF-8 NDJSON with "\n" line ends or one JSON array. The reader's path names them.
        return None


def load_files_as_runs(
    store: Store, files: Sequence[tuple[Path, str, int]], columns: Sequence[str]
) -> dict[int, IngestResult]:
    """Load clean NDJSON files, each ``(path, source, ingest_id)``, in one statement: what each
    run added and repeated. Call it inside the caller's transaction (which also holds the runs'
    rows); it raises duckdb.Error (or UnicodeDecodeError) when any file needs the reader's path,
    and the caller rolls back.

    Why together: a small file's rows are fewer than a DuckDB row group, so its own commit goes
    through the WAL and is written again at the checkpoint; a log sink's day (a file per log and
    hour, thousands of entries each) paid about as much for that as for the load itself."""
    runs = [ingest_id for _, _, ingest_id in files]
    params = {
        "files": [str(path.absolute()) for path, _, _ in files],
        "sources": [source for _, source, _ in files],
        "runs": runs,
    }
    return _insert_settled(store, runs_insert_sql(_listed(columns)), params, runs)


def _listed(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _insert_settled(
    store: Store, sql: str, params: dict[str, Any], ingest_ids: list[int]
) -> dict[int, IngestResult]:
    """Run the INSERT ``sql`` and settle what it added (forensics.dedupe.settle_runs)."""
    conn = store.conn
    before = conn.execute("SELECT coalesce(max(rowid), -1) FROM log_entries").fetchone()
    row = conn.execute(sql, params).fetchone()
    return settle_runs(conn, before[0] if before else -1, row, ingest_ids)
