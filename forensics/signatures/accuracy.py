"""Measure classification accuracy on a labelled export (the real-staging fixture's `_label`s).

The fixture README maps its labels to signature ids (LABEL_TO_SIGNATURE); `other` and `none`
mean "no seed signature". Precision and recall are computed per seed signature from the
primary signature `classify_files` gives each entry, i.e. exactly what `forensics classify`
prints. Signatures outside the seed set may fire on `other` entries without counting against
any seed signature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from forensics.readers import read_entries
from forensics.signatures.catalog import Catalog, load_catalog
from forensics.signatures.classify import classify_files

__all__ = [
    "LABEL_TO_SIGNATURE",
    "SEED_SIGNATURES",
    "AccuracyReport",
    "Miss",
    "SignatureScore",
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

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None


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


def _labels(path: Path) -> list[tuple[str | None, str | None]]:
    labels = []
    for raw in read_entries(path):
        try:
            body = json.loads(raw.text)
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        labels.append((body.get("_label"), body.get("_sublabel")))
    return labels


def evaluate_file(path: Path, catalog: Catalog | None = None) -> AccuracyReport:
    """Classify a labelled export and score every signature that is labelled or predicted."""
    catalog = catalog or load_catalog()
    labels = _labels(path)
    run = classify_files([path], catalog)
    report = AccuracyReport(entries=len(run.results))
    pairs = []
    for result, (label, sublabel) in zip(run.results, labels, strict=True):
        expected = expected_signature(label, sublabel)
        pairs.append((expected, result.signature))
        if expected != result.signature and (
            expected is not None or result.signature in SEED_SIGNATURES
        ):
            report.misses.append(
                Miss(result.index, label, sublabel, expected, result.signature, result.message)
            )
    seen = {s for pair in pairs for s in pair if s}
    for sig in [s.id for s in catalog.signatures if s.id in seen or s.id in SEED_SIGNATURES]:
        report.scores.append(
            SignatureScore(
                signature=sig,
                labelled=sum(1 for e, _ in pairs if e == sig),
                predicted=sum(1 for _, p in pairs if p == sig),
                correct=sum(1 for e, p in pairs if e == p == sig),
            )
        )
    return report
