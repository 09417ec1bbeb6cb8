"""Classification runs under a DuckDB memory cap, so a 10M-entry run cannot take the process
past the 4 GB budget (uncapped, its hash tables reached 5.5 GB RSS); the cap is lifted after."""

from __future__ import annotations

import json
from typing import Any

import pytest

import forensics.pipeline as pipeline
from forensics.ingest import ingest_texts
from forensics.pipeline import Sources, classify_pending
from forensics.store import Store, open_store


def _bytes(store: Store) -> float:
    text = str(store.scalar("SELECT current_setting('memory_limit')"))
    number, unit = text.split()
    scale = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
    return float(number) * scale


def test_classification_runs_under_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float] = []
    real = pipeline.classify_store

    def recording(store: Store, *args: Any, **kwargs: Any) -> Any:
        seen.append(_bytes(store))
        return real(store, *args, **kwargs)

    monkeypatch.setattr(pipeline, "classify_store", recording)
    line = {
        "insertId": "cap-1",
        "timestamp": "2025-09-16T10:00:00Z",
        "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
        "severity": "ERROR",
        "textPayload": "Container called exit(3).",
    }
    with open_store(":memory:") as store:
        before = _bytes(store)
        ingest_texts(store, [json.dumps(line)], "test")
        classify_pending(store, Sources.load().catalog)
        after = _bytes(store)
        matched = store.scalar("SELECT count(*) FROM signature_matches")
    cap = 2 * 2**30
    assert seen and all(limit <= cap for limit in seen), seen
    assert after == pytest.approx(before, rel=0.01)  # the setting is back (as DuckDB prints it)
    assert matched >= 1
