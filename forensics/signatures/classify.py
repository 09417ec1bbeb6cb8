"""Classify entries against the catalog: in the store, or straight from export files.

Usage:
  1. ``classify_store(store, since=, until=, ingest_id=)`` runs the compiled one-pass statement
     over ``log_entries`` and replaces that scope's rows in ``signature_matches`` (idempotent).
  2. ``classify_files(paths)`` / ``classify_texts(texts)`` normalize the entries exactly as
     ingest does, into a throwaway in-memory store, run the same statement, and return one
     result per input entry in input order (malformed entries carry their error instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from forensics.errors import InputError
from forensics.feed import normalized_batch
from forensics.identity import fill_identities
from forensics.ingest import BATCH_SIZE
from forensics.readers import LineBatch, RawBatch, read_batches
from forensics.schema import column_names
from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.compile import classification_sql
from forensics.signatures.mining import unexplained_template_ids
from forensics.store import Store, open_store, transaction

if TYPE_CHECKING:
    from forensics.incidents.registry import Registry

__all__ = ["ClassifyRun", "EntryResult", "classify_files", "classify_store", "classify_texts"]

MATCH_COLUMNS = ", ".join(f'"{c}"' for c in column_names("signature_matches"))
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
    symptom_of: list[str] = field(default_factory=list)
    template: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The stable JSON contract: index, insert_id, timestamp, signature, issues,
        symptom_of, template (+ error). ``issues``: the tracked issues the signature is direct
        evidence of; ``symptom_of``: those it counts for only when attributed to their cause
        (which needs the store: `forensics incidents`); ``template``: for an error no signature
        claims, the id of its unknown-error template (as `forensics analyze` lists it), else
        null."""
        stamp = self.timestamp.isoformat().replace("+00:00", "Z") if self.timestamp else None
        out: dict[str, Any] = {
            "index": self.index,
            "insert_id": self.insert_id,
            "timestamp": stamp,
            "signature": self.signature,
            "issues": self.issues,
            "symptom_of": self.symptom_of,
            "template": self.template,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class ClassifyRun:
    """Results in input order, and whole-file problems (missing, damaged part-way)."""

    results: list[EntryResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _where(source: str | None, batch: RawBatch | LineBatch, offset: int) -> str:
    if source is None:
        return f"entry {batch.line_nos[offset]}"
    where = f"{source}: line {batch.line_nos[offset]}"
    if batch.elements is not None:
        where += f" (element {batch.elements[offset]})"
    return where


def _registry_for(catalog: Catalog) -> Registry:
    """The issue registry that goes with ``catalog`` (the one signature -> issue mapping)."""
    from forensics.incidents.registry import load_registry
    from forensics.incidents.registry_lint import registry_file_for

    return load_registry(base_file=registry_file_for(catalog.directory), check_signatures=False)


def _classify(
    batches: Iterable[tuple[str | None, RawBatch | LineBatch]],
    catalog: Catalog,
    registry: Registry | None,
) -> list[EntryResult]:
    """Normalize every batch into a throwaway store, classify it, read back in input order."""
    cols = ", ".join(f'"{c}"' for c in _ENTRY_COLUMNS)
    errors: dict[int, str] = {}
    with open_store(":memory:") as store:
        conn = store.conn
        conn.execute(
            f"CREATE TEMP TABLE _input AS SELECT {cols}, 0::BIGINT AS line_no, "
            "''::VARCHAR AS problem FROM log_entries WHERE FALSE"
        )
        first = 0
        for source, batch in batches:
            # line_no carries the input index through normalization; `batch` keeps the lines
            # (and the screen's rejections: a rejected text is only a placeholder)
            indexed = RawBatch(
                list(range(first, first + len(batch))), batch.texts, problems=batch.problems
            )
            with normalized_batch(conn, indexed) as normalized:
                conn.execute(
                    f"INSERT INTO _input SELECT {cols}, line_no, problem FROM ({normalized})"
                )
            for index, problem in conn.execute(
                "SELECT line_no, problem FROM _input WHERE line_no >= ? AND problem IS NOT NULL",
                [first],
            ).fetchall():
                errors[index] = f"{_where(source, batch, index - first)}: {problem}"
            first += len(batch)
        fill_identities(conn, "_input")
        # the entries are run 0's: stages that read per-run tables (forensics.derived) compute
        # the rows of every listed run without current rows, and would skip an unlisted one
        conn.execute(
            "INSERT INTO ingest_runs (ingest_id, source, started, status) "
            "VALUES (0, 'classify', now(), 'complete')"
        )
        conn.execute(
            f"INSERT INTO log_entries ({cols}, source, ingest_id) "
            f"SELECT {cols}, 'classify', 0 FROM _input WHERE problem IS NULL "
            'QUALIFY row_number() OVER (PARTITION BY log_name, insert_id, "timestamp" '
            "ORDER BY line_no) = 1"
        )
        conn.execute(
            "UPDATE ingest_runs SET accepted = (SELECT count(*) FROM log_entries) "
            "WHERE ingest_id = 0"
        )
        classify_store(store, catalog)
        templates = unexplained_template_ids(store)
        rows = conn.execute(
            'SELECT i.line_no, i.insert_id, i."timestamp", m.signature, i.service, i.message, '
            "i.log_name FROM _input AS i LEFT JOIN signature_matches AS m "
            'ON m.is_primary AND m."timestamp" = i."timestamp" AND m.insert_id = i.insert_id '
            "AND m.log_name = i.log_name ORDER BY i.line_no"
        ).fetchall()
    registry = registry or _registry_for(catalog)
    links = {s.id: registry.links(s.id) for s in catalog.signatures}
    out = []
    for index, insert_id, stamp, signature, service, message, log_name in rows:
        link = links.get(signature) if signature else None
        out.append(
            EntryResult(
                index=index,
                insert_id=None if index in errors else insert_id,
                timestamp=None if index in errors else stamp,
                signature=signature,
                issues=list(link.evidence_of) if link else [],
                error=errors.get(index),
                service=service,
                message=message,
                symptom_of=list(link.symptom_of) if link else [],
                template=templates.get((log_name, insert_id, stamp)),
            )
        )
    return out


def classify_texts(
    texts: Iterable[str], catalog: Catalog | None = None, registry: Registry | None = None
) -> list[EntryResult]:
    """Classify LogEntry JSON strings; result i belongs to text i.

    Example:
        >>> text = ('{"logName": "projects/p/logs/run.googleapis.com%2Fstderr", '
        ...         '"timestamp": "2025-09-16T01:41:05Z", '
        ...         '"textPayload": "Container called exit(3)."}')
        >>> classify_texts([text])[0].signature
        'startup/exit-code-3'
    """
    items = list(texts)
    batches = (
        (None, RawBatch(list(range(i, i + len(chunk))), chunk))
        for i in range(0, len(items), BATCH_SIZE)
        if (chunk := items[i : i + BATCH_SIZE])
    )
    return _classify(batches, catalog or load_catalog(), registry)


def classify_files(
    paths: Iterable[Path], catalog: Catalog | None = None, registry: Registry | None = None
) -> ClassifyRun:
    """Classify every entry of export files (JSON array, NDJSON, .gz) without a store.

    Indexes count entries across all files from 0. A file that cannot be read at all, or that
    is damaged part-way, is reported in ``errors``; every entry before the damage is kept.
    """
    run = ClassifyRun()

    def batches() -> Iterator[tuple[str | None, RawBatch | LineBatch]]:
        for path in paths:
            try:
                for batch in read_batches(path, BATCH_SIZE):
                    yield str(path), batch
            except InputError as err:
                run.errors.append(str(err))

    run.results = _classify(batches(), catalog or load_catalog(), registry)
    return run
