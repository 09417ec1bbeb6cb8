"""The signature catalog the analysis uses, and classifying what the store has not yet classified.

Ingest runs whose entries carry no match from the current catalog version are classified (one
SQL pass per run, idempotent); a read-only store is left as it is and the caller says so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from forensics.paths import patterns_dir
from forensics.signatures import Catalog, classify_store, load_catalog
from forensics.sql import run_named
from forensics.store import Store

__all__ = ["current_catalog", "ensure_classified"]


@lru_cache(maxsize=4)
def _load(directory: Path, stamp: tuple[tuple[str, int], ...]) -> Catalog:
    del stamp  # only part of the cache key
    return load_catalog(directory)


def current_catalog() -> Catalog:
    """load_catalog(), loaded again only when a pattern file changed (checking it costs ~0.3 s)."""
    root = patterns_dir()
    files = [*sorted(root.glob("*/*.yml")), root / "catalog.yml"]
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in files if p.is_file())
    return _load(root, stamp)


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
