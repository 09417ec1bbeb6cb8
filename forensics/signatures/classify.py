"""Classify the store's entries against the catalog in one compiled pass.

Usage:
  ``classify_store(store, since=, until=, ingest_id=)`` runs the compiled one-pass statement
  over ``log_entries`` and replaces that scope's rows in ``signature_matches`` (idempotent).
  Entries straight from export files, without a store: forensics.signatures.classify_input
  (kept apart so that reading a store imports none of the ingest machinery).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import duckdb

from forensics.schema import column_names
from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.compile import classification_sql
from forensics.store import Store, transaction

__all__ = ["MATCH_COLUMNS", "classify_store", "lean_planning"]

MATCH_COLUMNS = ", ".join(f'"{c}"' for c in column_names("signature_matches"))


def _scope(
    since: datetime | None, until: datetime | None, ingest_id: int | None, alias: str = ""
) -> tuple[str, dict[str, Any]]:
    prefix = f"{alias}." if alias else ""
    tests: list[str] = []
    params: dict[str, Any] = {}
    if since is not None:
        tests.append(f'{prefix}"timestamp" >= $since')
        params["since"] = since
    if until is not None:
        tests.append(f'{prefix}"timestamp" < $until')
        params["until"] = until
    if ingest_id is not None:
        tests.append(f"{prefix}ingest_id = $ingest_id")
        params["ingest_id"] = ingest_id
    return " AND ".join(tests) or "TRUE", params


def _delete_sql(since: datetime | None, until: datetime | None, ingest_id: int | None) -> str:
    window, _ = _scope(since, until, None, "m")
    if ingest_id is None:
        return f"DELETE FROM signature_matches AS m WHERE {window}"
    return (
        f"DELETE FROM signature_matches AS m WHERE {window} AND EXISTS ("
        "SELECT 1 FROM log_entries AS e WHERE e.ingest_id = $ingest_id "
        'AND e."timestamp" = m."timestamp" AND e.insert_id = m.insert_id '
        "AND e.log_name = m.log_name)"
    )


def classify_store(
    store: Store,
    catalog: Catalog | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    ingest_id: int | None = None,
    mark: bool = True,
) -> int:
    """Classify the entries in [since, until) (and/or one ingest run) in one pass.

    The scope's previous matches are replaced in the same transaction, so re-classifying
    (with a new catalog, or twice) never double-counts.

    Args:
        store: an open, writable store.
        catalog: default ``load_catalog()``.
        since, until: the window; None means unbounded on that side.
        ingest_id: restrict to the entries one ingest run added.
        mark: when the scope is one ingest run or the whole store, record in
            ``classified_runs`` that its runs are classified with this catalog version
            (forensics.pipeline then leaves them alone); False for a temporary side.

    Returns:
        The number of signature_matches rows written (one per entry and matching signature).

    Example:
        >>> with open_store(":memory:") as store:
        ...     classify_store(store)
        0
    """
    catalog = catalog or load_catalog()
    where, params = _scope(since, until, ingest_id)
    insert = f"INSERT INTO signature_matches ({MATCH_COLUMNS}) {classification_sql(catalog, where)}"
    conn = store.conn
    if mark and not store.read_only:
        # a saving pass writes the stored matches, never a reader's in-memory shadow
        conn.execute("DROP TABLE IF EXISTS temp.signature_matches")
        conn.execute("DROP TABLE IF EXISTS temp._forensics_reading")
    with transaction(conn):
        conn.execute(_delete_sql(since, until, ingest_id), params)
        with lean_planning(conn):
            row = conn.execute(insert, params).fetchone()
        written = int(row[0]) if row else 0
        if mark and since is None and until is None:
            _mark_runs(store, catalog.version, ingest_id, written)
    return written


# The classification statement is ~130 kB of CASE chains, contains() tests and ~190 regexes, and
# DuckDB's expression rewriter and common-subexpression pass cost more on it than they save:
# with both off it runs in 1.16 CPU s instead of 1.36 on the plain 1M-entry corpus, 0.59 instead
# of 0.71 on 250k demo entries (median of 5 interleaved, same rows). Off for that statement only:
# other statements need them (the error texts' took 2.7x as long without them).
LEAN_OPTIMIZERS = ("expression_rewriter", "common_subexpressions")


@contextmanager
def lean_planning(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the statements inside without ``LEAN_OPTIMIZERS`` (unless settings are locked)."""
    setting = "SELECT current_setting('{}')"
    if conn.execute(setting.format("lock_configuration")).fetchone() != (False,):
        yield
        return
    row = conn.execute(setting.format("disabled_optimizers")).fetchone()
    previous = str(row[0]) if row else ""
    names = [n for n in previous.split(",") if n] + list(LEAN_OPTIMIZERS)
    conn.execute(f"SET disabled_optimizers = '{','.join(dict.fromkeys(names))}'")
    try:
        yield
    finally:
        conn.execute(f"SET disabled_optimizers = '{previous}'")


def _mark_runs(store: Store, version: str, ingest_id: int | None, written: int) -> None:
    """Record that the run (or every run) is classified with ``version`` (classified_runs)."""
    scope = "ingest_id = $ingest_id" if ingest_id is not None else "accepted > 0"
    params: dict[str, Any] = {"version": version}
    if ingest_id is not None:
        params["ingest_id"] = ingest_id
    store.conn.execute(
        f"DELETE FROM classified_runs WHERE ingest_id IN "
        f"(SELECT ingest_id FROM ingest_runs WHERE {scope})",
        {k: v for k, v in params.items() if k != "version"},
    )
    store.conn.execute(
        "INSERT INTO classified_runs SELECT r.ingest_id, $version, "
        + ("$written" if ingest_id is not None else "0")
        + f", now() FROM ingest_runs AS r WHERE {scope}",
        {**params, **({"written": written} if ingest_id is not None else {})},
    )
