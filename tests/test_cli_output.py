"""Small output defects a new user meets (issue 10, "What was seen" item 9), each reproduced."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.incidents import build_analysis, load_registry
from forensics.ingest import ingest_files
from forensics.store import open_store
from forensics.timeutil import window_ending

from .conftest import FIXTURES, REAL_STAGING_ENTRIES, requires_real_staging
from .procs import ENV

SAMPLE = FIXTURES / "real_staging_sample.jsonl"


def test_patterns_list_json_gives_issues_as_a_list_like_show(runner: CliRunner) -> None:
    listed = json.loads(runner.invoke(app, ["patterns", "list", "--json"]).output)
    by_id = {s["id"]: s for s in listed["signatures"]}
    shown = json.loads(
        runner.invoke(app, ["patterns", "show", "startup/exit-code-3", "--json"]).output
    )
    assert by_id["startup/exit-code-3"]["issues"] == shown["issues"]
    assert all(isinstance(s["issues"], list) for s in listed["signatures"])


@pytest.fixture(scope="module")
def real_day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The real export's incident day, analysed (its audit log holds deploy calls)."""
    db = tmp_path_factory.mktemp("real") / "real.duckdb"
    with open_store(db) as store:
        ingest_files(store, [REAL_STAGING_ENTRIES])
        return build_analysis(
            store,
            window_ending(24, "2025-09-17T00:00:00Z"),
            registry=load_registry(None),
        )


@requires_real_staging
def test_drift_never_shows_python_none(real_day: dict[str, Any]) -> None:
    lines = [c for m in real_day["deploys"] for c in m["changes"]]
    assert any("(unset) -> " in line for line in lines), lines  # vpc_connector was added
    assert not any("None" in line for line in lines), lines


@requires_real_staging
def test_deploy_calls_that_say_nothing_are_not_listed(real_day: dict[str, Any]) -> None:
    calls = [m for m in real_day["deploys"] if m["kind"] == "call"]
    assert calls, "the real day has deploy calls whose outcome is not in the logs"
    empty = [m for m in calls if not m["revision"] and not m["changes"]]
    assert empty == []


def test_report_files_follow_the_umask(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    assert runner.invoke(app, ["ingest", str(SAMPLE), "--db", db]).exit_code == 0
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        result = runner.invoke(
            app,
            ["report", "--out", str(out), "--db", db, "--until", "2025-09-17T00:00:00Z"],
        )
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    written = sorted(out.iterdir())
    assert [p.name for p in written] == ["report.html", "report.json", "report.md"]
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_piped_output_honours_columns() -> None:
    def widest(columns: str | None) -> int:
        env = {k: v for k, v in ENV.items() if k != "COLUMNS"}
        if columns:
            env["COLUMNS"] = columns
        proc = subprocess.run(
            [sys.executable, "-m", "forensics", "patterns", "list"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return max(len(line) for line in proc.stdout.splitlines())

    assert widest("100") == 100
    assert widest("90") == 90
    assert widest(None) > 100  # a pipe without COLUMNS keeps whole lines for logs


def test_a_wide_fleets_deploys_are_summarised_not_all_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from forensics.cli.render_incidents import MAX_DEPLOY_ROWS, render_deploys

    deploys = [
        {
            "time": f"2025-09-16T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "service": "api",
            "kind": "failed" if n == 7 else "revision",
            "revision": f"api-{n:05d}-abc",
            "changes": [],
        }
        for n in range(5 * MAX_DEPLOY_ROWS)
    ]
    render_deploys(deploys)
    out = capsys.readouterr().out
    shown = [n for n in range(5 * MAX_DEPLOY_ROWS) if f"api-{n:05d}-abc" in out]
    assert len(shown) == MAX_DEPLOY_ROWS
    assert 7 in shown and shown[-1] == 5 * MAX_DEPLOY_ROWS - 1  # the failed one and the latest
    assert f"{4 * MAX_DEPLOY_ROWS:,} earlier deploys not shown" in out
    # given only the shown ones and the total (AnalysisModel.terminal_analysis): the same table
    render_deploys([deploys[n] for n in shown], total=len(deploys))
    assert capsys.readouterr().out == out


def test_the_terminal_lists_as_many_deploys_as_the_reports() -> None:
    from forensics.cli.render_incidents import MAX_DEPLOY_ROWS
    from forensics.report.model import REPORT_DEPLOYS

    assert MAX_DEPLOY_ROWS == REPORT_DEPLOYS


def test_the_terminal_analysis_is_the_analysis_with_only_the_shown_deploys(
    tmp_path: Path,
) -> None:
    """analyze at a terminal makes dicts of the deploys its table lists only: the same ones
    (every failed one, then the latest) and their total; everything else as analysis()."""
    from dataclasses import replace

    from forensics.incidents import digest
    from forensics.incidents.model import DeployMarker
    from forensics.pipeline import Sources, build_model

    db = tmp_path / "s.duckdb"
    window = window_ending(24, "2025-09-17T00:00:00Z")
    with open_store(db) as store:
        ingest_files(store, [SAMPLE])
        model = build_model(store, window, Sources.load())
    start = window.since
    kinds = ["failed" if n == 3 else "revision" for n in range(40)]
    markers = [
        DeployMarker(start.replace(minute=n % 60, second=n // 60), "api", kind, "m",
                     f"api-{n:03d}", None, None, True, None, f"id-{n}", [f"image: {n}"])
        for n, kind in enumerate(kinds)
    ]  # fmt: skip
    markers.sort(key=lambda m: m.time)
    model.incidents.deploys = markers
    terminal = model.terminal_analysis(10)
    full = replace(model).analysis()  # a copy: analysis() is kept once made
    assert "drift" not in terminal and terminal["deploys_total"] == len(markers)
    assert terminal["deploys"] == digest.shown(full["deploys"], 10)
    assert any(d["kind"] == "failed" for d in terminal["deploys"])
    rest = {k: v for k, v in terminal.items() if k not in ("deploys", "deploys_total")}
    assert str(rest) == str({k: v for k, v in full.items() if k in rest})
    assert model.terminal_analysis(10) is not model.analysis()
    assert model.terminal_analysis(10) is model.analysis()  # made: the analysis itself
