"""Golden Markdown and JSON reports of a fixed demo scenario (fixed end, seed and size).

The expected files in tests/golden/ change only on purpose: regenerate them with
`FORENSICS_REGEN_GOLDEN=1 python -m pytest tests/test_report_golden.py` and review the diff.
The catalog's version hash is masked, so editing a pattern's wording alone does not churn them.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import pytest

from forensics.report import render, render_markdown
from forensics.store import open_store
from tests.reportdata import GOLDEN_ENTRIES, build_store, report_context

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("FORENSICS_REGEN_GOLDEN") == "1"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = build_store(tmp_path_factory.mktemp("golden") / "store.duckdb", entries=GOLDEN_ENTRIES)
    with open_store(path) as store:
        return report_context(store)


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run FORENSICS_REGEN_GOLDEN=1 pytest {__file__}"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), text.splitlines(True), str(path), "rendered", n=1
            )
        )
        pytest.fail(f"{name} differs from its golden file:\n{diff[:6000]}")


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_report_matches_golden(context: dict[str, Any], fmt: str) -> None:
    text = render(context, fmt).replace(context["catalog"]["version"], "<catalog-version>")
    _check(f"report.{fmt}", text)


def test_issue_comment_matches_golden(context: dict[str, Any]) -> None:
    text = render_markdown(context, issue="#1278")
    _check("issue-1278.md", text.replace(context["catalog"]["version"], "<catalog-version>"))


def test_report_is_deterministic(context: dict[str, Any], tmp_path: Path) -> None:
    path = build_store(tmp_path / "again.duckdb", entries=GOLDEN_ENTRIES)
    with open_store(path) as store:
        again = report_context(store)
    assert again == context
