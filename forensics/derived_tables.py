"""Every per-run table the writers keep, and which of them a store lacks current rows in.

forensics.pipeline's writers (ingest, collect, `patterns apply`) write the rows of each for the
runs without current ones (forensics.derived.store_pending); readers compute those runs' rows
from the entries for their answer, and ``stale_tables`` tells them which (one line on stderr:
forensics.pipeline.Classification.tables_note), so a store whose per-run SQL changed since it
was written is not analysed slowly in silence.
"""

from __future__ import annotations

from forensics.derived import Derived
from forensics.incidents.sightings import signature_spans
from forensics.minute_ledger import HOUR_LEDGER, MINUTE_LEDGER
from forensics.signatures.error_texts import ERROR_TEXTS
from forensics.store import Store
from forensics.window_rows import WINDOW_DERIVED

__all__ = ["derived_tables", "stale_tables"]


def derived_tables(catalog_version: str) -> tuple[Derived, ...]:
    """Every per-run table the writers keep (forensics.derived), in the order they write them."""
    return (
        ERROR_TEXTS,
        MINUTE_LEDGER,
        HOUR_LEDGER,
        signature_spans(catalog_version),
        *WINDOW_DERIVED,
    )


def stale_tables(store: Store, catalog_version: str) -> tuple[tuple[str, ...], int]:
    """The per-run tables some run with entries has no current rows in, and the most such runs
    of one table. One query; O(runs x tables) of derived_runs."""
    counts = " UNION ALL ".join(
        f"SELECT '{d.table}' AS name, {n} AS n, count(*) AS runs FROM ingest_runs "
        f"WHERE accepted > 0 AND ingest_id NOT IN ({d.current_sql()})"
        for n, d in enumerate(derived_tables(catalog_version))
    )
    rows = store.conn.execute(f"SELECT name, runs FROM ({counts}) WHERE runs > 0 ORDER BY n")
    found = rows.fetchall()
    return tuple(str(r[0]) for r in found), max((int(r[1]) for r in found), default=0)
