"""Store, read and export daily snapshots (the ``snapshots`` table).

Usage:
  1. ``take_snapshot(store, day)`` computes the day's State and replaces that day's rows in one
     transaction: re-running a day is idempotent, and a killed run leaves the old day intact.
  2. ``load_day(store, day)`` reads a day back; a missing day is an InputError that lists the
     days that do exist.
  3. ``export_snapshots(store, path, fmt, days)`` writes rows as JSON or Parquet via DuckDB's
     COPY, to a temporary file renamed into place so that readers never see half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from forensics.errors import InputError
from forensics.redact import redact_obj, redact_text
from forensics.schema import column_names
from forensics.snapshots.model import Item, State
from forensics.snapshots.state import Sources, window_state
from forensics.store import Store, transaction
from forensics.timeutil import day_window, utcnow

__all__ = [
    "describe_days",
    "export_snapshots",
    "load_day",
    "missing_day_error",
    "stored_days",
    "take_snapshot",
    "take_snapshots",
    "write_state",
]

_COLUMNS = column_names("snapshots")
_INSERT = (
    f"INSERT INTO snapshots ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
EXPORT_FORMATS = {"json": "FORMAT json, ARRAY true", "parquet": "FORMAT parquet"}


def take_snapshot(
    store: Store, day: date, *, classify: bool = True, sources: Sources | None = None
) -> State:
    """Compute ``day``'s State from the store and save it, replacing that day's snapshot."""
    window = day_window(day)
    state = window_state(store, window, label=day.isoformat(), classify=classify, sources=sources)
    write_state(store, day, state)
    return state


def take_snapshots(
    store: Store, days: Sequence[date], sources: Sources | None = None
) -> list[State]:
    """Snapshot several days (each from its own analysis model)."""
    if not days:
        return []
    sources = sources or Sources.load()
    return [take_snapshot(store, day, classify=False, sources=sources) for day in days]


def write_state(store: Store, day: date, state: State, taken_at: datetime | None = None) -> int:
    """Replace ``day``'s rows with ``state`` in one transaction; returns the rows written."""
    stamp = taken_at or utcnow()
    rows: list[tuple[object, ...]] = [
        (day, "day", "summary", None, state.entries, None, json.dumps(state.summary()), stamp)
    ]
    # Stored redacted: snapshots are exported (to a bucket, for other tools) and compared
    # across days, so the one redaction applies here as at any output.
    rows += [
        (
            day,
            i.kind,
            redact_text(i.key),
            i.service,
            i.count,
            i.status,
            json.dumps(redact_obj(i.details)),
            stamp,
        )
        for i in state.items
    ]
    conn = store.conn
    with transaction(conn):
        conn.execute("DELETE FROM snapshots WHERE day = ?", [day])
        conn.executemany(_INSERT, rows)
    return len(rows)


def _has_table(store: Store) -> bool:
    # A store created before snapshots existed, opened read-only, has no such table yet.
    return bool(
        store.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'snapshots'"
        )
    )


def stored_days(store: Store) -> list[date]:
    """Every day with a snapshot, oldest first."""
    if not _has_table(store):
        return []
    rows = store.conn.execute(
        "SELECT DISTINCT day FROM snapshots WHERE kind = 'day' ORDER BY day"
    ).fetchall()
    return [row[0] for row in rows]


def describe_days(days: Sequence[date]) -> str:
    """'2025-09-01..2025-09-03, 2025-09-05' (runs of consecutive days collapsed), or 'none'."""
    if not days:
        return "none"
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        r[0].isoformat() if len(r) == 1 else f"{r[0].isoformat()}..{r[-1].isoformat()}"
        for r in runs
    )


def missing_day_error(store: Store, days: Sequence[date], what: str = "snapshot") -> InputError:
    """The error for days without a snapshot, naming the days that have one."""
    hint = f"forensics snapshot --date {days[-1].isoformat()}"
    if len(days) > 1:
        hint += f" --days {len(days)}"
    return InputError(
        f"no {what} for {describe_days(days)}; snapshots exist for: "
        f"{describe_days(stored_days(store))}. Take it with `{hint}`."
    )


def load_day(store: Store, day: date) -> State:
    """The stored State of ``day``; InputError naming the stored days when there is none."""
    rows = (
        store.conn.execute(
            "SELECT kind, key, service, count, status, details FROM snapshots "
            "WHERE day = ? ORDER BY kind, key, service",
            [day],
        ).fetchall()
        if _has_table(store)
        else []
    )
    summary = next((r for r in rows if r[0] == "day"), None)
    if summary is None:
        raise missing_day_error(store, [day])
    meta = _object(day, "summary", summary[5])
    recorded, gaps, notes = (meta.get(name, []) for name in ("recorded", "gaps", "notes"))
    if not (_list_of(recorded, str) and _list_of(gaps, dict) and _list_of(notes, str)):
        raise _damaged(day, "summary", "recorded, gaps and notes must be lists")
    return State(
        label=day.isoformat(),
        entries=int(summary[3]),
        items=[
            Item(kind, key, service, int(count), status, _object(day, f"{kind} {key}", details))
            for kind, key, service, count, status, details in rows
            if kind != "day"
        ],
        recorded=frozenset(recorded),
        gaps=list(gaps),
        notes=list(notes),
        catalog_version=str(meta.get("catalog_version", "")),
    )


def _list_of(value: object, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(v, kind) for v in value)


def _damaged(day: date, row: str, why: str) -> InputError:
    return InputError(
        f"snapshot {day.isoformat()}: row {row!r} is not as `forensics snapshot` writes it "
        f"({why}); take the day again with `forensics snapshot --date {day.isoformat()}`"
    )


def _object(day: date, row: str, details: str | None) -> dict[str, Any]:
    """A row's details: a JSON object (an edited row may hold any JSON value)."""
    value = json.loads(details) if details else {}
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")
        why = "null" if value is None else kind
        raise _damaged(day, row, f"its details are {why}, not a JSON object")
    return value


def export_snapshots(store: Store, path: Path, fmt: str, days: Sequence[date] | None) -> int:
    """Write the snapshot rows of ``days`` (None: every day) to ``path``; returns rows written.

    JSON is one array of row objects; Parquet keeps the column types. The file is written
    next to ``path`` and renamed over it, so a reader sees the old file or the whole new one.
    """
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    where = "TRUE"
    if days is not None:
        # Dates are date objects, so their ISO text is safe to inline (COPY takes no parameters).
        listed = ", ".join(f"DATE '{d.isoformat()}'" for d in days) or "NULL"
        where = f"day IN ({listed})"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    target = str(tmp).replace("'", "''")
    columns = ", ".join(_COLUMNS)
    if fmt == "json":  # JSON has no timestamp type: write RFC 3339, as every other JSON output
        columns = columns.replace(
            "taken_at", "strftime(taken_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS taken_at"
        )
    select = f"SELECT {columns} FROM snapshots WHERE {where} ORDER BY day, kind, key, service"
    try:
        count = store.scalar(f"SELECT count(*) FROM snapshots WHERE {where}")
        store.conn.execute(f"COPY ({select}) TO '{target}' ({EXPORT_FORMATS[fmt]})")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return int(count or 0)
