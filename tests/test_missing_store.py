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
