"""`forensics report` and `forensics analyze --out`: files written, formats, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forensics.cli import app, main
from tests.reportdata import DEMO_REGISTRY, GOLDEN_END, build_store

UNTIL = GOLDEN_END.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_store(tmp_path_factory.mktemp("cli") / "s.duckdb", entries=3000))


def _exit_code(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    monkeypatch.setattr(sys, "argv", ["forensics", *argv])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return int(exit_info.value.code or 0)


def test_report_writes_every_format(runner: CliRunner, db: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["report", "--out", str(out), "--until", UNTIL, "--db", db])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "forensics.report/1"
    assert report["window"]["until"] == UNTIL and report["entries_in_window"] == 3000
    assert (out / "report.md").read_text().startswith("# forensics report: netra-staging")
    assert '<svg class="timeline"' in (out / "report.html").read_text()
    assert f"wrote {out / 'report.md'}" in result.output
    too_long = len((out / "report.md").read_text()) > 65_536
    assert ("paste one issue at a time with --issue ID" in result.output) == too_long


def test_report_one_format(runner: CliRunner, db: str, tmp_path: Path) -> None:
    args = ["report", "-o", str(tmp_path), "-f", "md", "--until", UNTIL, "--db", db]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "pdf"], "--format: pdf not known"),
        (["--format", "md", "--issue", "#9999"], "--issue: no issue '#9999'"),
    ],
)
def test_report_usage_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db: str,
    tmp_path: Path,
    extra: list[str],
    message: str,
) -> None:
    argv = ["report", "--out", str(tmp_path / "o"), "--until", UNTIL, "--db", db, *extra]
    assert _exit_code(monkeypatch, argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_issue_comment_with_the_demo_claims(runner: CliRunner, db: str, tmp_path: Path) -> None:
    args = ["report", "-o", str(tmp_path), "-f", "md", "--issue", "#1278", "--until", UNTIL]
    result = runner.invoke(app, [*args, "--issues-file", str(DEMO_REGISTRY), "--db", db])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "report.md").read_text()
    assert text.startswith("## \\#1278: ")
    assert "the claim is contradicted by the logs" in text
    assert "## \\#1263" not in text and "# forensics report" not in text


def test_report_needs_out(monkeypatch: pytest.MonkeyPatch, db: str) -> None:
    assert _exit_code(monkeypatch, ["report", "--db", db]) == 2


def test_analyze_out_writes_the_same_reports(runner: CliRunner, db: str, tmp_path: Path) -> None:
    args = ["analyze", "--hours", "24", "--until", UNTIL, "--out", str(tmp_path), "--db", db]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Volume per hour" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.json", "report.md"]
    from_analyze = json.loads((tmp_path / "report.json").read_text())
    direct = tmp_path / "direct"
    runner.invoke(app, ["report", "-o", str(direct), "-f", "json", "--until", UNTIL, "--db", db])
    from_report = json.loads((direct / "report.json").read_text())
    for report in (from_analyze, from_report):
        report.pop("generated_at")
    assert from_analyze == from_report
