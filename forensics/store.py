"""Open the DuckDB evidence store, create its schema, and run SQL against it.

Usage:
  1. ``with open_store(path) as store:`` opens (and creates) the file, waiting a bounded time
     for another process's lock, and makes sure every table and the ``entries`` view exist.
  2. ``store.conn`` is a plain DuckDB connection; ``store.query(sql, params)`` returns a polars
     DataFrame.
  3. Sessions are pinned to UTC so every timestamp reads the same on every machine.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from forensics.errors import InputError, StoreBusyError, StoreError
from forensics.schema import all_ddl, changed_layouts, rebuild_changed_layouts
from forensics.store_macros import SESSION_TABLES, session_ddl
from forensics.timeutil import Window

__all__ = [
    "DEFAULT_DB",
    "SANDBOX_CONFIG",
    "Store",
    "clamp_window",
    "default_db_path",
    "open_store",
    "run_finished",
    "run_started",
    "transaction",
]

DEFAULT_DB = "forensics.duckdb"
DEFAULT_LOCK_TIMEOUT_S = 30.0

_log = logging.getLogger(__name__)


def default_db_path() -> Path:
    """The store path: $FORENSICS_DB when set, else ./forensics.duckdb."""
    return Path(os.environ.get("FORENSICS_DB") or DEFAULT_DB)


@dataclass
class Store:
    """An open evidence store."""

    path: Path
    conn: duckdb.DuckDBPyConnection
    read_only: bool = False

    def query(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pl.DataFrame:
        """Run one SQL statement and return its rows as a polars DataFrame."""
        try:
            rel = self.conn.execute(sql, params) if params is not None else self.conn.execute(sql)
            return rel.pl()
        except duckdb.Error as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise StoreError(f"query failed: {first}") from err

    def scalar(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> Any:
        """Run one SQL statement and return the first column of its first row (or None)."""
        row = (
            self.conn.execute(sql, params).fetchone()
            if params
            else self.conn.execute(sql).fetchone()
        )
        return row[0] if row else None


# DuckDB 1.x (checked on 1.5 by tests/test_concurrency.py with two real processes):
#   IO Error: Could not set lock on file "/x/f.duckdb": Conflicting lock is held in
#   /usr/bin/python3 (PID 20829). See also https://duckdb.org/docs/stable/connect/concurrency
# Windows says the file "is being used by another process". Matched narrowly: a damaged file
# ("block checksum") must fail at once instead of being retried as if it were busy.
_LOCK_MARKERS = ("could not set lock", "conflicting lock", "being used by another process")
_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _is_lock_error(err: duckdb.Error) -> bool:
    text = str(err).lower()
    return any(marker in text for marker in _LOCK_MARKERS)


def _holder(err: duckdb.Error) -> str:
    """'PID 123 (/usr/bin/python3)' when DuckDB names the process holding the lock."""
    match = _HOLDER.search(str(err))
    return f"PID {match['pid']} ({match['program']})" if match else "another process"


# A sandboxed connection (`forensics query`) reads the store and nothing else: no file outside it
# (COPY TO, EXPORT DATABASE, ATTACH, read_text), no extension install or load (the network),
# and no setting can be changed back (lock_configuration), so SQL typed at the prompt cannot
# write, read the machine's files or reach the network. open_store locks the configuration once
# the session time zone is set.
SANDBOX_CONFIG: dict[str, str | bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


# The storage format a new store file is written in: v1.2.0 brings zstd for strings, which the
# `raw` column uses (forensics.schema). A file made earlier keeps its own format.
STORAGE_VERSION = "v1.2.0"


def _connect(
    path: Path, read_only: bool, lock_timeout_s: float, sandbox: bool = False
) -> duckdb.DuckDBPyConnection:
    """Connect, retrying while another process holds the file lock (DuckDB allows one writer)."""
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.05
    announced = False
    while True:
        try:
            if sandbox:
                return duckdb.connect(str(path), read_only=True, config=dict(SANDBOX_CONFIG))
            return duckdb.connect(
                str(path),
                read_only=read_only,
                config={"storage_compatibility_version": STORAGE_VERSION},
            )
        except duckdb.Error as err:
            if not _is_lock_error(err):
                raise StoreError(f"{path}: cannot open the store: {err}") from err
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"{path}: the store is in use by {_holder(err)} (waited "
                    f"{lock_timeout_s:g}s). Try again when it finishes, raise "
                    "FORENSICS_LOCK_TIMEOUT, or point --db at another file."
                ) from err
            if not announced:  # a person at a terminal should know why nothing happens yet
                _log.warning(
                    "%s: waiting up to %gs for %s to release the store",
                    path,
                    lock_timeout_s,
                    _holder(err),
                )
                announced = True
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)


def _env_lock_timeout() -> float:
    text = os.environ.get("FORENSICS_LOCK_TIMEOUT", "")
    if not text.strip():
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise InputError(f"FORENSICS_LOCK_TIMEOUT: {text!r} is not a number of seconds >= 0")
    return value


def _env_threads() -> int | None:
    """$FORENSICS_THREADS: cap DuckDB's worker threads (a shared machine, a benchmark)."""
    text = os.environ.get("FORENSICS_THREADS", "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"FORENSICS_THREADS: {text!r} is not a whole number of threads >= 1")
    return int(text)


@contextmanager
def open_store(
    path: Path | str | None = None,
    *,
    read_only: bool = False,
    lock_timeout_s: float | None = None,
    sandbox: bool = False,
    existing: bool = False,
) -> Iterator[Store]:
    """Open the store at ``path`` (default: ``default_db_path()``), creating the schema.

    Args:
        path: DuckDB file; ``":memory:"`` for a throwaway store.
        read_only: open without taking the write lock (the file must already exist).
        lock_timeout_s: how long to wait for another process's lock;
            default $FORENSICS_LOCK_TIMEOUT or 30 s.
        sandbox: read-only, and nothing but the store is reachable (see SANDBOX_CONFIG); for
            SQL from a person or a file.
        existing: a writer that must not create the store (a command that adds to a store the
            user already has: a mistyped path is an error, not a new empty store).

    Example:
        >>> with open_store(":memory:") as store:
        ...     store.scalar("SELECT count(*) FROM entries")
        0
    """
    db_path = Path(path) if path is not None else default_db_path()
    if lock_timeout_s is None:
        lock_timeout_s = _env_lock_timeout()
    read_only = read_only or sandbox
    if (read_only or existing) and str(db_path) != ":memory:" and not db_path.exists():
        raise StoreError(f"{db_path}: no store here yet; run `forensics ingest` or `make demo`")
    if str(db_path) != ":memory:":
        db_path.parent.mkdir(parents=True, exist_ok=True)
    threads = _env_threads()
    conn = _connect(db_path, read_only, lock_timeout_s, sandbox)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        if threads is not None:
            conn.execute(f"SET threads = {threads}")
        if sandbox:
            conn.execute("SET lock_configuration = true")
        if not read_only:
            for statement in all_ddl():
                conn.execute(statement)
            rebuild_changed_layouts(conn)  # an older version's per-run tables
            _mark_interrupted(conn, db_path)
        tables = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        # else a store made by an older version, or none at all, or (read-only) with per-run
        # tables of an older layout:
        if tables >= SESSION_TABLES and not changed_layouts(conn):
            for statement in session_ddl():  # forensics.pipeline shadows what it lacks first
                conn.execute(statement)
        yield Store(db_path, conn, read_only)
    finally:
        conn.close()


# Ingest runs this process has open, per store file: only those may be 'running' when a
# store is opened for writing (DuckDB lets one process write a file at a time).
_LIVE_RUNS: dict[str, set[int]] = {}


def run_started(path: Path, ingest_id: int) -> None:
    """Record that this process runs ``ingest_id`` on the store at ``path``."""
    _LIVE_RUNS.setdefault(str(path.resolve()), set()).add(ingest_id)


def run_finished(path: Path, ingest_id: int) -> None:
    _LIVE_RUNS.get(str(path.resolve()), set()).discard(ingest_id)


def _mark_interrupted(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A run still 'running' that no live process runs was killed: say so."""
    if str(path) == ":memory:":
        return
    live = sorted(_LIVE_RUNS.get(str(path.resolve()), set())) or [-1]
    conn.execute(
        "UPDATE ingest_runs SET status = 'interrupted' "
        "WHERE status = 'running' AND NOT list_contains($live, ingest_id)",
        {"live": live},
    )


def clamp_window(store: Store, window: Window) -> Window:
    """``window`` starting no earlier than the hour of the store's first entry or metric point.

    Nothing before that can be found, so the answer is the same, but a huge ``--hours`` costs
    no per-hour work for the centuries before the data.
    """
    first = store.scalar(
        'SELECT least((SELECT min("timestamp") FROM log_entries), '
        "(SELECT min(point_time) FROM metric_points))"
    )
    if first is None:
        return Window(max(window.since, window.until - timedelta(hours=1)), window.until)
    start = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if start <= window.since:
        return window
    return Window(min(start, window.until), window.until)


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: COMMIT when it ends, ROLLBACK if anything escapes.

    Every multi-statement write (a chunk and its counts, a page and its checkpoint, a day's
    snapshot) goes through here, so the store only ever holds whole units of work.
    """
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
