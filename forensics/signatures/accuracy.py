"""Measure classification accuracy on a labelled export (the real-staging fixture's `_label`s).

The fixture README maps its labels to signature ids (LABEL_TO_SIGNATURE); `other` and `none`
mean "no seed signature". A file may instead label each entry with `_expected`: the signature
id it should get, or null (the held-out file of other projects' wording does). Precision and
recall are computed per seed signature from the primary signature `classify_files` gives each
entry, i.e. exactly what `forensics classify` prints; ``matched_any`` also counts a labelled
entry whose signature matched but was not primary (a more specific catalog signature won).
Signatures outside the seed set may fire on `other` entries without counting against any seed
signature. ``evaluate_examples`` scores each signature on its own match/no_match examples: that
figure is partly circular (the examples were written beside the regexes) and is kept apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from forensics.ingest import ingest_files
from forensics.readers import read_entries
from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.classify import classify_store
from forensics.signatures.classify_input import classify_files
from forensics.signatures.examples import run_examples
from forensics.store import open_store

__all__ = [
    "LABEL_TO_SIGNATURE",
    "SEED_SIGNATURES",
    "AccuracyReport",
    "Miss",
    "SignatureScore",
    "evaluate_examples",
    "evaluate_file",
    "expected_signature",
]

LABEL_TO_SIGNATURE: dict[str, str] = {
    "phase3_db_init_timeout": "startup/db-init-timeout",
    "exit_code_3": "startup/exit-code-3",
    "cloudsql_socket_failure": "cloudsql/socket-failure",
    "http_503_unavailable": "cloudrun/http-503",
    "websocket_handshake_race": "websocket/handshake-race",
    "auth_timeout": "auth/timeout",
    "startup_probe_failure": "cloudrun/startup-probe-failed",
    "memory_limit_exceeded": "cloudrun/memory-limit-exceeded",
}
# The README allows a separate signature for this 500 ("instance could not start").
SUBLABEL_TO_SIGNATURE: dict[str, str] = {
    "cloud_run_instance_could_not_start_http500": "cloudrun/instance-start-failed",
}
SEED_SIGNATURES = tuple(LABEL_TO_SIGNATURE.values())


def expected_signature(label: str | None, sublabel: str | None = None) -> str | None:
    """The signature a labelled entry should get (None for `other`, `none`, unlabelled)."""
    if sublabel in SUBLABEL_TO_SIGNATURE:
        return SUBLABEL_TO_SIGNATURE[sublabel]
    return LABEL_TO_SIGNATURE.get(label or "")


@dataclass(frozen=True)
class SignatureScore:
    """Counts and rates for one signature."""

    signature: str
    labelled: int  # entries whose label says this signature
    predicted: int  # entries classified as this signature
    correct: int
    matched_any: int | None = None  # labelled entries it matched, primary or not

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    @property
    def recall_any(self) -> float | None:
        if self.matched_any is None or not self.labelled:
            return None
        return self.matched_any / self.labelled


@dataclass(frozen=True)
class Miss:
    """One entry whose primary signature disagrees with its label."""

    index: int
    label: str | None
    sublabel: str | None
    expected: str | None
    predicted: str | None
    message: str | None


@dataclass
class AccuracyReport:
    """Per-signature scores plus every disagreement, for reading."""

    entries: int = 0
    scores: list[SignatureScore] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)

    def score(self, signature: str) -> SignatureScore:
        return next(s for s in self.scores if s.signature == signature)


Label = tuple[str | None, str | None, str | None]  # label, sublabel, expected signature


def _labels(path: Path) -> list[Label]:
    labels: list[Label] = []
    for raw in read_entries(path):
        try:
            body = json.loads(raw.text)
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        label, sublabel = body.get("_label"), body.get("_sublabel")
        expected = body["_expected"] if "_expected" in body else expected_signature(label, sublabel)
        labels.append((label, sublabel, expected))
    return labels


def _all_matches(path: Path, catalog: Catalog) -> dict[str, set[str]]:
    """Every signature each entry matched (primary or not), by insert_id."""
    with open_store(":memory:") as store:
        ingest_files(store, [path])
        classify_store(store, catalog)
        rows = store.conn.execute(
            "SELECT insert_id, list(signature) FROM signature_matches GROUP BY insert_id"
        ).fetchall()
    return {insert_id: set(sigs) for insert_id, sigs in rows}


def evaluate_file(path: Path, catalog: Catalog | None = None) -> AccuracyReport:
    """Classify a labelled export and score every signature that is labelled or predicted."""
    catalog = catalog or load_catalog()
    labels = _labels(path)
    run = classify_files([path], catalog)
    matches = _all_matches(path, catalog)
    report = AccuracyReport(entries=len(run.results))
    seeds = set(SEED_SIGNATURES) | {e for _, _, e in labels if e}
    triples = []
    for result, (label, sublabel, expected) in zip(run.results, labels, strict=True):
        matched = matches.get(result.insert_id or "", set())
        triples.append((expected, result.signature, matched))
        if expected != result.signature and (expected is not None or result.signature in seeds):
            report.misses.append(
                Miss(result.index, label, sublabel, expected, result.signature, result.message)
            )
    seen = {s for e, p, _ in triples for s in (e, p) if s}
    for sig in [s.id for s in catalog.signatures if s.id in seen or s.id in SEED_SIGNATURES]:
        report.scores.append(
            SignatureScore(
                signature=sig,
                labelled=sum(1 for e, _, _ in triples if e == sig),
                predicted=sum(1 for _, p, _ in triples if p == sig),
                correct=sum(1 for e, p, _ in triples if e == p == sig),
                matched_any=sum(1 for e, _, m in triples if e == sig and sig in m),
            )
        )
    return report


def evaluate_examples(catalog: Catalog | None = None) -> list[SignatureScore]:
    """Each signature scored on its own examples through the production path.

    labelled = its match examples; predicted = its examples (match or no_match) it matched;
    correct = its match examples it matched. Partly circular: the examples were written with
    the regexes, so this shows coverage of the sourced wording, not accuracy on unseen logs.
    """
    catalog = catalog or load_catalog()
    results = run_examples(catalog)
    scores = []
    for sig in catalog.active():
        own = [r for r in results if r.signature == sig.id]
        hit = [r for r in own if sig.id in r.matched]
        scores.append(
            SignatureScore(
                signature=sig.id,
                labelled=sum(1 for r in own if r.kind == "match"),
                predicted=len(hit),
                correct=sum(1 for r in hit if r.kind == "match"),
            )
        )
    return scores
