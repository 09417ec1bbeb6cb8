"""Drop the entries of a just-inserted chunk (or file) whose identity the store already holds.

Identity is the API's own, (log_name, insert_id, timestamp) (forensics.identity fills
insert_id for entries without one). Runs inside the chunk's transaction, after its INSERT;
``settle_runs`` (``settle_insert`` for one run) does both and counts the outcome on each
ingest run, for every load path.
"""

from __future__ import annotations

from typing import Any

import duckdb

from forensics.identity import fill_identities
from forensics.ingest_result import IngestResult

__all__ = ["delete_repeats", "settle_insert", "settle_runs"]


def settle_insert(
    conn: duckdb.DuckDBPyConnection, before: int, inserted_row: Any, ingest_id: int
) -> IngestResult:
    """After an INSERT of rows past rowid ``before`` (its count in ``inserted_row``), inside its
    transaction: give them identities, delete repeats, count the outcome on the run."""
    return settle_runs(conn, before, inserted_row, [ingest_id])[ingest_id]


def settle_runs(
    conn: duckdb.DuckDBPyConnection, before: int, inserted_row: Any, ingest_ids: list[int]
) -> dict[int, IngestResult]:
    """``settle_insert`` for an INSERT that added rows of several runs: each run's outcome."""
    inserted = int(inserted_row[0]) if inserted_row else 0
    if not inserted:
        return {run: IngestResult() for run in ingest_ids}
    fill_identities(conn, "log_entries", "r.rowid > $before", {"before": before})
    added = _rows_per_run(conn, before, ingest_ids, inserted)
    duplicates = delete_repeats(conn, before)
    kept = _rows_per_run(conn, before, ingest_ids, inserted - duplicates) if duplicates else added
    results = {}
    for run in ingest_ids:
        result = IngestResult(
            accepted=kept.get(run, 0), duplicates=added.get(run, 0) - kept.get(run, 0)
        )
        conn.execute(
            "UPDATE ingest_runs SET accepted = accepted + ?, duplicates = duplicates + ? "
            "WHERE ingest_id = ?",
            [result.accepted, result.duplicates, run],
        )
        results[run] = result
    return results


def _rows_per_run(
    conn: duckdb.DuckDBPyConnection, before: int, ingest_ids: list[int], total: int
) -> dict[int, int]:
    """Each run's rows past rowid ``before``; one run's is ``total``, counted already."""
    if len(ingest_ids) == 1:
        return {ingest_ids[0]: total}
    rows = conn.execute(
        "SELECT ingest_id, count(*) FROM log_entries WHERE rowid > ? GROUP BY ingest_id",
        [before],
    ).fetchall()
    return {int(run): int(count) for run, count in rows}


def delete_repeats(conn: duckdb.DuckDBPyConnection, before: int) -> int:
    """Delete the chunk's entries whose identity the store already held; return how many.

    Only the time range the chunk covers is looked at (zone maps prune the rest), and of each
    identity the oldest copy stays: the earliest ingest run's. Within one run, the first row
    stored, which with more than one DuckDB thread need not be the first line (ingest lets
    DuckDB drop insertion order: keeping it costs a quarter more wall time on two threads);
    Cloud Logging takes two entries of one identity for the same entry, so either is it.
    """
    lo, hi = conn.execute(
        'SELECT min("timestamp"), max("timestamp") FROM log_entries WHERE rowid > ?', [before]
    ).fetchone() or (None, None)
    if lo is None:
        return 0
    # Most chunks repeat nothing: one hash per row says so at a fifth of the window's cost. Two
    # copies of an identity always hash alike, so a repeat is never missed (a collision only
    # costs the exact pass below).
    distinct = conn.execute(
        'SELECT count(*) = count(DISTINCT hash(log_name, insert_id, "timestamp")) '
        'FROM log_entries WHERE "timestamp" BETWEEN $lo AND $hi',
        {"lo": lo, "hi": hi},
    ).fetchone()
    if distinct and distinct[0]:
        return 0
    row = conn.execute(
        """
        DELETE FROM log_entries WHERE rowid IN (
            SELECT rowid FROM log_entries
            WHERE "timestamp" BETWEEN $lo AND $hi
            QUALIFY row_number() OVER (
                PARTITION BY log_name, insert_id, "timestamp" ORDER BY ingest_id, rowid) > 1)
        """,
        {"lo": lo, "hi": hi},
    ).fetchone()
    return int(row[0]) if row else 0
