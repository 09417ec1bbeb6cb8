"""Failure signatures as data: the catalog in patterns/, compiled to one SQL classification pass.

Public API:
  - ``load_catalog(directory=None) -> Catalog``: ``.signatures`` (precedence order), ``.version``,
    ``.get(id)``; each Signature has ``.id, .title, .level, .references, .description`` and
    ``.logging_filter()`` (a Cloud Logging clause matching a superset of its entries).
  - ``classify_store(store, catalog=None, since=None, until=None, *, ingest_id=None) -> int``.
  - ``classify_texts(texts)`` / ``classify_files(paths)``: classify without a store.
"""

from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.classify import (
    ClassifyRun,
    EntryResult,
    classify_files,
    classify_store,
    classify_texts,
)
from forensics.signatures.model import Signature

__all__ = [
    "Catalog",
    "ClassifyRun",
    "EntryResult",
    "Signature",
    "classify_files",
    "classify_store",
    "classify_texts",
    "load_catalog",
]
