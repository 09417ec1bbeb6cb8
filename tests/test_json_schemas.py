"""Every --json output (and report.json) validates against its JSON Schema in schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from typer.testing import CliRunner

from forensics.cli import app

from .conftest import FIXTURES

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
SAMPLE = FIXTURES / "real_staging_sample.jsonl"
WINDOW = ["--hours", "720", "--until", "2025-09-17T00:00:00Z"]


def _load() -> dict[str, dict[str, Any]]:
    return {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text())
        for p in SCHEMAS.glob("*.json")
    }


ALL = _load()
REGISTRY: Registry = Registry().with_resources(
    (doc["$id"], Resource.from_contents(doc)) for doc in ALL.values()
)


def _validate(name: str, document: Any) -> None:
    schema = ALL[name]
    Draft202012Validator.check_schema(schema)
    errors = sorted(
        Draft202012Validator(schema, registry=REGISTRY).iter_errors(document),
        key=lambda e: list(e.path),
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schemas") / "store.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(SAMPLE), "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.parametrize("command", ["analyze", "issues", "incidents"])
def test_window_commands_validate(db: Path, command: str) -> None:
    result = CliRunner().invoke(app, [command, *WINDOW, "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document[command if command != "analyze" else "issues"]  # something to check
    _validate("analysis" if command == "analyze" else command, document)


def test_report_json_validates(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["report", *WINDOW, "--db", str(db), "--out", str(out), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    _validate("report", json.loads((out / "report.json").read_text()))


def test_patterns_and_classify_validate() -> None:
    runner = CliRunner()
    _validate(
        "patterns-list", json.loads(runner.invoke(app, ["patterns", "list", "--json"]).stdout)
    )
    shown = runner.invoke(app, ["patterns", "show", "startup/exit-code-3", "--json"])
    _validate("patterns-show", json.loads(shown.stdout))
    lines = runner.invoke(app, ["classify", str(SAMPLE)]).stdout.splitlines()
    assert lines
    for line in lines:
        _validate("classify-line", json.loads(line))


def test_a_schema_can_fail() -> None:
    """The schemas reject a wrong shape (issues as a string, an unknown status)."""
    bad = {"window": {"since": "x", "until": "y", "hours": 1}, "issues": [{"id": "#1"}]}
    with pytest.raises(AssertionError):
        _validate("issues", bad)


def test_snapshot_and_diff_validate(db: Path) -> None:
    runner = CliRunner()
    taken = runner.invoke(
        app, ["snapshot", "--date", "2025-09-16", "--days", "2", "--db", str(db), "--json"]
    )
    assert taken.exit_code == 0, taken.output
    _validate("snapshot", json.loads(taken.stdout))
    diff = runner.invoke(
        app, ["diff", "--date", "2025-09-16", "--baseline", "1d", "--db", str(db), "--json"]
    )
    assert diff.exit_code in (0, 1), diff.output
    document = json.loads(diff.stdout)
    assert document["issue_changes"]  # the real day changes issue statuses
    _validate("diff", document)
