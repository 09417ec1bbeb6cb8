"""An issue's "first seen" is its first sighting in the whole store, not in the range read.

The analysis reads the window and a bounded look-back (forensics.incidents.lookback); the first
sighting before it comes from the per-run rollup of the matches (forensics.incidents.sightings),
so it costs O(runs), never the entries. Stored rollup and the rollup computed from the entries
(a store written before it, or a run classified for this answer only) give the same answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.derived import current_runs, pending_runs
from forensics.incidents import load_registry
from forensics.incidents.build import analyze_incidents
from forensics.incidents.lookback import look_back
from forensics.incidents.model import iso
from forensics.incidents.sightings import signature_spans
from forensics.ingest import ingest_texts
from forensics.pipeline import classify_pending
from forensics.signatures import classify_store, load_catalog
from forensics.store import Store, open_store
from forensics.timeutil import Window
from tests.test_lookback import SLOTS, _entry

UNTIL = datetime(2026, 3, 10, tzinfo=UTC)
WINDOW = Window(UNTIL - timedelta(hours=24), UNTIL)
DAYS_BEFORE = [30, 12, 1]  # the first far before the look-back, the last inside it


def _lines() -> list[str]:
    lines = [
        _entry(n, WINDOW.since - timedelta(days=d), SLOTS, "ERROR", f"api-0000{n + 1}-abc")
        for n, d in enumerate(DAYS_BEFORE)
    ]
    return lines + [
        _entry(100 + n, WINDOW.since + timedelta(hours=n), "request handled", "INFO", "api-1")
        for n in range(3)
    ]


def _fill(store: Store, *, rollup: bool, one_run: bool = False) -> None:
    """One ingest run per line (so the rollup has several runs), or one for all, classified;
    with ``rollup`` the per-run tables are written too (as ingest does), else they are
    computed when read."""
    runs = [_lines()] if one_run else [[line] for line in _lines()]
    for n, lines in enumerate(runs):
        ingest_texts(store, lines, f"run-{n}")
    catalog = load_catalog()
    if rollup:
        classify_pending(store, catalog)
        assert pending_runs(store, signature_spans(catalog.version)) == []  # the stored path
    else:
        classify_store(store, catalog)
        assert current_runs(store, signature_spans(catalog.version)) == []  # the computed path


def _registry(tmp_path: Path) -> Path:
    path = tmp_path / "issues.yaml"
    path.write_text(
        "issues:\n"
        "  - id: FS-1\n"
        "    title: Cloud SQL slots run out\n"
        "    url: https://example.com/FS-1\n"
        "    signatures: [cloudsql/too-many-clients]\n"
        "    claimed_status: open\n",
        encoding="utf-8",
    )
    return path


def _issue(store: Store, tmp_path: Path) -> dict[str, object]:
    registry = load_registry(_registry(tmp_path))
    analysis = analyze_incidents(store, WINDOW, registry=registry)
    return next(s for s in analysis.issues if s.id == "FS-1").as_dict()


def test_first_seen_is_the_first_sighting_in_the_store_not_in_the_look_back(
    tmp_path: Path,
) -> None:
    first = WINDOW.since - timedelta(days=max(DAYS_BEFORE))
    for rollup in (True, False):
        with open_store(":memory:") as store:
            _fill(store, rollup=rollup)
            history = look_back(store, WINDOW, load_registry(_registry(tmp_path)))
            issue = _issue(store, tmp_path)
        assert first < history.since  # the first sighting lies outside what the analysis reads
        assert issue["first_seen"] == iso(first), (rollup, issue)
        assert issue["first_seen_revision"] == "api-00001-abc"
        assert issue["first_seen_place"] == "api-00001-abc"
        assert issue["first_seen_since"] is None  # the true first sighting, not a range's
        # what is counted stays the look-back's: the line a day before the window
        assert issue["evidence_total"] == 1
        assert issue["last_seen"] == iso(WINDOW.since - timedelta(days=min(DAYS_BEFORE)))


def test_a_sighting_after_the_window_is_not_the_first(tmp_path: Path) -> None:
    """A window in the past: lines logged after its end are not sightings of it."""
    window = Window(WINDOW.since - timedelta(days=40), WINDOW.since - timedelta(days=39))
    with open_store(":memory:") as store:
        _fill(store, rollup=True)
        registry = load_registry(_registry(tmp_path))
        issue = next(
            s for s in analyze_incidents(store, window, registry=registry).issues if s.id == "FS-1"
        )
    assert issue.first_seen is None and issue.first_seen_place is None


def test_the_last_sighting_before_a_past_window_when_none_is_read(tmp_path: Path) -> None:
    """A past window whose look-back holds no line: first and last seen are the store's lines
    before its end, also when one run spans its end (its last line before it is scanned)."""
    window = Window(WINDOW.since - timedelta(days=20), WINDOW.since - timedelta(days=19))
    registry = load_registry(_registry(tmp_path))
    before = WINDOW.since - timedelta(days=max(DAYS_BEFORE))  # the only line before its end
    for one_run in (False, True):
        with open_store(":memory:") as store:
            _fill(store, rollup=True, one_run=one_run)
            issue = next(
                s
                for s in analyze_incidents(store, window, registry=registry).issues
                if s.id == "FS-1"
            )
        assert issue.evidence_total == 0, one_run
        assert issue.first_seen == issue.last_seen == before, one_run
        assert issue.last_seen_revision == "api-00001-abc"


def test_a_signatures_first_seen_is_the_stores_too(tmp_path: Path) -> None:
    """The per-signature table (signature_revisions) says first seen like the issues do."""
    window_line = _entry(900, WINDOW.since + timedelta(hours=2), SLOTS, "ERROR", "api-00009-xyz")
    with open_store(":memory:") as store:
        _fill(store, rollup=True)
        ingest_texts(store, [window_line], "run-window")
        classify_pending(store, load_catalog())
        registry = load_registry(_registry(tmp_path))
        rows = analyze_incidents(store, WINDOW, registry=registry).signature_revisions
    slots = next(r for r in rows if r["signature"] == "cloudsql/too-many-clients")
    assert slots["first_seen"] == iso(WINDOW.since - timedelta(days=max(DAYS_BEFORE)))
    assert slots["first_seen_revision"] == "api-00001-abc"
    assert slots["count"] == 1 and slots["last_seen_revision"] == "api-00009-xyz"
