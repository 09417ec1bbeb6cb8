"""What the emulator serves: log entries in API order and Monitoring time series, by filter.

Entries live in an in-memory DuckDB table sorted as ``entries.list`` returns them (timestamp,
then insertId), each with its position ``pos``. Every entry has a receive time ``rts`` for
``receiveTimestamp`` filters: its own, or its timestamp when a fixture leaves it out (the real
API always sets one). A page token is a position, so a page costs one
ranged scan whatever page it is, and a token stays valid across emulator restarts with the same
data. Time series are small; they sit in a list, with their headers in DuckDB so the same
filter compiler selects them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from forensics.emulator.filter_sql import CompiledFilter
from forensics.readers import read_entries
from forensics.schema import SEVERITY_LEVELS

__all__ = ["EntryTable", "Page", "SeriesTable", "entries_from_files", "series_from_files"]

_LOAD_BATCH = 100_000
_FIRST_CHUNK = 4_096
_MAX_CHUNK = 1_048_576

_SEVERITY_CASE = " ".join(f"WHEN '{name}' THEN {num}" for name, num in SEVERITY_LEVELS.items())

_BUILD = f"""
CREATE TABLE entries AS
WITH parsed AS (
    SELECT
        seq,
        raw,
        TRY_CAST(json_extract_string(raw, '$.timestamp') AS TIMESTAMPTZ) AS ts,
        TRY_CAST(json_extract_string(raw, '$.receiveTimestamp') AS TIMESTAMPTZ) AS received,
        coalesce(json_extract_string(raw, '$.insertId'), '') AS insert_id,
        upper(coalesce(json_extract_string(raw, '$.severity'), 'DEFAULT')) AS severity,
        json_extract_string(raw, '$.logName') AS log_name,
        json_extract_string(raw, '$.resource.type') AS resource_type
    FROM staging
)
SELECT
    row_number() OVER (ORDER BY ts, insert_id, seq) - 1 AS pos,
    ts,
    coalesce(received, ts) AS rts,
    insert_id,
    CASE severity {_SEVERITY_CASE} ELSE 0 END AS severity_num,
    log_name,
    resource_type,
    raw
