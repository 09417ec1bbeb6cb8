"""Every day of the real export (../shared/fixtures/real-staging), analysed as
`forensics analyze --hours 24 --until <next midnight>` does, holds the invariants a person
checking the output against the entries would expect: causes named by what failed, incidents
inside their window and ordered, and every cause entry really in the logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from forensics.incidents import build_analysis, load_registry
from forensics.ingest import ingest_files
from forensics.store import Store, open_store
from forensics.timeutil import Window
from tests.conftest import REAL_STAGING_ENTRIES, requires_real_staging

pytestmark = requires_real_staging


def _days() -> list[str]:
    if not REAL_STAGING_ENTRIES.is_file():
        return []
    with REAL_STAGING_ENTRIES.open(encoding="utf-8") as lines:
        return sorted({json.loads(line)["timestamp"][:10] for line in lines if line.strip()})


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("real-days") / "real.duckdb"
    with open_store(path) as store:
        ingest_files(store, [REAL_STAGING_ENTRIES])
    with open_store(path, read_only=True) as store:
        yield store


def _window(day: str) -> Window:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return Window(start, start + timedelta(days=1))


def _t(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


@pytest.mark.parametrize("day", _days())
def test_every_real_day_reads_right(real_store: Store, day: str) -> None:
    window = _window(day)
    result = build_analysis(real_store, window, registry=load_registry(None))
    for incident in result["incidents"]:
        start, end = _t(incident["start"]), _t(incident["end"])
        assert window.since <= start <= end <= window.until, incident["id"]
        cause = incident["cause"]
        # a cause is what failed, never a traceback's header line or a cause no symptom follows
        assert not cause.startswith("Traceback"), (day, cause)
        assert "Traceback (most recent call last):" not in cause, (day, cause)
        assert " 0 of " not in cause, (day, cause)
        root = incident["root_cause"]
        if root.get("insert_id"):
            found = real_store.scalar(
                "SELECT count(*) FROM entries WHERE insert_id = $id "
                "AND timestamp >= $since AND timestamp < $until",
                {**window.params(), "id": root["insert_id"]},
            )
            assert found, (day, root)
    starts = [_t(i["start"]) for i in result["incidents"]]
    assert starts == sorted(starts)


@pytest.mark.parametrize("day", ["2025-08-31", "2025-09-12"])
def test_a_probe_failure_after_an_app_crash_is_not_resource_exhaustion(
    real_store: Store, day: str
) -> None:
    """On these days the backend raised at import (a configuration error, an IndentationError),
    exited 1 and failed its startup probe: no memory or CPU line anywhere. #131 (resource
    exhaustion) has no evidence; the incident is the crash, named by what raised."""
    window = _window(day)
    probes = real_store.scalar(
        "SELECT count(*) FROM signature_matches WHERE signature = 'cloudrun/startup-probe-failed' "
        "AND timestamp >= $since AND timestamp < $until",
        window.params(),
    )
    assert probes > 0
    result = build_analysis(real_store, window, registry=load_registry(None))
    status = next(i for i in result["issues"] if i["id"] == "#131")
    assert status["evidence"] == {} and status["status"] == "QUIET"
    (incident,) = [i for i in result["incidents"] if "cloudrun/startup-probe-failed" in i["chain"]]
    assert incident["issues"] == []
    assert incident["root_cause"]["kind"] == "error"
