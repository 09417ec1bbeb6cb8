"""One signature -> issue mapping: the registry says it, every view derives it, lint checks it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from forensics.cli import app
from forensics.incidents.registry import load_registry
from forensics.paths import patterns_dir
from forensics.signatures import load_catalog

CATALOG = load_catalog()
REGISTRY = load_registry()


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "patterns"
    shutil.copytree(patterns_dir(), copy)
    return copy


def test_signature_files_hold_no_issue_ids() -> None:
    """`references:` holds URLs of public material only; issue links live in issues.yaml."""
    for sig in CATALOG.signatures:
        assert all(r.startswith(("https://", "http://")) for r in sig.references), sig.id


def test_patterns_list_and_show_derive_issues_from_the_registry() -> None:
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["patterns", "list", "--json"]).output)
    for row in listed["signatures"]:
        want = REGISTRY.links(row["id"])
        assert row["issues"] == list(want.evidence_of), row["id"]
        assert row["symptom_of"] == list(want.symptom_of), row["id"]
        shown = json.loads(runner.invoke(app, ["patterns", "show", row["id"], "--json"]).output)
        # one shape in both commands: lists, never a joined string
        assert shown["issues"] == row["issues"] and shown["symptom_of"] == row["symptom_of"]


def test_registry_links_follow_an_edit_of_the_registry(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    path = copy / "issues.yaml"
    data = yaml.safe_load(path.read_text())
    for issue in data["issues"]:
        if issue["id"] == "#395":
            issue["signatures"].append("cloudsql/too-many-clients")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = CliRunner().invoke(
        app, ["patterns", "show", "cloudsql/too-many-clients", "--json", "--patterns", str(copy)]
    )
    assert out.exit_code == 0, out.output
    assert "#395" in json.loads(out.output)["issues"]


def test_lint_fails_on_a_registry_id_without_a_signature(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    path = copy / "issues.yaml"
    data = yaml.safe_load(path.read_text())
    data["issues"][0]["symptoms"].append("startup/no-such-signature")
    data["issues"][0]["signals"].append("capacity/never-emitted")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    lint = CliRunner().invoke(app, ["patterns", "lint", "--patterns", str(copy)])
    assert lint.exit_code == 1
    issue = data["issues"][0]["id"]
    assert f"issues[{issue}].symptoms: no signature 'startup/no-such-signature'" in lint.output
    assert "no collector emits 'capacity/never-emitted'" in lint.output


def test_lint_fails_on_an_issue_id_in_references(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    target = copy / "auth" / "timeout.yml"
    text = target.read_text()
    target.write_text(text.replace("level: ", 'references:\n  - "#395"\nlevel: ', 1))
    lint = CliRunner().invoke(app, ["patterns", "lint", "--patterns", str(copy)])
    assert lint.exit_code == 1
    assert "timeout.yml: references: '#395': references hold URLs" in lint.output


def test_the_shipped_catalog_and_registry_lint_clean() -> None:
    lint = CliRunner().invoke(app, ["patterns", "lint"])
    assert lint.exit_code == 0, lint.output
