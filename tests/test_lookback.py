"""Analysis reads the window and a bounded look-back: baseline days, extended to a claimed fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from forensics.incidents import load_registry
from forensics.incidents.build import analyze_incidents
from forensics.incidents.evidence import load_matches
from forensics.incidents.lookback import LookBack, look_back
from forensics.ingest import ingest_texts
from forensics.signatures import classify_store, load_catalog
from forensics.store import Store, open_store
from forensics.timeutil import Window

UNTIL = datetime(2026, 3, 10, tzinfo=UTC)  # the shipped claims (2025) are all older than it
WINDOW = Window(UNTIL - timedelta(hours=24), UNTIL)
SLOTS = "FATAL:  sorry, too many clients already"


def _entry(
    n: int, when: datetime, text: str, severity: str, revision: str = "api-00001-abc"
) -> str:
    return json.dumps(
        {
            "insertId": f"lb{n:04d}",
            "timestamp": when.isoformat().replace("+00:00", "Z"),
            "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
            "resource": {
                "type": "cloud_run_revision",
                "labels": {"service_name": "api", "revision_name": revision},
            },
            "severity": severity,
            "textPayload": text,
        }
    )


def _store(store: Store, failures_days_before: list[float]) -> None:
    """A slot-exhaustion line ``d`` days before the window for each d, and quiet window traffic."""
    texts = [
        _entry(n, WINDOW.since - timedelta(days=d), SLOTS, "ERROR")
        for n, d in enumerate(failures_days_before)
    ]
    texts += [
        _entry(100 + n, WINDOW.since + timedelta(hours=n), "request handled", "INFO")
        for n in range(3)
    ]
    ingest_texts(store, texts, "test")
    classify_store(store, load_catalog())


def _registry(tmp_path: Path, fixed_days_before: float) -> Path:
    fixed = (WINDOW.since - timedelta(days=fixed_days_before)).isoformat()
    path = tmp_path / "issues.yaml"
    path.write_text(
        "issues:\n"
        "  - id: LB-1\n"
        "    title: Cloud SQL slots run out\n"
        "    url: https://example.com/LB-1\n"
        "    signatures: [cloudsql/too-many-clients]\n"
        "    claimed_status: resolved\n"
        f"    claimed_resolved_at: {fixed.replace('+00:00', 'Z')}\n",
        encoding="utf-8",
    )
    return path


def _status(store: Store, registry_path: Path) -> tuple[LookBack, dict[str, object]]:
    registry = load_registry(registry_path)
    history = look_back(store, WINDOW, registry)
    analysis = analyze_incidents(store, WINDOW, registry=registry)
    issue = next(s for s in analysis.issues if s.id == "LB-1").as_dict()
    return history, issue


def test_a_recent_claimed_fix_extends_the_look_back_to_it(tmp_path: Path) -> None:
    with open_store(":memory:") as store:
        _store(store, [30, 5])
        history, issue = _status(store, _registry(tmp_path, fixed_days_before=10))
    assert history.since == WINDOW.since - timedelta(days=10)
    # the line 5 days before the window came after the fix: the claim is contradicted
    assert issue["status"] == "REGRESSED", issue["basis"]
    # the line 30 days before lies beyond the look-back: not read, not counted
    assert issue["evidence_total"] == 1
    # but it is the issue's first sighting (the per-run rollup: tests/test_first_seen.py)
    first = (WINDOW.since - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    assert issue["first_seen"] == first


def test_an_old_fix_is_judged_on_the_baseline_look_back(tmp_path: Path) -> None:
    with open_store(":memory:") as store:
        _store(store, [5])
        registry_path = _registry(tmp_path, fixed_days_before=40)
        history, issue = _status(store, registry_path)
    baseline = load_registry(registry_path).settings.lookback_days
    assert history.since == WINDOW.since - timedelta(days=baseline)
    # 5 days before the window is outside the 2-day look-back: no evidence is read
    assert issue["evidence_total"] == 0
    assert "look-back's start" in str(issue["basis"]), issue["basis"]


HEAP = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"


def test_a_fix_extends_its_own_issues_history_only(tmp_path: Path) -> None:
    """LB-1's fix 10 days back extends LB-1's history; LB-2 (no fix) keeps the baseline, so
    its line 5 days back is not read (the other stages never read past the baseline)."""
    with open_store(":memory:") as store:
        heap = _entry(900, WINDOW.since - timedelta(days=5), HEAP, "ERROR")
        ingest_texts(store, [heap], "test-heap")
        _store(store, [5])
        path = _registry(tmp_path, fixed_days_before=10)
        lb2 = (
            "  - id: LB-2\n"
            "    title: Node runs out of heap\n"
            "    url: https://example.com/LB-2\n"
            "    signatures: [memory/heap-exhausted]\n"
            "    claimed_status: open\n"
        )
        path.write_text(path.read_text(encoding="utf-8") + lb2, encoding="utf-8")
        registry = load_registry(path)
        history = look_back(store, WINDOW, registry)
        analysis = analyze_incidents(store, WINDOW, registry=registry)
    issues = {s.id: s.as_dict() for s in analysis.issues}
    assert issues["LB-1"]["status"] == "REGRESSED", issues["LB-1"]["basis"]
    assert issues["LB-1"]["evidence_total"] == 1
    # LB-2's line lies before the baseline and LB-2 claims no fix: outside its history
    assert issues["LB-2"]["evidence_total"] == 0, issues["LB-2"]
    # its first (and last) sighting is still the store's (tests/test_first_seen.py)
    seen = (WINDOW.since - timedelta(days=5)).isoformat().replace("+00:00", "Z")
    assert issues["LB-2"]["first_seen"] == issues["LB-2"]["last_seen"] == seen
    assert history.since == WINDOW.since - timedelta(days=10)
    assert history.start == WINDOW.since - timedelta(days=registry.settings.lookback_days)


def test_matches_before_the_window_are_read_without_their_entries_facts() -> None:
    """load_matches joins the entries (for resource type and log) only from ``facts_since`` on
    and for matches without a service (whose service is their resource type): the same rows,
    services and window facts as the full join, NULL facts only where no stage reads them."""
    lines = [
        _entry(1, WINDOW.since - timedelta(days=1), SLOTS, "ERROR"),
        _entry(2, WINDOW.since + timedelta(hours=1), SLOTS, "ERROR"),
        json.dumps(
            {
                "insertId": "lb0003",
                "timestamp": (WINDOW.since - timedelta(hours=5)).isoformat(),
                "logName": "projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log",
                "resource": {"type": "cloudsql_database", "labels": {"project_id": "p"}},
                "severity": "ERROR",
                "textPayload": SLOTS,
            }
        ),
    ]
    with open_store(":memory:") as store:
        ingest_texts(store, lines, "test")
        classify_store(store, load_catalog())
        since = WINDOW.since - timedelta(days=2)
        full = load_matches(store, UNTIL, since)
        read = load_matches(store, UNTIL, since, WINDOW.since)
    assert full.height == 3 and full["resource_type"].null_count() == 0
    assert read.drop("resource_type", "log_id").equals(full.drop("resource_type", "log_id"))
    facts = {r["insert_id"]: r["resource_type"] for r in read.to_dicts()}
    assert facts == {"lb0001": None, "lb0002": "cloud_run_revision", "lb0003": "cloudsql_database"}
    assert read.filter(pl.col("insert_id") == "lb0003")["service"].to_list() == [
        "cloudsql_database"
    ]
