"""The ingest_runs table's rows: one per ingest run, opened, counted and closed.

A run is one file (or one collector page stream). Its row says while it runs that it does
(forensics.store marks a run no live process owns as interrupted) and, once done, what it
added, repeated and rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime

from forensics.ingest_result import IngestResult
from forensics.store import Store, run_finished, run_started

__all__ = ["count_rejected", "finish_run", "start_run"]


def start_run(store: Store, source: str) -> int:
    """Open a run for ``source``: its row says 'running' until finish_run."""
    row = store.conn.execute(
        "INSERT INTO ingest_runs (ingest_id, source, started, status) "
        "VALUES (nextval('ingest_id_seq'), ?, ?, 'running') RETURNING ingest_id",
        [source, datetime.now(UTC)],
    ).fetchone()
    assert row is not None
    run_started(store.path, int(row[0]))
    return int(row[0])


def finish_run(store: Store, ingest_id: int, result: IngestResult, status: str) -> None:
    """Close the run with its totals and ``status`` (complete or failed)."""
    run_finished(store.path, ingest_id)
    store.conn.execute(
        "UPDATE ingest_runs SET finished = ?, accepted = ?, duplicates = ?, rejected = ?, "
        "status = ? WHERE ingest_id = ?",
        [
            datetime.now(UTC),
            result.accepted,
            result.duplicates,
            result.rejected,
            status,
            ingest_id,
        ],
    )


def count_rejected(store: Store, ingest_id: int, rejected: int) -> None:
    """Add ``rejected`` entries to the run's count (a chunk's, once named)."""
    store.conn.execute(
        "UPDATE ingest_runs SET rejected = rejected + ? WHERE ingest_id = ?", [rejected, ingest_id]
    )
