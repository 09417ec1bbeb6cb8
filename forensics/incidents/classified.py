"""The signature catalog the analysis uses, loaded again only when a pattern file changed.

Classification itself is owned by forensics.pipeline (writers save it, readers shadow it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from forensics.paths import patterns_dir
from forensics.signatures import Catalog, load_catalog

__all__ = ["current_catalog"]


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
