"""Tables derived from each ingest run's entries, written once so reads need not scan the entries.

A derived table holds, per ingest run, rows computed from that run's entries only (so they
never change once the run is complete): the miner's error texts.

Usage:
  1. Declare it: ``Derived(table, rows_sql)``, ``rows_sql`` a SELECT of the table's columns
     from ``log_entries AS e`` whose filter holds ``WHERE_MARK`` (replaced by the scope).
  2. Writers (``forensics.pipeline.classify_pending``: ingest, collect, `patterns apply`) call
     ``store_pending(store, derived)``: every run without a current mark in ``derived_runs``
     has its rows (re)written, and its mark records the version and the run's accepted count.
     Cost: one scan of the new runs' entries; an unchanged store does nothing.
  3. Readers ask ``current_runs(store, derived)`` and read the stored rows of those runs, and
     compute the rest (an older store, changed SQL, a run that grew since it was marked) from
     ``log_entries`` with ``rows_sql``: the answer never depends on which path a run took.
     ``derived.scoped(where)`` is that relation as one SQL text that decides which runs are
     current when it runs (for TEMP macros, made once per connection); its test of the other
     runs (``others_test``) prunes the entries scan to nothing when every run is current.
  4. A mark is current while its version (a hash of ``rows_sql``) and its entry count are
     today's, so changing the SQL or adding entries to a run invalidates it by itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # forensics.store imports the session macros, which declare derived tables
    from forensics.store import Store

__all__ = [
    "WHERE_MARK",
    "Derived",
    "current_runs",
    "forget",
    "pending_runs",
    "runs_list",
    "store_pending",
]

# Replaced, not formatted: the SQL holds RE2 braces.
WHERE_MARK = "/*where*/"


@dataclass(frozen=True)
class Derived:
    """A per-run derived table and the SQL that computes its rows from ``log_entries AS e``."""

    table: str
    rows_sql: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.rows_sql.encode()).hexdigest()[:12]

    def rows(self, where: str) -> str:
        """The rows of the entries satisfying ``where`` (over ``e``)."""
        return self.rows_sql.replace(WHERE_MARK, where)

    def current_sql(self) -> str:
        """SQL of the runs whose stored rows are current (``current_runs``, decided in SQL)."""
        return (
            "SELECT d.ingest_id FROM derived_runs AS d JOIN ingest_runs AS r USING (ingest_id) "
            f"WHERE d.derived = '{self.table}' AND d.version = '{self.version}' "
            "AND d.entries = r.accepted"
        )

    def scoped(self, where: str) -> str:
        """Every row of the entries satisfying ``where`` (over ``e``; tests of columns both the
        table and ``log_entries`` have): stored rows of the current runs, computed rows of the
        others. Cost: O(stored rows in scope) + O(entries in scope of runs not current)."""
        current = self.current_sql()
        return (
            f"SELECT * FROM {self.table} AS e WHERE {where} AND e.ingest_id IN ({current})\n"
            f"UNION ALL\n"
            f"SELECT * FROM ({self.rows(f'{where} AND {self.others_test()}')})"
        )

    def others_test(self) -> str:
        """The SQL test of ``e.ingest_id`` that holds for the runs whose rows are not current.

        Its first part compares with one number, so DuckDB prunes the entries scan by it (to
        nothing when every run is current); an IN test alone is planned as a join after the
        scan has read and filtered every entry of the scope."""
        others = f"SELECT ingest_id FROM ingest_runs WHERE ingest_id NOT IN ({self.current_sql()})"
        first = f"SELECT coalesce(min(ingest_id), {2**63 - 1}) FROM ({others})"
        return f"e.ingest_id >= ({first}) AND e.ingest_id IN ({others})"


def runs_list(runs: list[int]) -> str:
    """A SQL list of run ids (``NULL`` for none, which matches nothing)."""
    return ", ".join(str(int(r)) for r in runs) or "NULL"


def current_runs(store: Store, derived: Derived) -> list[int]:
    """Runs whose stored rows are current (today's SQL, the run's entry count)."""
    rows = store.conn.execute(
        """
        SELECT d.ingest_id FROM derived_runs AS d JOIN ingest_runs AS r USING (ingest_id)
        WHERE d.derived = $derived AND d.version = $version AND d.entries = r.accepted
        ORDER BY d.ingest_id
        """,
        {"derived": derived.table, "version": derived.version},
    ).fetchall()
    return [int(r[0]) for r in rows]


def pending_runs(store: Store, derived: Derived) -> list[int]:
    """Runs with entries whose rows are not current."""
    done = set(current_runs(store, derived))
    rows = store.conn.execute(
        "SELECT ingest_id FROM ingest_runs WHERE accepted > 0 ORDER BY ingest_id"
    ).fetchall()
    return [int(r[0]) for r in rows if int(r[0]) not in done]


def store_pending(store: Store, derived: Derived) -> list[int]:
    """Write the rows of every run whose rows are not current (writers only); return those."""
    runs = pending_runs(store, derived)
    if not runs:
        return runs
    from forensics.store import transaction

    listed = runs_list(runs)
    with transaction(store.conn) as conn:
        conn.execute(f"DELETE FROM {derived.table} WHERE ingest_id IN ({listed})")
        conn.execute(
            f"DELETE FROM derived_runs WHERE derived = $derived AND ingest_id IN ({listed})",
            {"derived": derived.table},
        )
        conn.execute(f"INSERT INTO {derived.table} {derived.rows(f'e.ingest_id IN ({listed})')}")
        conn.execute(
            f"INSERT INTO derived_runs SELECT ingest_id, $derived, $version, accepted, now() "
            f"FROM ingest_runs WHERE ingest_id IN ({listed})",
            {"derived": derived.table, "version": derived.version},
        )
    return runs


def forget(store: Store) -> None:
    """Drop every derived row and mark, so readers count from ``log_entries`` alone.

    For a store whose entries were edited in place (a test shaping a store, a manual repair):
    derived rows assume a run's entries never change once it is marked.
    """
    from forensics.store import transaction

    with transaction(store.conn) as conn:
        for table in {
            row[0] for row in conn.execute("SELECT derived FROM derived_runs").fetchall()
        }:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM derived_runs")
