"""No secret from log text reaches any output (issue 12).

A store holds one unknown ERROR per secret shape of tests/hostile/secrets.json on the checked
day (so each is a new unknown-error template, an example line and a report row), and every
output is produced by the real CLI: terminal text, `analyze --json`, `incidents --json`,
`query`, report files, snapshot exports, `diff --json | --markdown`, and the webhook body `diff`
posts to a real HTTP server on 127.0.0.1. The same outputs with redaction switched off must
leak, or the test could not fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forensics import redact
from forensics.cli import app
from forensics.snapshots import take_snapshots
from forensics.snapshots.state import Sources
from forensics.store import open_store
from forensics.watch.webhook import post_json, slack_payload

from .hookserver import hook_server
from .snapdata import EXIT3, ingest_spread

CORPUS = json.loads((Path(__file__).parent / "hostile" / "secrets.json").read_text())
SECRETS: list[dict[str, str]] = CORPUS["secrets"]
DAY = date(2025, 9, 16)
UNTIL = "2025-09-17T00:00:00Z"


@pytest.fixture(scope="module")
def secret_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("secrets")
    db = tmp / "store.duckdb"
    registry = tmp / "issues.yaml"
    registry.write_text("version: 1\nissues: []\n")
    plan: dict[Any, dict[date, int]] = {(EXIT3, "svc-a"): {DAY - timedelta(days=1): 2, DAY: 2}}
    for case in SECRETS:
        kind = (None, f"upstream failure: {case['text']}", "run.googleapis.com%2Fstderr")
        plan[(kind, "svc-leaky")] = {DAY: 2}
    with open_store(db) as store:
        ingest_spread(store, plan)
        take_snapshots(store, [DAY - timedelta(days=1), DAY], Sources.load(registry))
    return db


def _leaks(text: str) -> list[str]:
    return [case["kind"] for case in SECRETS if case["secret"] in text]


def _outputs(runner: CliRunner, db: Path, tmp: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every output the CLI produces from the store."""
    base = ["--db", str(db)]
    window = ["--hours", "48", "--until", UNTIL]
    for name, args in {
        "analyze": ["analyze", *window, "--no-collect"],
        "analyze --json": ["analyze", *window, "--no-collect", "--json"],
        "incidents": ["incidents", *window],
        "incidents --json": ["incidents", *window, "--json"],
        "issues --json": ["issues", *window, "--json"],
        "diff": ["diff", "--date", DAY.isoformat(), "--baseline", "1d"],
        "diff --json": ["diff", "--date", DAY.isoformat(), "--baseline", "1d", "--json"],
        "diff --markdown": ["diff", "--date", DAY.isoformat(), "--baseline", "1d", "--markdown"],
        "query table": ["query", "SELECT message FROM entries"],
        "query json": ["query", "-f", "json", "SELECT message, raw FROM entries"],
        "query csv": ["query", "-f", "csv", "SELECT message, raw FROM entries"],
    }.items():
        result = runner.invoke(app, [*args, *base])
        assert result.exit_code in (0, 1), (name, result.output)
        yield name, result.output
    exported = tmp / "snapshots.json"
    result = runner.invoke(app, ["snapshot", "--list", "--export-json", str(exported), *base])
    assert result.exit_code == 0, result.output
    yield "snapshot --export-json", exported.read_text(encoding="utf-8")
    out = tmp / "reports"
    result = runner.invoke(app, ["report", "--out", str(out), *window, *base])
    assert result.exit_code == 0, result.output
    for path in sorted(out.iterdir()):
        yield f"report {path.suffix}", path.read_text(encoding="utf-8")
    with hook_server([200]) as hook:
        result = runner.invoke(
            app,
            ["diff", "--date", DAY.isoformat(), "--baseline", "1d", "--webhook", hook.url, *base],
        )
    assert result.exit_code == 1 and len(hook.received) == 1, result.output
    yield "diff --webhook body", json.dumps(hook.received[0], ensure_ascii=False)


def test_no_secret_reaches_any_output(
    runner: CliRunner, secret_store: Path, tmp_path: Path
) -> None:
    leaked = {name: _leaks(text) for name, text in _outputs(runner, secret_store, tmp_path)}
    assert {name: kinds for name, kinds in leaked.items() if kinds} == {}


def test_without_redaction_the_outputs_would_leak(
    runner: CliRunner, secret_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outputs above really carry the log text: with redaction off, secrets show."""
    monkeypatch.setattr(redact.Redactor, "secrets", lambda self, value: value)
    leaked = {name: _leaks(text) for name, text in _outputs(runner, secret_store, tmp_path)}
    # (diff and its webhook read snapshots, which are stored redacted when taken.)
    for name in ("analyze", "analyze --json", "query table", "query json", "query csv"):
        assert leaked[name], f"{name} carries no log text: the check above proves nothing"


def test_webhook_body_is_redacted_whatever_the_caller_built() -> None:
    lines = [case["text"] for case in SECRETS]
    with hook_server([200]) as hook:
        delivery = post_json(hook.url, slack_payload("forensics watch", lines), attempts=1)
    assert delivery.ok
    body = json.dumps(hook.received[0], ensure_ascii=False)
    assert _leaks(body) == []
    assert "[REDACTED:" in body or "***" in body
