"""Output paths that cannot be written: one line naming the path, exit code 2, nothing half-written.

`snapshot --export-json/--export-parquet` and `report --out` met a directory where a file goes,
or a file where a directory goes, with a Python traceback (exit code 1, which cron reads as
"something needs attention").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.snapshots import stored_days
from forensics.store import open_store

from .snapdata import EXIT3, spread_store

DAY = date(2025, 9, 16)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(spread_store(tmp_path / "o.duckdb", {(EXIT3, "svc-a"): {DAY: 4}}))


def _one_line_error(result: object, needle: str) -> None:
    exit_code = getattr(result, "exit_code", None)
    output: str = getattr(result, "output", "")
    assert isinstance(getattr(result, "exception", None), SystemExit | None), output
    assert exit_code == 2, output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and needle in errors[0], output
    assert "Traceback" not in output


@pytest.mark.parametrize("flag", ["--export-json", "--export-parquet"])
def test_snapshot_export_to_a_directory(
    db: str, tmp_path: Path, runner: CliRunner, flag: str
) -> None:
    target = tmp_path / "exports"
    target.mkdir()
    result = runner.invoke(app, ["snapshot", "--db", db, "--date", str(DAY), flag, str(target)])
    _one_line_error(result, str(target))
    assert list(target.iterdir()) == [] and [p.name for p in tmp_path.glob(".*tmp*")] == []
    with open_store(db, read_only=True) as store:  # the snapshot itself was taken and kept
        assert stored_days(store) == [DAY]


def test_snapshot_export_under_a_file(db: str, tmp_path: Path, runner: CliRunner) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    target = blocker / "snap.json"
    result = runner.invoke(app, ["snapshot", "--db", db, "--list", "--export-json", str(target)])
    _one_line_error(result, str(blocker))
    assert blocker.read_text() == "x"


def test_report_out_is_a_file_or_holds_a_directory(
    db: str, tmp_path: Path, runner: CliRunner
) -> None:
    until = ["--until", "2025-09-17T00:00:00Z"]
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    result = runner.invoke(app, ["report", "--db", db, "--out", str(blocker), *until])
    _one_line_error(result, str(blocker))
    out = tmp_path / "rep"
    (out / "report.md").mkdir(parents=True)
    result = runner.invoke(app, ["report", "--db", db, "--out", str(out), "-f", "md", *until])
    _one_line_error(result, str(out / "report.md"))
    assert [p.name for p in out.iterdir()] == ["report.md"]  # no temporary file left behind
