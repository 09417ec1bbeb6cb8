"""Ingest's whole-file load through DuckDB's line reader (forensics.fastload): when it is taken,
and that it stores exactly what the reader's path stores, for clean and for damaged files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forensics import ingest
from forensics.fastload import DEPTH_SQL
from forensics.ingest import BATCH_SIZE, IngestResult, ingest_files
from forensics.limits import MAX_DEPTH, MAX_FIELD_CHARS, json_depth
from forensics.store import open_store

from .conftest import REAL_STAGING_ENTRIES, requires_real_staging


def _entry(i: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "logName": "projects/demo/logs/run.googleapis.com%2Fstdout",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
        "timestamp": f"2025-09-16T10:00:{i % 60:02d}.5Z",
        "insertId": f"id-{i}",
        "jsonPayload": {"message": f"line {i}", "n": i},
    }
    base.update(extra)
    return base


def _lines(*entries: dict[str, Any]) -> bytes:
    return "".join(json.dumps(e) + "\n" for e in entries).encode()


def _load(
    tmp_path: Path, name: str, path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[IngestResult, list[Any], int]:
    """Ingest ``path`` into a new store: its result, its rows, and how often the file was read
    by the reader's path (none for plain NDJSON on the whole-file path; once, the probe, for a
    JSON array on it)."""
    reads = 0
    real = ingest.read_batches

    def counted(*args: Any) -> Iterator[Any]:
        nonlocal reads
        reads += 1
        return real(*args)

    monkeypatch.setattr(ingest, "read_batches", counted)
    # A batch size other than the default asks for the reader's chunks.
    size = BATCH_SIZE if fast else BATCH_SIZE - 1
    with open_store(tmp_path / f"{name}-{fast}.duckdb") as store:
        result = ingest_files(store, [path], batch_size=size)
        result = ingest_files(store, [path], batch_size=size) if name == "twice" else result
        rows = store.conn.execute(
            "SELECT * EXCLUDE (ingest_id) FROM log_entries "
            'ORDER BY log_name, insert_id, "timestamp", raw'
        ).fetchall()
    monkeypatch.undo()
    return result, rows, reads


def _both(
    tmp_path: Path, name: str, path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[IngestResult, int]:
    """Ingest ``path`` both ways; assert the same rows and outcome; return the default's."""
    fast, fast_rows, reads = _load(tmp_path, name, path, True, monkeypatch)
    slow, slow_rows, _ = _load(tmp_path, name, path, False, monkeypatch)
    assert fast_rows == slow_rows
    assert (fast.accepted, fast.duplicates, fast.rejected) == (
        slow.accepted,
        slow.duplicates,
        slow.rejected,
    )
    assert [str(r) for r in fast.rejections] == [str(r) for r in slow.rejections]
    assert fast.notes == slow.notes
    assert fast.errors == slow.errors
    return fast, reads


@requires_real_staging
def test_the_real_export_loads_whole_with_the_readers_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, reads = _both(tmp_path, "real", REAL_STAGING_ENTRIES, monkeypatch)
    assert reads == 0  # DuckDB read the lines: the reader did not even probe them
    lines = [line for line in REAL_STAGING_ENTRIES.read_text().splitlines() if line.strip()]
    assert result.accepted + result.duplicates == len(lines)


@requires_real_staging
def test_the_real_export_as_a_json_array_loads_whole_with_the_readers_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `gcloud logging read --format=json` writes it: one pretty-printed array.
    lines = [line for line in REAL_STAGING_ENTRIES.read_text().splitlines() if line.strip()]
    path = tmp_path / "real.json"
    path.write_text(json.dumps([json.loads(line) for line in lines], indent=2))
    result, reads = _both(tmp_path, "real-array", path, monkeypatch)
    assert reads == 1
    assert result.accepted + result.duplicates == len(lines)


