"""CLI tests for the foundation commands: ingest, query, analyze (typer's CliRunner)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.sql import list_queries
from forensics.store import open_store

from .conftest import FIXTURES

SAMPLE = FIXTURES / "real_staging_sample.jsonl"


def test_ingest_then_reingest_exit_codes(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    first = runner.invoke(app, ["ingest", str(SAMPLE), "--db", db])
    assert first.exit_code == 0, first.output
    assert "accepted 86 · duplicates 0 · rejected 0" in first.output
    second = runner.invoke(app, ["ingest", str(SAMPLE), "--db", db])
    assert "accepted 0 · duplicates 86" in second.output and second.exit_code == 0


def test_ingest_reports_rejects_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(SAMPLE.read_text().splitlines()[0] + "\n{oops\n")
    result = runner.invoke(
        app,
        ["ingest", str(bad), str(tmp_path / "missing.json"), "--db", str(tmp_path / "s.duckdb")],
    )
    assert result.exit_code == 1
    assert f"{bad}: line 2: not valid JSON" in result.output
    assert f"{tmp_path / 'missing.json'}: no such file" in result.output
    assert "accepted 1" in result.output and "rejected 1" in result.output


def test_db_from_environment(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "env.duckdb"
    result = runner.invoke(app, ["ingest", str(SAMPLE)], env={"FORENSICS_DB": str(db)})
    assert result.exit_code == 0 and db.exists()


@pytest.fixture
def loaded_db(runner: CliRunner, tmp_path: Path) -> str:
    db = str(tmp_path / "s.duckdb")
    assert runner.invoke(app, ["ingest", str(SAMPLE), "--db", db]).exit_code == 0
    return db


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_query_formats(runner: CliRunner, loaded_db: str, fmt: str) -> None:
    sql = "SELECT payload_kind, count(*) AS n FROM entries GROUP BY 1 ORDER BY 1"
    result = runner.invoke(app, ["query", sql, "--format", fmt, "--db", loaded_db])
    assert result.exit_code == 0, result.output
    with open_store(loaded_db, read_only=True) as store:
        expected = store.query(sql)
    if fmt == "json":
        assert json.loads(result.output) == expected.to_dicts()
    elif fmt == "csv":
        assert result.output.strip().splitlines()[0] == "payload_kind,n"
        assert len(result.output.strip().splitlines()) == expected.height + 1
    else:
        for kind in expected["payload_kind"]:
            assert kind in result.output


def test_named_query_with_params(runner: CliRunner, loaded_db: str) -> None:
    args = [
        "query",
        "window_error_messages_top",
        "-p",
        "since=2025-08-01",
        "-p",
        "until=2025-10-01",
    ]
    result = runner.invoke(app, [*args, "-p", "limit=3", "--format", "json", "--db", loaded_db])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert 0 < len(rows) <= 3 and rows[0]["n"] >= rows[-1]["n"]


def test_named_query_missing_param_is_usage_error(runner: CliRunner, loaded_db: str) -> None:
    from forensics.cli import main  # exercises the error-to-exit-code mapping

    with pytest.raises(SystemExit) as exit_info:
        import sys

        sys.argv = ["forensics", "query", "window_error_messages_top", "--db", loaded_db]
        main()
    assert exit_info.value.code == 2


def _sample(declared: str) -> object:
    """A value of the type a query's header declares for a parameter (lists and structs too:
    ``STRUCT(cause VARCHAR, issues VARCHAR[])[]``)."""
    if declared.endswith("[]"):
        return [_sample(declared[:-2])]
    if declared.startswith("STRUCT("):
        fields = (field.split(" ", 1) for field in declared[len("STRUCT(") : -1].split(", "))
        return {name: _sample(kind) for name, kind in fields}
    if declared.startswith("TIMESTAMP"):
        return "2025-01-01T00:00:00Z"
    return "x" if declared.startswith("VARCHAR") else 1


def test_every_named_query_binds_on_the_empty_schema() -> None:
    with open_store(":memory:") as store:
        for q in list_queries():
            header = next(line for line in q.sql.splitlines() if line.startswith("-- params:"))
            declared = dict(re.findall(r"\$(\w+)\s+([A-Z]+(?:\([^)]*\))?(?:\[\])?)", header))
            params = {p: _sample(declared.get(p, "INTEGER")) for p in q.params}
            store.conn.execute(f"EXPLAIN {q.sql}", params or None)


def test_analyze_window_and_empty_window(runner: CliRunner, loaded_db: str) -> None:
    result = runner.invoke(
        app, ["analyze", "--hours", "48", "--until", "2025-09-17T00:00:00Z", "--db", loaded_db]
    )
    assert result.exit_code == 0, result.output
    assert "netra-backend-staging" in result.output and "Most frequent errors" in result.output
    empty = runner.invoke(
        app, ["analyze", "--hours", "1", "--until", "2020-01-01", "--db", loaded_db]
    )
    assert empty.exit_code == 0
    assert "No entries in this window" in empty.output
    assert "2025-08-19" in empty.output  # says what range the store does hold


def test_analyze_json_has_window_and_volume(runner: CliRunner, loaded_db: str) -> None:
    result = runner.invoke(
        app,
        [
            "analyze",
            "--hours",
            "72",
            "--until",
            "2025-09-17T00:00:00Z",
            "--json",
            "--db",
            loaded_db,
        ],
    )
    data = json.loads(result.output)
    assert data["window"] == {
        "since": "2025-09-14T00:00:00Z",
        "until": "2025-09-17T00:00:00Z",
        "hours": 72.0,
    }
    assert data["entries_in_window"] == sum(row["n"] for row in data["volume"])
