"""A report reads a wide fleet's deploy markers and drift rows themselves (issue 11): the same
facts as from the analysis' dicts of every one, with dicts made of the listed and near ones only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from forensics.incidents.model import DeployMarker, Drift
from forensics.ingest import ingest_files
from forensics.pipeline import Sources, build_model
from forensics.report.markers import Markers
from forensics.report.model import REPORT_DEPLOYS, _deploys, report_facts
from forensics.store import open_store
from forensics.timeutil import window_ending

from .conftest import FIXTURES

SAMPLE = FIXTURES / "real_staging_sample.jsonl"
N = 6 * REPORT_DEPLOYS


def _markers(start: object) -> tuple[list[DeployMarker], list[Drift]]:
    """N deploys and drift rows over the window, out of time order, of 7 services, some failed."""
    assert hasattr(start, "tzinfo")
    deploys, drift = [], []
    for n in range(N):
        when = start + timedelta(minutes=(n * 37) % (24 * 60), seconds=n % 3)  # type: ignore[operator]
        service = f"svc-{n % 7}"
        kind = "failed" if n % 41 == 5 else ("traffic" if n % 3 else "revision")
        revision = None if n % 11 == 0 else f"{service}-{n:05d}"
        deploys.append(DeployMarker(when, service, kind, "m", revision, None, None, True, None,
                                    f"id-{n}", [f"image: {n}"]))  # fmt: skip
        changes = [{"field": "memory", "from": "512Mi", "to": f"{n}Mi", "kind": "resources"}]
        if n % 4 == 0:
            changes.append({"field": "env", "added": [f"K{n}"], "removed": [], "kind": "env"})
        drift.append(Drift(service, when, f"{service}-a", revision, changes, f"dr-{n}"))
    return deploys, drift


def test_the_report_facts_from_the_markers_are_those_from_the_analysis_dicts(
    tmp_path: Path,
) -> None:
    window = window_ending(24, "2025-09-17T00:00:00Z")
    with open_store(tmp_path / "s.duckdb") as store:
        ingest_files(store, [SAMPLE])
        sources = Sources.load()
        model = build_model(store, window, sources)
        model.incidents.deploys, model.incidents.drift = _markers(window.since)
        assert model.incidents.incidents  # postmortems read the deploys near each incident
        common = {"counts": model.signature_counts, "traffic": model.incidents.traffic}
        from_dicts = report_facts(store, window, model.analysis(), sources.catalog, **common)
        view = replace(model).report_analysis()  # a copy: analysis() is kept once made
        assert "deploys" not in view and "drift" not in view
        from_markers = report_facts(
            store, window, view, sources.catalog, markers=model.incidents, **common
        )
    assert from_markers == from_dicts
    assert from_markers.deploys_summary["left_out"] == N - REPORT_DEPLOYS
    assert from_markers.drift_summary["total"] == N
    assert any(d["kind"] == "failed" for d in from_markers.deploys)
    # more deploys near an incident than its timeline lists: the nearest ones were picked
    assert any(inc.postmortem.deploys_not_listed for inc in from_markers.incidents)


def test_markers_read_as_the_analysis_dicts_in_time_order() -> None:
    window = window_ending(24, "2025-09-17T00:00:00Z")
    deploys, _ = _markers(window.since)
    markers = Markers(deploys)
    dicts = _deploys({"deploys": [d.as_dict() for d in deploys]})
    assert len(markers) == len(dicts)
    assert markers[3] == dicts[3] and markers[-1] == dicts[-1]
    assert markers[10:20] == dicts[10:20]
    assert list(markers) == dicts
