"""CLI tests for `forensics classify`, `forensics patterns ...` and analyze's signature sections."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

from forensics.cli import app, main
from forensics.incidents.registry import load_registry
from forensics.paths import patterns_dir

from .conftest import FIXTURES

SAMPLE = FIXTURES / "real_staging_sample.jsonl"


def run_main(*args: str) -> int:
    """Run the real entry point (error → exit-code mapping included); return the exit code."""
    sys.argv = ["forensics", *args]
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_classify_jsonl_contract(runner: CliRunner, tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join([lines[2], "{broken", lines[2], lines[5]]) + "\n")
    result = runner.invoke(app, ["classify", str(export)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    first = json.loads(lines[2])
    assert rows[0] == {
        "index": 0,
        "insert_id": first["insertId"],
        "timestamp": "2025-08-19T23:42:00.443000Z",
        "signature": "startup/exit-code-3",
        "issues": [],  # a symptom: attributed per incident, not by the signature alone
        "symptom_of": ["#1278", "#1263"],
        "template": None,  # claimed by a signature
    }
    assert rows[2] == rows[0] | {"index": 2}  # a repeated entry gets its own line
    assert rows[1]["signature"] is None and f"{export}: line 2: not valid JSON" in rows[1]["error"]
    assert set(rows[3]) == {
        "index",
        "insert_id",
        "timestamp",
        "signature",
        "issues",
        "symptom_of",
        "template",
    }


def test_classify_table_and_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    table = runner.invoke(app, ["classify", str(SAMPLE), "--format", "table"])
    assert table.exit_code == 0, table.output
    assert "startup/exit-code-3" in table.output and "86 entries" in table.output
    assert run_main("classify", str(tmp_path / "missing.json")) == 2
    assert run_main("classify", str(SAMPLE), "--format", "xml") == 2


def test_classify_damaged_file_keeps_entries_and_exits_2(tmp_path: Path, capsys) -> None:
    damaged = tmp_path / "cut.json"
    first = SAMPLE.read_text().splitlines()[2]
    damaged.write_text("[\n" + first + ",\n" + first[: len(first) // 2])
    assert run_main("classify", str(damaged)) == 2
    out = capsys.readouterr()
    assert json.loads(out.out.splitlines()[0])["signature"] == "startup/exit-code-3"
    assert f"{damaged}: line 3: element 1: malformed JSON" in out.err


def test_patterns_list_show_lint_test(runner: CliRunner) -> None:
    listed = runner.invoke(app, ["patterns", "list", "--json"])
    assert listed.exit_code == 0
    ids = [s["id"] for s in json.loads(listed.output)["signatures"]]
    assert ids[0] == "cloudrun/memory-limit-exceeded" and "startup/exit-code-3" in ids
    shown = runner.invoke(app, ["patterns", "show", "startup/exit-code-3", "--json"])
    info = json.loads(shown.output)
    assert info["issues"] == [] and info["symptom_of"] == ["#1278", "#1263"]
    assert "textPayload=~" in info["logging_filter"] and "textPayload=~" in info["pushdown_filter"]
    lint = runner.invoke(app, ["patterns", "lint"])
    assert lint.exit_code == 0 and "no problems" in lint.output
    test = runner.invoke(app, ["patterns", "test"])
    assert test.exit_code == 0 and "0 missing example kind(s)" in test.output


def test_patterns_lint_and_test_fail_on_a_bad_copy(runner: CliRunner, tmp_path: Path) -> None:
    copy = tmp_path / "patterns"
    shutil.copytree(patterns_dir(), copy)
    target = copy / "cloudrun" / "memory-limit-exceeded.yml"
    text = target.read_text()
    # a no_match example that now matches, and keys out of order
    target.write_text(
        text.replace(
            "memory usage 91% of limit (466 MiB of 512 MiB)",
            "Memory limit of 512 MiB exceeded with 530 MiB used.",
        )
        .replace("status: stable\n", "")
        .replace("level: critical\n", "level: critical\nstatus: stable\n")
    )
    lint = runner.invoke(app, ["patterns", "lint", "--patterns", str(copy)])
    assert (
        lint.exit_code == 1
        and "memory-limit-exceeded.yml: (keys): keys must be in order" in lint.output
    )
    test = runner.invoke(app, ["patterns", "test", "--patterns", str(copy)])
    assert test.exit_code == 1
    assert "FAIL  cloudrun/memory-limit-exceeded no_match[1]" in test.output
    assert run_main("patterns", "show", "nope/missing") == 2


def test_patterns_new_from_template_round_trip(tmp_path: Path) -> None:
    from forensics.ingest import ingest_files
    from forensics.signatures import classify_store, load_catalog
    from forensics.signatures.mining import mine_templates
    from forensics.store import open_store

    db = tmp_path / "s.duckdb"
    copy = tmp_path / "patterns"
    shutil.copytree(patterns_dir(), copy)
    with open_store(db) as store:
        ingest_files(store, [SAMPLE])
        classify_store(store, load_catalog(copy))
        top = mine_templates(store)[0]
    code = run_main(
        "patterns",
        "new",
        "--from-template",
        top.id,
        "--id",
        "app/mined-one",
        "--db",
        str(db),
        "--patterns",
        str(copy),
    )
    assert code == 0
    catalog = load_catalog(copy)
    assert catalog.signatures[-1].id == "app/mined-one"
    with open_store(db) as store:
        classify_store(store, catalog)
        assert top.id not in {t.id for t in mine_templates(store)}
        assert (
            store.scalar("SELECT count(*) FROM signature_matches WHERE signature = 'app/mined-one'")
            == top.count
        )
    assert run_main("patterns", "test", "--patterns", str(copy)) == 0
    again = ["patterns", "new", "--from-template", top.id, "--id", "app/mined-one"]
    assert run_main(*again, "--db", str(db), "--patterns", str(copy)) == 2


def test_analyze_shows_signatures_with_issues_and_templates(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = str(tmp_path / "s.duckdb")
    assert runner.invoke(app, ["ingest", str(SAMPLE), "--db", db]).exit_code == 0
    args = ["analyze", "--hours", "720", "--until", "2025-09-17T00:00:00Z", "--db", db]
    data = json.loads(runner.invoke(app, [*args, "--json"]).output)
    by_sig = {}
    for row in data["signatures"]:
        by_sig[row["signature"]] = by_sig.get(row["signature"], 0) + row["n"]
        assert row["hour"].endswith(":00:00Z")
        # issues come from the attribution of the row's lines, within the registry's links
        links = load_registry().links(row["signature"])
        assert set(links.evidence_of) <= set(row["issues"])
        assert set(row["issues"]) <= set(links.evidence_of + links.symptom_of)
    assert by_sig["startup/exit-code-3"] > 0 and by_sig["cloudrun/http-503"] > 0
    templates = data["unknown_templates"]
    assert templates and templates[0]["id"].startswith("t-") and templates[0]["count"] > 0
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0
    assert "Failure signatures" in shown.output and "#1278" in shown.output
    assert templates[0]["id"] in shown.output


def test_exit_codes_survive_the_real_entry_point(tmp_path: Path) -> None:
    """typer.Exit(1) from a command must reach the shell through main() (not only CliRunner)."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    assert run_main("ingest", str(bad), "--db", str(tmp_path / "s.duckdb")) == 1


def test_patterns_show_gives_the_coarse_pushdown_where_it_differs(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["patterns", "show", "auth/timeout"])
    info = json.loads(runner.invoke(app, ["patterns", "show", "auth/timeout", "--json"]).output)
    assert len(info["pushdown_filter_coarse"]) < len(info["pushdown_filter"])
    assert "Collector pushdown, coarse" in shown.output
    plain = runner.invoke(app, ["patterns", "show", "startup/exit-code-3"])
    assert "Collector pushdown, coarse" not in plain.output
