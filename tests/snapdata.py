"""Build LogEntries with known signature counts per day, for the snapshot, diff and watch tests.

The entries go through the real ingest and classification: a test states how many entries of
which failure land on which day and service, and the store must count exactly that.
"""

from __future__ import annotations

import itertools
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from forensics.ingest import ingest_texts
from forensics.store import Store, open_store

__all__ = ["EXIT3", "MEMORY", "entries_for", "ingest_spread", "log_entry"]

# Message texts of two catalog signatures, as Cloud Run writes them.
EXIT3 = ("startup/exit-code-3", "Container called exit(3).", "run.googleapis.com%2Fstderr")
MEMORY = (
    "cloudrun/memory-limit-exceeded",
    "Memory limit of 512 MiB exceeded with 519 MiB used. Consider increasing the memory limit.",
    "run.googleapis.com%2Fvarlog%2Fsystem",
)

_ids = itertools.count(1)


def log_entry(
    when: datetime, text: str, service: str, log: str, severity: str = "ERROR"
) -> dict[str, Any]:
    """One Cloud Run LogEntry as the export writes it."""
    return {
        "insertId": f"snap-{os.getpid()}-{next(_ids):08d}",  # unique across processes
        "logName": f"projects/netra-staging/logs/{log}",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "project_id": "netra-staging",
                "service_name": service,
                "revision_name": f"{service}-00042-abc",
                "location": "us-central1",
            },
        },
        "severity": severity,
        "textPayload": text,
        "timestamp": when.isoformat().replace("+00:00", "Z"),
    }


def entries_for(
    kind: tuple[str | None, str, str], service: str, start: datetime, count: int, span: timedelta
) -> list[dict[str, Any]]:
    """``count`` entries of one failure, spread evenly over [start, start + span)."""
    step = span / max(count, 1)
    return [log_entry(start + step * i, kind[1], service, kind[2]) for i in range(count)]


def ingest_spread(
    store: Store, plan: dict[tuple[tuple[str | None, str, str], str], dict[date, int]]
) -> int:
    """Ingest ``{(failure, service): {day: count}}``; entries spread over each UTC day."""
    texts = []
    for (kind, service), per_day in plan.items():
        for day, count in per_day.items():
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            texts += [
                json.dumps(e) for e in entries_for(kind, service, start, count, timedelta(days=1))
            ]
    result = ingest_texts(store, texts, "test")
    assert result.accepted == len(texts), result.rejections[:3]
    return len(texts)


def spread_store(
    path: Path, plan: dict[tuple[tuple[str | None, str, str], str], dict[date, int]]
) -> Path:
    """A store file at ``path`` holding ``plan`` (ingest_spread's ``{(failure, service): {day:
    count}}``)."""
    with open_store(path) as store:
        ingest_spread(store, plan)
    return path
