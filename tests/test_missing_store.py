"""A command that writes to a store the user already has refuses a path where there is none.

`snapshot` and `patterns apply` used to create an empty store at a mistyped `--db` and record
the day as "0 entries" with exit 0: a cron job would keep snapshotting nothing, silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from forensics.cli import app


@pytest.mark.parametrize(
    "argv",
    [
        ["snapshot", "--date", "2025-09-16"],
        ["snapshot", "--list"],
        ["patterns", "apply"],
    ],
    ids=["snapshot", "snapshot-list", "patterns-apply"],
)
def test_a_mistyped_store_is_refused_and_not_created(
    runner: CliRunner, tmp_path: Path, argv: list[str]
) -> None:
    typo = tmp_path / "typo.duckdb"
    result = runner.invoke(app, [*argv, "--db", str(typo)])
    assert result.exit_code == 2, result.output
    assert f"{typo}: no store here yet" in result.output
    assert not typo.exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_output_to_a_full_disk_is_one_line(tmp_path: Path) -> None:
    """Standard output on a full disk (`forensics query ... > /dev/full`): one line saying
    so, not a traceback."""
    import subprocess
    import sys

    db = tmp_path / "s.duckdb"
    made = CliRunner().invoke(app, ["query", "select 1", "--db", str(db)])
    assert "no store here yet" in made.output  # a reading command never makes one
    from forensics.store import open_store

    with open_store(db):
        pass
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "forensics", "query", "select 1 AS x", "-f", "csv",
             "--db", str(db)],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: cannot write the output: No space left on device"
    ]
