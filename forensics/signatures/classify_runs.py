"""Classify many ingest runs in few statements: one per run costs a fixed quarter second.

A sink export arrives as many small files (one per hour, say), and every file is an ingest
run. The classification statement has a fixed cost per execution whatever the run's size
(about 0.25 CPU s: setting up its ~190 regexes and planning its 130 kB of SQL; a prepared
statement saved only a tenth of it), so 24 hourly files of a 1M-entry day cost 6.6 CPU s run
by run against 1.2 for the same entries as one file. Here consecutive runs are classified
together, up to BATCH_ENTRIES entries per statement (one statement's working set stays that of
a 1M-entry run), each split traceback joined within its own run (``per_run``), so the rows and
the marks (``classified_runs.matches``, counted per run from the statement's output) are the
ones classify_store writes run by run.

Cost: O(entries of the runs) as classify_store, plus O(matches) to count them per run.
"""

from __future__ import annotations

from collections.abc import Sequence

from forensics.derived import runs_list
from forensics.signatures.catalog import Catalog
from forensics.signatures.classify import MATCH_COLUMNS, classify_store, lean_planning
from forensics.signatures.compile import classification_sql
from forensics.store import Store, transaction

__all__ = ["BATCH_ENTRIES", "classify_runs"]

# Entries per statement when runs are classified together.
BATCH_ENTRIES = 1_000_000
_NEW = "_forensics_new_matches"


def classify_runs(store: Store, catalog: Catalog, runs: Sequence[int], mark: bool = True) -> None:
    """Classify ``runs`` (ingest ids) as classify_store does each, several per statement.

    ``mark``: record each run in ``classified_runs`` (writers); False for a reader's in-memory
    classification (the TEMP ``signature_matches`` that shadows the stored one).
    """
    if not runs:
        return
    sizes = dict(
        store.conn.execute(
            "SELECT ingest_id, accepted FROM ingest_runs "
            f"WHERE ingest_id IN ({runs_list(list(runs))})"
        ).fetchall()
    )
    group: list[int] = []
    held = 0
    for run in runs:
        size = int(sizes.get(run) or 0)
        if group and held + size > BATCH_ENTRIES:
            _classify_group(store, catalog, group, mark)
            group, held = [], 0
        group.append(run)
        held += size
    _classify_group(store, catalog, group, mark)


def _classify_group(store: Store, catalog: Catalog, runs: list[int], mark: bool) -> None:
    if len(runs) == 1:
        classify_store(store, catalog, ingest_id=runs[0], mark=mark)
        return
    conn = store.conn
    listed = runs_list(runs)
    if mark and not store.read_only:
        # a saving pass writes the stored matches, never a reader's in-memory shadow
        conn.execute("DROP TABLE IF EXISTS temp.signature_matches")
        conn.execute("DROP TABLE IF EXISTS temp._forensics_reading")
    select = classification_sql(
        catalog, f"ingest_id IN ({listed})", carry=("ingest_id",), per_run=True
    )
    with transaction(conn):
        conn.execute(
            "DELETE FROM signature_matches AS m WHERE EXISTS ("
            f"SELECT 1 FROM log_entries AS e WHERE e.ingest_id IN ({listed}) "
            'AND e."timestamp" = m."timestamp" AND e.insert_id = m.insert_id '
            "AND e.log_name = m.log_name)"
        )
        with lean_planning(conn):
            conn.execute(f"CREATE OR REPLACE TEMP TABLE {_NEW} AS {select}")
        conn.execute(
            f"INSERT INTO signature_matches ({MATCH_COLUMNS}) SELECT {MATCH_COLUMNS} FROM {_NEW}"
        )
        if mark:
            conn.execute(f"DELETE FROM classified_runs WHERE ingest_id IN ({listed})")
            conn.execute(
                "INSERT INTO classified_runs "
                "SELECT r.ingest_id, $version, coalesce(n.matches, 0), now() "
                "FROM ingest_runs AS r LEFT JOIN ("
                f"  SELECT ingest_id, count(*) AS matches FROM {_NEW} GROUP BY ingest_id"
                f") AS n USING (ingest_id) WHERE r.ingest_id IN ({listed})",
                {"version": catalog.version},
            )
        conn.execute(f"DROP TABLE {_NEW}")