def test_a_shallow_line_with_many_brackets_stays_on_the_whole_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide = _entry(1, jsonPayload={"message": "wide", "items": [{} for _ in range(MAX_DEPTH)]})
    path = tmp_path / "wide.jsonl"
    path.write_bytes(_lines(_entry(0), wide, _entry(2)))
    result, reads = _both(tmp_path, "wide", path, monkeypatch)
    assert (reads, result.accepted) == (0, 3)  # the reader never read it


def test_repeats_count_as_duplicates_on_the_whole_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "twice.jsonl"
    path.write_bytes(_lines(_entry(0), _entry(1), _entry(0), {**_entry(3), "insertId": None}))
    result, reads = _both(tmp_path, "twice", path, monkeypatch)
    assert reads == 0  # both ingests whole-file, not even probed by the reader
    assert (result.accepted, result.duplicates) == (0, 4)  # the second ingest repeats all


def _deep(depth: int) -> dict[str, Any]:
    payload: Any = "bottom"
    for _ in range(depth):
        payload = {"d": payload}
    return _entry(1, jsonPayload=payload)


NEEDS_THE_READER = {
    "crlf": _lines(_entry(0)).replace(b"\n", b"\r\n") + _lines(_entry(1)),
    "not json": _lines(_entry(0)) + b'{"logName": \n' + _lines(_entry(2)),
    "wrong type": _lines(_entry(0), _entry(1, timestamp=5), _entry(2)),
    "too deep": _lines(_entry(0), _deep(MAX_DEPTH + 5), _entry(2)),
    "long string": _lines(_entry(0), _entry(1, textPayload="x" * (MAX_FIELD_CHARS + 10))),
    "not utf-8": _lines(_entry(0)) + b'{"logName": "\xff"}\n' + _lines(_entry(2)),
    "control byte": _lines(_entry(0)) + b'{"a": 1}\x01\n',
}


_ARRAY = json.dumps([_entry(0), _entry(1)], indent=2).encode()
NEEDS_THE_READER |= {
    "arrays appended": _ARRAY + b"\n" + json.dumps([_entry(2)]).encode(),
    "array cut off": _ARRAY[:-40],
    "after the array": _ARRAY + b" trailing words",
    "not an entry in the array": json.dumps([_entry(0), "text", _entry(2)]).encode(),
    "deep in the array": json.dumps([_entry(0), _deep(MAX_DEPTH + 5)]).encode(),
}


@pytest.mark.parametrize("name", sorted(NEEDS_THE_READER))
def test_a_file_the_whole_file_path_cannot_take_loads_as_the_reader_loads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = tmp_path / f"{name.replace(' ', '_')}.jsonl"
    path.write_bytes(NEEDS_THE_READER[name])
    result, reads = _both(tmp_path, name.replace(" ", "_"), path, monkeypatch)
    assert reads >= 1  # the reader's own pass (after its probe, for gzip and arrays)
    assert result.accepted >= 1  # the good lines around the bad one are kept


def test_a_file_name_duckdb_would_glob_takes_the_readers_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "logs[1].jsonl"
    path.write_bytes(_lines(_entry(0), _entry(1)))
    (tmp_path / "logs1.jsonl").write_bytes(_lines(*(_entry(i) for i in range(10, 20))))
    result, reads = _both(tmp_path, "glob", path, monkeypatch)
    assert (reads, result.accepted) == (2, 2)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab[]{}"\\\n\t'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


@given(_JSON)
def test_the_sql_depth_is_the_readers_depth(value: Any) -> None:
    text = json.dumps(value)
    with duckdb.connect() as conn:
        row = conn.execute(f"SELECT {DEPTH_SQL} FROM (SELECT $1 AS line)", [text]).fetchone()
    assert row is not None
    assert row[0] == json_depth(text, stop_at=10**9)


def test_a_file_name_with_quotes_and_spaces_loads_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "it's a file; DROP TABLE log_entries.jsonl"
    path.write_bytes(_lines(_entry(0), _entry(1)))
    result, reads = _both(tmp_path, "quoted", path, monkeypatch)
    assert (reads, result.accepted) == (0, 2)