FROM parsed
WHERE ts IS NOT NULL AND log_name IS NOT NULL
ORDER BY pos
"""


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    """Drop fixture annotations (keys starting with "_"): the real API never returns them."""
    return {k: v for k, v in entry.items() if not k.startswith("_")}


@dataclass(frozen=True)
class Page:
    """One page of raw entry JSON texts and where the next page starts (None: no more)."""

    raws: list[str]
    next_pos: int | None
    scanned: int


class EntryTable:
    """Log entries in API order, filtered and paged by SQL."""

    def __init__(self, entries: Iterable[dict[str, Any]]) -> None:
        self._conn = duckdb.connect(":memory:")
        self._conn.execute("SET TimeZone = 'UTC'")
        self._conn.execute("CREATE TABLE staging (seq BIGINT, raw VARCHAR)")
        seq = 0
        it = iter(entries)
        while batch := list(itertools.islice(it, _LOAD_BATCH)):
            raws = [
                json.dumps(_public(e), separators=(",", ":"), ensure_ascii=False) for e in batch
            ]
            chunk = pa.table(
                {
                    "seq": pa.array(range(seq, seq + len(raws)), pa.int64()),
                    "raw": pa.array(raws, pa.string()),
                }
            )
            self._conn.register("chunk", chunk)
            self._conn.execute("INSERT INTO staging SELECT seq, raw FROM chunk")
            self._conn.unregister("chunk")
            seq += len(raws)
        self._conn.execute(_BUILD)
        self._conn.execute("DROP TABLE staging")
        row = self._conn.execute("SELECT count(*) FROM entries").fetchone()
        self.count = int(row[0]) if row else 0
        self.rejected = seq - self.count  # no timestamp or logName: the API could not hold them

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._conn.cursor()  # one cursor per request thread

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the served table ``entries`` (pos, ts, insert_id, ..., raw): for
        benchmarks and tests that measure or check what is served."""
        return self._cursor()

    def _bounds(self, low: datetime | None, high: datetime | None) -> tuple[int, int]:
        cur = self._cursor()
        first = (
            cur.execute("SELECT min(pos) FROM entries WHERE ts >= ?", [low]).fetchone()
            if low
            else (0,)
        )
        last = (
            cur.execute("SELECT max(pos) FROM entries WHERE ts <= ?", [high]).fetchone()
            if high
            else (self.count - 1,)
        )
        lo = first[0] if first and first[0] is not None else self.count
        hi = last[0] if last and last[0] is not None else -1
        return int(lo), int(hi)

    def page(
        self,
        where: CompiledFilter,
        *,
        after: int | None,
        size: int,
        descending: bool,
        time_range: tuple[datetime | None, datetime | None],
        scan_budget: int,
    ) -> Page:
        """Up to ``size`` matching entries after position ``after`` (exclusive).

        Scans in growing position chunks and stops early once ``scan_budget`` rows were looked
        at, returning a short (possibly empty) page with a token, as the real API does when a
        search runs out of time.
        """
        lo, hi = self._bounds(*time_range)
        cur = self._cursor()
        raws: list[str] = []
        scanned = 0
        chunk = max(_FIRST_CHUNK, size * 4)
        order = "DESC" if descending else "ASC"
        pos = (
            (hi if after is None else min(hi, after - 1))
            if descending
            else (lo if after is None else max(lo, after + 1))
        )
        last_returned: int | None = None
        while len(raws) < size and lo <= pos <= hi and scanned < scan_budget:
            width = min(chunk, scan_budget - scanned)
            start, end = (pos - width + 1, pos) if descending else (pos, pos + width - 1)
            start, end = max(start, lo), min(end, hi)
            rows = cur.execute(
                f"SELECT pos, raw FROM entries WHERE pos BETWEEN ? AND ? AND ({where.sql}) "
                f"ORDER BY pos {order} LIMIT ?",
                [start, end, *where.params, size - len(raws)],
            ).fetchall()
            raws.extend(r[1] for r in rows)
            if rows:
                last_returned = int(rows[-1][0])
            scanned += end - start + 1
            pos = start - 1 if descending else end + 1
            chunk = min(chunk * 4, _MAX_CHUNK)
        if len(raws) >= size and last_returned is not None:
            resume = last_returned  # the chunk may hold more matches after the last one returned
        else:
            resume = pos + 1 if descending else pos - 1  # everything up to here was looked at
        more = (resume - 1 >= lo) if descending else (resume + 1 <= hi)
        return Page(raws, resume if more else None, scanned)

    def insert_ids(self, where: CompiledFilter) -> set[tuple[str, str]]:
        """(logName, insertId) of every entry the filter matches: what a full pull must get."""
        rows = (
            self._cursor()
            .execute(f"SELECT log_name, insert_id FROM entries WHERE {where.sql}", where.params)
            .fetchall()
        )
        return {(r[0], r[1]) for r in rows}


class SeriesTable:
    """Monitoring time series (REST JSON); headers in DuckDB so filters select them."""

    def __init__(self, series: Iterable[dict[str, Any]]) -> None:
        self.series = [_public(s) for s in series]
        self._conn = duckdb.connect(":memory:")
        headers = [
            json.dumps({k: v for k, v in s.items() if k != "points"}, separators=(",", ":"))
            for s in self.series
        ]
        self._conn.register(
            "h",
            pa.table(
                {
                    "idx": pa.array(range(len(headers)), pa.int64()),
                    "raw": pa.array(headers, pa.string()),
                }
            ),
        )
        self._conn.execute("CREATE TABLE series AS SELECT idx, raw FROM h")
        self._conn.unregister("h")

    def matching(self, where: CompiledFilter) -> list[int]:
        rows = (
            self._conn.cursor()
            .execute(f"SELECT idx FROM series WHERE {where.sql} ORDER BY idx", where.params)
            .fetchall()
        )
        return [int(r[0]) for r in rows]


def entries_from_files(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """LogEntry dicts from export files (JSON array, NDJSON, .gz), in file order."""
    for path in paths:
        for raw in read_entries(path):
            value = json.loads(raw.text)
            if isinstance(value, dict):
                yield value


def series_from_files(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """TimeSeries dicts from JSON files: a list of series, or {"timeSeries": [...]} pages."""
    out: list[dict[str, Any]] = []
    for path in paths:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
        items = value if isinstance(value, list) else [value]
        for item in items:
            out.extend(item.get("timeSeries", []) if "timeSeries" in item else [item])
    return out
