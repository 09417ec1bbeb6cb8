"""Failure signatures as data: the catalog in patterns/, compiled to one SQL classification pass.

Public API:
  - ``load_catalog(directory=None) -> Catalog``: ``.signatures`` (precedence order), ``.version``,
    ``.get(id)``; each Signature has ``.id, .title, .level, .references, .description`` and
    ``.logging_filter()`` (a Cloud Logging clause matching a superset of its entries) and
    ``.pushdown_filter()`` (the same clause as the collector sends it, bounded in length).
  - ``classify_store(store, catalog=None, since=None, until=None, *, ingest_id=None) -> int``.
  - ``classify_texts(texts)`` / ``classify_files(paths)``: classify without a store
    (forensics.signatures.classify_input, imported on first use: reading a store needs none of
    the ingest machinery it brings).
"""

from typing import TYPE_CHECKING, Any

from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.classify import classify_store
from forensics.signatures.model import Signature

if TYPE_CHECKING:
    from forensics.signatures.classify_input import (
        ClassifyRun,
        EntryResult,
        classify_files,
        classify_texts,
    )

_FROM_INPUT = ("ClassifyRun", "EntryResult", "classify_files", "classify_texts")


def __getattr__(name: str) -> Any:
    """The store-free classification names, imported when first asked for."""
    if name in _FROM_INPUT:
        from forensics.signatures import classify_input

        return getattr(classify_input, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
