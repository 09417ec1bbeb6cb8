"""Run every signature's examples through the production path: ingest, then the compiled SQL.

Each example is a partial LogEntry; the fields it leaves out get neutral defaults (a stderr
log of a Cloud Run revision, a fixed timestamp). ``run_examples`` ingests all of them into one
in-memory store with ``ingest_texts`` and classifies it with ``classify_store``, so an example
passes only if the real normalization and the real compiled statement agree with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.ingest import ingest_texts
from forensics.signatures.catalog import Catalog
from forensics.signatures.classify import classify_store
from forensics.signatures.model import Signature
from forensics.store import open_store

__all__ = ["ExampleResult", "example_entry", "run_examples"]

ANCHOR = datetime(2025, 1, 1, tzinfo=UTC)
_DEFAULT_RESOURCE = {
    "type": "cloud_run_revision",
    "labels": {
        "project_id": "example-project",
        "service_name": "example-service",
        "revision_name": "example-service-00001-abc",
        "location": "us-central1",
    },
}


@dataclass(frozen=True)
class ExampleResult:
    """One example's outcome."""

    signature: str
    kind: str  # match | no_match
    number: int
    passed: bool
    matched: tuple[str, ...]  # every signature the entry matched
    primary: str | None
    problem: str | None  # ingest refused the example
    text: str

    def describe(self) -> str:
        verdict = "ok" if self.passed else "FAIL"
        got = ", ".join(self.matched) or "nothing"
        detail = self.problem or f"matched {got}"
        return f"{verdict}  {self.signature} {self.kind}[{self.number}]: {detail}"


def example_entry(sig: Signature, kind: str, number: int, partial: dict[str, Any]) -> dict:
    """The full LogEntry for one example (defaults filled, identity made unique)."""
    entry = {
        "logName": "projects/example-project/logs/run.googleapis.com%2Fstderr",
        "resource": _DEFAULT_RESOURCE,
        "timestamp": (ANCHOR + timedelta(seconds=number)).isoformat().replace("+00:00", "Z"),
        **partial,
    }
    entry["insertId"] = f"{sig.id}#{kind}#{number}"
    return entry


def _summary(entry: dict[str, Any]) -> str:
    for key in ("textPayload", "jsonPayload", "protoPayload", "httpRequest"):
        if key in entry:
            return json.dumps(entry[key], ensure_ascii=False)[:160]
    return ""


def run_examples(catalog: Catalog) -> list[ExampleResult]:
    """Classify every example of every active signature; one result per example."""
    cases: list[tuple[Signature, str, int, dict[str, Any]]] = []
    for sig in catalog.active():
        for kind, items in (("match", sig.examples_match), ("no_match", sig.examples_no_match)):
            cases.extend(
                (sig, kind, i, example_entry(sig, kind, i, p)) for i, p in enumerate(items)
            )
    # Each example is its own instance: examples are independent lines, and the compiled
    # statement joins a traceback's chunks per instance (splittrace).
    for position, (_, _, _, entry) in enumerate(cases):
        if "labels" not in entry:
            entry["labels"] = {"instanceId": f"example-{position}"}
    texts = [json.dumps(entry) for _, _, _, entry in cases]
    with open_store(":memory:") as store:
        ingested = ingest_texts(store, texts, "examples")
        refused = {r.line_no - 1: r.problem for r in ingested.rejections}
        classify_store(store, catalog)
        rows = store.conn.execute(
            "SELECT insert_id, list(signature ORDER BY signature), "
            "max(CASE WHEN is_primary THEN signature END) FROM signature_matches GROUP BY 1"
        ).fetchall()
    found = {insert_id: (tuple(sigs), primary) for insert_id, sigs, primary in rows}
    results = []
    for i, (sig, kind, number, entry) in enumerate(cases):
        matched, primary = found.get(entry["insertId"], ((), None))
        hit = sig.id in matched
        problem = refused.get(i)
        results.append(
            ExampleResult(
                signature=sig.id,
                kind=kind,
                number=number,
                passed=problem is None and hit == (kind == "match"),
                matched=matched,
                primary=primary,
                problem=f"ingest refused it: {problem}" if problem else None,
                text=_summary(entry),
            )
        )
    return results
