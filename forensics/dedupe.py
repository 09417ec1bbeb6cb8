"""Drop the entries of a just-inserted chunk (or file) whose identity the store already holds.

Identity is the API's own, (log_name, insert_id, timestamp) (forensics.identity fills
insert_id for entries without one). Runs inside the chunk's transaction, after its INSERT;
``settle_insert`` does both and counts the outcome on the ingest run, for either load path.
"""

from __future__ import annotations

from typing import Any

import duckdb

from forensics.identity import fill_identities
from forensics.ingest_result import IngestResult

__all__ = ["delete_repeats", "settle_insert"]


def settle_insert(
    conn: duckdb.DuckDBPyConnection, before: int, inserted_row: Any, ingest_id: int
) -> IngestResult:
    """After an INSERT of rows past rowid ``before`` (its count in ``inserted_row``), inside its
    transaction: give them identities, delete repeats, count the outcome on the run."""
    inserted = int(inserted_row[0]) if inserted_row else 0
    if inserted:
        fill_identities(conn, "log_entries", "r.rowid > $before", {"before": before})
    duplicates = delete_repeats(conn, before) if inserted else 0
    result = IngestResult(accepted=inserted - duplicates, duplicates=duplicates)
    conn.execute(
        "UPDATE ingest_runs SET accepted = accepted + ?, duplicates = duplicates + ? "
        "WHERE ingest_id = ?",
        [result.accepted, result.duplicates, ingest_id],
    )
    return result


def delete_repeats(conn: duckdb.DuckDBPyConnection, before: int) -> int:
    """Delete the chunk's entries whose identity the store already held; return how many.

    Only the time range the chunk covers is looked at (zone maps prune the rest), and of each
    identity the oldest copy stays: earlier ingest runs first, then earlier rows.
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
