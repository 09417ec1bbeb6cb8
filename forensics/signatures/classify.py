"""Classify entries against the catalog: in the store, or straight from export files.

Usage:
  1. ``classify_store(store, since=, until=, ingest_id=)`` runs the compiled one-pass statement
     over ``log_entries`` and replaces that scope's rows in ``signature_matches`` (idempotent).
  2. ``classify_files(paths)`` / ``classify_texts(texts)`` normalize the entries exactly as
     ingest does, into a throwaway in-memory store, run the same statement, and return one
     result per input entry in input order (malformed entries carry their error instead).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from forensics.errors import InputError
from forensics.ingest import BATCH_SIZE, normalize_batch
from forensics.readers import RawEntry, read_entries
from forensics.schema import column_names
from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.compile import classification_sql
from forensics.store import Store, open_store

__all__ = ["ClassifyRun", "EntryResult", "classify_files", "classify_store", "classify_texts"]

_MATCH_COLUMNS = ", ".join(f'"{c}"' for c in column_names("signature_matches"))
_ENTRY_COLUMNS = [c for c in column_names("log_entries") if c not in ("source", "ingest_id")]


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
) -> int:
    """Classify the entries in [since, until) (and/or one ingest run) in one pass.

    The scope's previous matches are replaced in the same transaction, so re-classifying
    (with a new catalog, or twice) never double-counts.

    Args:
        store: an open, writable store.
        catalog: default ``load_catalog()``.
        since, until: the window; None means unbounded on that side.
        ingest_id: restrict to the entries one ingest run added.

    Returns:
        The number of signature_matches rows written (one per entry and matching signature).

    Example:
        >>> with open_store(":memory:") as store:
        ...     classify_store(store)
        0
    """
    catalog = catalog or load_catalog()
    where, params = _scope(since, until, ingest_id)
    insert = (
        f"INSERT INTO signature_matches ({_MATCH_COLUMNS}) {classification_sql(catalog, where)}"
    )
    conn = store.conn
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(_delete_sql(since, until, ingest_id), params)
        row = conn.execute(insert, params).fetchone()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class EntryResult:
    """The classification of one input entry (the `forensics classify` JSON line)."""

    index: int
    insert_id: str | None
    timestamp: datetime | None
    signature: str | None
    issues: list[str]
    error: str | None = None
    service: str | None = None
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The stable JSON contract: index, insert_id, timestamp, signature, issues (+ error)."""
        stamp = self.timestamp.isoformat().replace("+00:00", "Z") if self.timestamp else None
        out: dict[str, Any] = {
            "index": self.index,
            "insert_id": self.insert_id,
            "timestamp": stamp,
            "signature": self.signature,
            "issues": self.issues,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class ClassifyRun:
    """Results in input order, and whole-file problems (missing, damaged part-way)."""

    results: list[EntryResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Located:
    entry: RawEntry  # line_no here is the global input index
    where: str  # "file: line N (element E)" for error messages


def _classify(located: Iterable[_Located], catalog: Catalog) -> list[EntryResult]:
    cols = ", ".join(f'"{c}"' for c in _ENTRY_COLUMNS)
    where: dict[int, str] = {}
    with open_store(":memory:") as store:
        conn = store.conn
        conn.execute(
            f"CREATE TEMP TABLE _input AS SELECT {cols}, 0::BIGINT AS line_no, "
            "''::VARCHAR AS problem FROM log_entries WHERE FALSE"
        )
        stream = iter(located)
        while batch := list(itertools.islice(stream, BATCH_SIZE)):
            where.update((item.entry.line_no, item.where) for item in batch)
            normalize_batch(conn, [item.entry for item in batch], table="_batch")
            conn.execute(f"INSERT INTO _input SELECT {cols}, line_no, problem FROM _batch")
        conn.execute(
            f"INSERT INTO log_entries ({cols}, source, ingest_id) "
            f"SELECT {cols}, 'classify', 0 FROM _input WHERE problem IS NULL "
            'QUALIFY row_number() OVER (PARTITION BY log_name, insert_id, "timestamp" '
            "ORDER BY line_no) = 1"
        )
        classify_store(store, catalog)
        rows = conn.execute(
            'SELECT i.line_no, i.insert_id, i."timestamp", m.signature, i.problem, i.service, '
            "i.message FROM _input AS i LEFT JOIN signature_matches AS m "
            'ON m.is_primary AND m."timestamp" = i."timestamp" AND m.insert_id = i.insert_id '
            "AND m.log_name = i.log_name ORDER BY i.line_no"
        ).fetchall()
    issues = catalog.issues()
    return [
        EntryResult(
            index=index,
            insert_id=None if problem else insert_id,
            timestamp=None if problem else stamp,
            signature=signature,
            issues=issues.get(signature, []) if signature else [],
            error=f"{where[index]}: {problem}" if problem else None,
            service=service,
            message=message,
        )
        for index, insert_id, stamp, signature, problem, service, message in rows
    ]


def classify_texts(texts: Iterable[str], catalog: Catalog | None = None) -> list[EntryResult]:
    """Classify LogEntry JSON strings; result i belongs to text i.

    Example:
        >>> text = ('{"logName": "projects/p/logs/run.googleapis.com%2Fstderr", '
        ...         '"timestamp": "2025-09-16T01:41:05Z", '
        ...         '"textPayload": "Container called exit(3)."}')
        >>> classify_texts([text])[0].signature
        'startup/exit-code-3'
    """
    located = (_Located(RawEntry(i, text), f"entry {i}") for i, text in enumerate(texts))
    return _classify(located, catalog or load_catalog())


def classify_files(paths: Iterable[Path], catalog: Catalog | None = None) -> ClassifyRun:
    """Classify every entry of export files (JSON array, NDJSON, .gz) without a store.

    Indexes count entries across all files from 0. A file that cannot be read at all, or that
    is damaged part-way, is reported in ``errors``; every entry before the damage is kept.
    """
    run = ClassifyRun()
    counter = itertools.count()

    def entries() -> Iterator[_Located]:
        for path in paths:
            try:
                for raw in read_entries(path):
                    where = f"{path}: line {raw.line_no}"
                    if raw.element is not None:
                        where += f" (element {raw.element})"
                    yield _Located(RawEntry(next(counter), raw.text), where)
            except InputError as err:
                run.errors.append(str(err))

    run.results = _classify(entries(), catalog or load_catalog())
    return run
