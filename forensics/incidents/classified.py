"""Make sure the store's entries are classified by the current signature catalog before analysis.

Ingest runs whose entries carry no match from the current catalog version are classified (one
SQL pass per run, idempotent); a read-only store is left as it is and the caller says so.
"""

from __future__ import annotations

from forensics.signatures import Catalog, classify_store
from forensics.sql import run_named
from forensics.store import Store

__all__ = ["ensure_classified"]


def ensure_classified(store: Store, catalog: Catalog) -> list[int]:
    """Classify every ingest run lacking matches from ``catalog``; returns the runs classified."""
    if store.read_only:
        return []
    runs = run_named(store, "store_unclassified_ingests", {"version": catalog.version})
    done = []
    for ingest_id in runs["ingest_id"].to_list():
        classify_store(store, catalog, ingest_id=int(ingest_id))
        done.append(int(ingest_id))
    return done
