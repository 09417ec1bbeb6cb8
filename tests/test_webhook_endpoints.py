"""Webhook targets that misbehave: a URL with a bad port, an answer that is not HTTP, a redirect.

Each is met through `forensics diff --webhook` against a real store and a real socket on
127.0.0.1: one clear line, a documented exit code, no traceback, and never "posted" for a
message the endpoint did not take.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.snapshots import take_snapshots
from forensics.snapshots.state import Sources
from forensics.store import open_store
from forensics.watch.webhook import check_url

from .snapdata import EXIT3, ingest_spread

DAY = date(2025, 9, 16)


@pytest.fixture(scope="module")
def loud_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store whose diff of DAY needs attention (a new signature), so diff posts."""
    tmp = tmp_path_factory.mktemp("hook")
    registry = tmp / "issues.yaml"
    registry.write_text("version: 1\nissues: []\n")
    db = tmp / "d.duckdb"
    with open_store(db) as store:
        ingest_spread(store, {(EXIT3, "svc-a"): {DAY: 3}})
        take_snapshots(store, [DAY - timedelta(days=1), DAY], Sources.load(registry))
    return str(db)


def _diff(runner: CliRunner, db: str, url: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["diff", "--db", db, "--date", DAY.isoformat(), "--baseline", "1d", "--json",
         "--webhook", url, "--webhook-attempts", "2", "--webhook-backoff", "0"],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("port", ["99999", "abc"])
def test_a_webhook_url_with_a_bad_port_is_a_usage_error(
    runner: CliRunner, loud_db: str, port: str
) -> None:
    url = f"http://127.0.0.1:{port}/services/T000/B000/secret-token"
    with pytest.raises(Exception) as err:
        check_url(url)
    assert "secret-token" not in str(err.value)
    code, output = _diff(runner, loud_db, url)
    assert code == 2, output
    assert "error: --webhook" in output and "secret-token" not in output
    watch = runner.invoke(
        app, ["watch", "--db", loud_db, "--no-collect", "--iterations", "1", "--webhook", url]
    )
    assert watch.exit_code == 2 and "error: --webhook" in watch.output, watch.output
    assert isinstance(watch.exception, SystemExit) and "secret-token" not in watch.output
