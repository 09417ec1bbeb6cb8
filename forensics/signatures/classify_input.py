"""Classify entries straight from export files or texts, without a store.

Usage:
  ``classify_files(paths)`` / ``classify_texts(texts)`` normalize the entries exactly as ingest
  does, into a throwaway in-memory store, run the store's classification statement
  (forensics.signatures.classify), and return one result per input entry in input order
  (malformed entries carry their error instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forensics.errors import InputError
from forensics.feed import normalized_batch
from forensics.identity import fill_identities
from forensics.ingest import BATCH_SIZE
from forensics.readers import LineBatch, RawBatch, read_batches
from forensics.schema import column_names
from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.classify import classify_store
from forensics.signatures.mining import unexplained_template_ids
from forensics.store import open_store

if TYPE_CHECKING:
    from forensics.incidents.registry import Registry

__all__ = ["ClassifyRun", "EntryResult", "classify_files", "classify_texts"]

_ENTRY_COLUMNS = [c for c in column_names("log_entries") if c not in ("source", "ingest_id")]


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
