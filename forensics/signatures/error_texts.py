"""Each ingest run's error entries, found and masked once, so mining a window reads a small table.

Finding the errors (a level regex per entry, a text regex for unlevelled lines) and masking
their texts (eleven regexes) is the miner's whole per-entry cost, and neither depends on the
window or the signature catalog. So:

Usage:
  1. Writers (``forensics.pipeline.classify_pending``: ingest, collect, `patterns apply`) call
     ``mine_pending(store)``: every ingest run without a current mark in ``mined_runs`` gets its
     error entries (``masking.ERROR_SQL``) written to ``error_texts`` with their text and masked
     text, and a mark holding the miner version and the run's accepted count. Cost: one scan of
     the new runs' entries, O(new entries); an unchanged store does nothing.
  2. ``errors_sql(where)`` is the relation the miner reads: the stored rows of the marked runs,
     plus, for a run not (or no longer) marked — an older store, changed masks, a run that grew
     since — the same rows computed live from ``log_entries``. The answer never depends on
     which path a run took. Cost: O(error rows in the window) for marked runs, O(entries of the
     unmarked runs in the window) for the rest.
  3. A mark is current while its miner version (``masking.MINER_VERSION``, a hash of the SQL)
     and its entry count equal today's: any change of the masks or error test, or entries added
     to the run, makes the run unmarked again. Which entries are *unexplained* (no signature
     match) is decided at read time against ``signature_matches``, so a catalog change needs no
     new rows.
"""

from __future__ import annotations

from typing import Any

from forensics.signatures.masking import ERROR_SQL, MINER_VERSION, SERVICE_SQL, TEXT_SQL, mask_sql
from forensics.store import Store, transaction

__all__ = ["errors_sql", "mine_pending", "mined_runs", "unmined_runs", "window_where"]

# One row per error entry of the scope: identity, service, text, masked text. ``_WHERE`` is
# replaced, not formatted: the masks hold RE2 braces.
_WHERE = "/*where*/"
_ROWS = f"""
SELECT "timestamp", log_name, insert_id, ingest_id, service, text, {mask_sql("text")} AS masked
FROM (
    SELECT e."timestamp", e.log_name, e.insert_id, e.ingest_id, {SERVICE_SQL} AS service,
           {TEXT_SQL} AS text
    FROM log_entries AS e
    WHERE {_WHERE} AND {ERROR_SQL}
)"""


def unmined_runs(store: Store) -> list[int]:
    """Ingest runs with entries whose error texts are not stored for today's miner."""
    rows = store.conn.execute(
        """
        SELECT r.ingest_id FROM ingest_runs AS r
        WHERE r.accepted > 0 AND NOT EXISTS (
            SELECT 1 FROM mined_runs AS m
            WHERE m.ingest_id = r.ingest_id AND m.miner_version = $version
              AND m.entries = r.accepted)
        ORDER BY r.ingest_id
        """,
        {"version": MINER_VERSION},
    ).fetchall()
    return [int(r[0]) for r in rows]


def _runs_list(runs: list[int]) -> str:
    return ", ".join(str(int(r)) for r in runs) or "NULL"


def mine_pending(store: Store) -> list[int]:
    """Store the error texts of every unmined run (writers only); return those runs."""
    runs = unmined_runs(store)
    if not runs:
        return runs
    listed = _runs_list(runs)
    with transaction(store.conn) as conn:
        conn.execute(f"DELETE FROM error_texts WHERE ingest_id IN ({listed})")
        conn.execute(f"DELETE FROM mined_runs WHERE ingest_id IN ({listed})")
        conn.execute(
            "INSERT INTO error_texts " + _ROWS.replace(_WHERE, f"e.ingest_id IN ({listed})")
        )
        conn.execute(
            f"""
            INSERT INTO mined_runs
            SELECT r.ingest_id, $version, r.accepted, count(t.ingest_id), now()
            FROM ingest_runs AS r LEFT JOIN error_texts AS t USING (ingest_id)
            WHERE r.ingest_id IN ({listed})
            GROUP BY r.ingest_id, r.accepted
            """,
            {"version": MINER_VERSION},
        )
    return runs


def mined_runs(store: Store) -> list[int]:
    """Runs whose stored error texts are current (today's miner, the run's entry count)."""
    rows = store.conn.execute(
        """
        SELECT m.ingest_id FROM mined_runs AS m JOIN ingest_runs AS r USING (ingest_id)
        WHERE m.miner_version = $version AND m.entries = r.accepted
        ORDER BY m.ingest_id
        """,
        {"version": MINER_VERSION},
    ).fetchall()
    return [int(r[0]) for r in rows]


def errors_sql(store: Store, where: str) -> str:
    """SQL of the error rows (``"timestamp"``, log_name, insert_id, service, text, masked) whose
    entries satisfy ``where`` (tests of ``e."timestamp"`` only: both tables have it).

    Stored rows for the runs marked current, rows computed from ``log_entries`` for every other
    entry (see the module docstring).
    """
    done = mined_runs(store)
    columns = '"timestamp", log_name, insert_id, service, text, masked'
    live = _ROWS.replace(_WHERE, f"{where} AND e.ingest_id NOT IN ({_runs_list(done)})")
    if not done:
        return f"SELECT {columns} FROM ({_ROWS.replace(_WHERE, where)})"
    stored = (
        f"SELECT {columns} FROM error_texts AS e "
        f"WHERE {where} AND e.ingest_id IN ({_runs_list(done)})"
    )
    return f"{stored}\nUNION ALL\nSELECT {columns} FROM ({live})"


def window_where(since: Any, until: Any) -> tuple[str, dict[str, Any]]:
    """The ``where`` of entries in [since, until) (either side may be None) and its params."""
    tests, params = [], {}
    if since is not None:
        tests.append('e."timestamp" >= $since')
        params["since"] = since
    if until is not None:
        tests.append('e."timestamp" < $until')
        params["until"] = until
    return " AND ".join(tests) or "TRUE", params
