"""A snapshot row edited by hand (valid JSON of the wrong shape): `diff` names the day and the
row and says how to retake it (exit code 2), instead of a traceback from deep in the compare."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.snapshots import take_snapshots
from forensics.store import open_store

from .snapdata import EXIT3, ingest_spread

DAY = date(2025, 9, 16)
BEFORE = DAY - timedelta(days=1)

EDITS = {
    "issue details an array": ("kind = 'issue'", "details = '[1, 2]'"),
    "signature details a string": ("kind = 'signature'", "details = '\"x\"'"),
    "issue details null": ("kind = 'issue'", "details = 'null'"),
    "summary recorded a number": ("kind = 'day'", "details = '{\"recorded\": 5}'"),
    "summary gaps not objects": ("kind = 'day'", "details = '{\"gaps\": [1]}'"),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_an_edited_row_is_named_not_a_traceback(
    tmp_path: Path, runner: CliRunner, edit: tuple[str, str]
) -> None:
    db = tmp_path / "e.duckdb"
    with open_store(db) as store:
        ingest_spread(store, {(EXIT3, "svc-a"): {BEFORE: 2, DAY: 2}})
        take_snapshots(store, [BEFORE, DAY])
    where, change = edit
    with duckdb.connect(str(db)) as conn:  # the hand edit, as a person would make it
        assert conn.execute(f"SELECT count(*) FROM snapshots WHERE day = ? AND {where}",
                            [BEFORE]).fetchone()[0] > 0  # fmt: skip
        conn.execute(f"UPDATE snapshots SET {change} WHERE day = ? AND {where}", [BEFORE])
    result = runner.invoke(app, ["diff", "--db", str(db), "--date", str(DAY), "--baseline", "1d"])
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    assert f"snapshot {BEFORE}" in errors[0]
    assert f"forensics snapshot --date {BEFORE}" in errors[0]
