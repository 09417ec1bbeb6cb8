"""`forensics diff`: every category, every baseline kind, every exit code, every output format."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.snapshots import SpikeRule, compare, take_snapshots
from forensics.snapshots.model import Item, State
from forensics.snapshots.render import finding_lines, markdown
from forensics.snapshots.state import Sources
from forensics.store import open_store

from .hookserver import hook_server
from .snapdata import EXIT3, MEMORY, ingest_spread

DAY = date(2025, 9, 16)
SIG = "startup/exit-code-3"
MEM = "cloudrun/memory-limit-exceeded"


def days_before(n: int) -> date:
    return DAY - timedelta(days=n)


def build(
    tmp_path: Path, plan: dict[Any, dict[date, int]], snap: list[date], issues: str = ""
) -> str:
    """A store holding ``plan`` with snapshots of ``snap`` taken; returns its path.

    ``issues`` is a user registry (YAML) layered over patterns/issues.yaml for the snapshots.
    """
    db = tmp_path / "diff.duckdb"
    registry = tmp_path / "issues.yaml"
    registry.write_text(issues or "version: 1\nissues: []\n")
    with open_store(db) as store:
        ingest_spread(store, plan)
        take_snapshots(store, snap, Sources.load(registry))
    return str(db)


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One store for the read-only error cases: snapshots of DAY and the day before."""
    plan = {(EXIT3, "svc-a"): {days_before(1): 1, DAY: 1}}
    return build(tmp_path_factory.mktemp("two"), plan, [days_before(1), DAY])


def run_diff(runner: CliRunner, db: str, *args: str) -> tuple[int, dict[str, Any], str]:
    """(exit code, --json document, stderr+stdout) of `forensics diff`."""
    result = runner.invoke(app, ["diff", "--db", db, "--json", *args])
    doc = json.loads(result.stdout) if result.exit_code in (0, 1) else {}
    return result.exit_code, doc, result.output


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["key"], r["service"]) for r in rows]


def test_unchanged_day_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    plan = {(EXIT3, "svc-a"): {days_before(1): 6, DAY: 7}}
    db = build(tmp_path, plan, [days_before(1), DAY])
    code, doc, _ = run_diff(runner, db)
    assert code == 0 and doc["needs_attention"] is False
    assert doc["current"] == "2025-09-16" and doc["baseline"]["days"] == ["2025-09-15"]
    assert not doc["new_signatures"] and not doc["spikes"] and not doc["gone_signatures"]


def test_new_signature_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    plan = {(EXIT3, "svc-a"): {days_before(1): 6, DAY: 6}, (MEMORY, "svc-b"): {DAY: 3}}
    db = build(tmp_path, plan, [days_before(1), DAY])
    code, doc, _ = run_diff(runner, db, "--date", "2025-09-16")
    assert code == 1 and doc["needs_attention"] is True
    assert keys(doc["new_signatures"]) == [(MEM, "svc-b")]
    assert doc["new_signatures"][0]["count"] == 3


def test_new_on_another_service_is_new(runner: CliRunner, tmp_path: Path) -> None:
    plan = {(EXIT3, "svc-a"): {days_before(1): 6, DAY: 6}, (EXIT3, "svc-b"): {DAY: 1}}
    db = build(tmp_path, plan, [days_before(1), DAY])
    assert keys(run_diff(runner, db)[1]["new_signatures"]) == [(SIG, "svc-b")]


def test_gone_signature_is_reported_but_needs_no_attention(
    runner: CliRunner, tmp_path: Path
) -> None:
    plan = {(EXIT3, "svc-a"): {days_before(1): 6, DAY: 6}, (MEMORY, "svc-b"): {days_before(1): 4}}
    db = build(tmp_path, plan, [days_before(1), DAY])
    code, doc, _ = run_diff(runner, db)
    assert code == 0
    assert [(g["key"], g["service"], g["baseline"]) for g in doc["gone_signatures"]] == [
        (MEM, "svc-b", 4.0)
    ]


@pytest.mark.parametrize(
    ("before", "now", "spike"),
    [(8, 30, True), (3, 10, False), (1, 9, False), (10, 25, False), (3, 12, True)],
)
def test_spike_rule_on_stored_days(
    runner: CliRunner, tmp_path: Path, before: int, now: int, spike: bool
) -> None:
    db = build(tmp_path, {(EXIT3, "svc-a"): {days_before(1): before, DAY: now}},
               [days_before(1), DAY])  # fmt: skip
    code, doc, _ = run_diff(runner, db)
    assert (keys(doc["spikes"]) == [(SIG, "svc-a")]) is spike
    assert code == (1 if spike else 0)
    if spike:
        row = doc["spikes"][0]
        assert row["count"] == now and row["baseline"] == before and row["p_value"] < 0.001


def test_spike_thresholds_come_from_flags(runner: CliRunner, tmp_path: Path) -> None:
    db = build(tmp_path, {(EXIT3, "svc-a"): {days_before(1): 3, DAY: 10}},
               [days_before(1), DAY])  # fmt: skip
    assert run_diff(runner, db)[0] == 0
    code, doc, _ = run_diff(runner, db, "--spike-p", "0.01")
    assert code == 1 and doc["spike_rule"]["p_value"] == 0.01
    assert run_diff(runner, db, "--spike-ratio", "0.5")[0] == 2  # bad threshold: usage error


def test_seven_day_baseline_is_a_mean_per_day(runner: CliRunner, tmp_path: Path) -> None:
    week = {days_before(k): 2 for k in range(2, 8)} | {days_before(1): 10}
    plan = {(EXIT3, "svc-a"): week | {DAY: 12}}
    db = build(tmp_path, plan, [*week, DAY])
    code_1d, doc_1d, _ = run_diff(runner, db, "--baseline", "1d")
    assert code_1d == 0 and not doc_1d["spikes"]  # 12 against yesterday's 10
    code_7d, doc_7d, _ = run_diff(runner, db, "--baseline", "7d")
    assert code_7d == 1
    assert doc_7d["spikes"][0]["baseline"] == pytest.approx((6 * 2 + 10) / 7)
    assert len(doc_7d["baseline"]["days"]) == 7
    assert not any(note.startswith("baseline 7d") for note in doc_7d["notes"])


def test_partial_week_says_which_days_are_missing(runner: CliRunner, tmp_path: Path) -> None:
    plan = {(EXIT3, "svc-a"): {days_before(1): 4, days_before(3): 2, DAY: 4}}
    db = build(tmp_path, plan, [days_before(1), days_before(3), DAY])
    code, doc, _ = run_diff(runner, db, "--baseline", "7d")
    assert code == 0
    assert doc["notes"][0].startswith("baseline 7d: 2 of 7 days have a snapshot (missing: ")
    assert "2025-09-09..2025-09-12, 2025-09-14" in doc["notes"][0]
    assert doc["baseline"]["days"] == ["2025-09-13", "2025-09-15"]


def test_date_baseline(runner: CliRunner, tmp_path: Path) -> None:
    old = date(2025, 9, 1)
    plan = {(EXIT3, "svc-a"): {old: 1, days_before(1): 9, DAY: 9}}
    db = build(tmp_path, plan, [old, days_before(1), DAY])
    code, doc, _ = run_diff(runner, db, "--baseline", "2025-09-01")
    assert doc["baseline"] == {"spec": "2025-09-01", "days": ["2025-09-01"]}
    assert code == 0  # 9 against 1: below min_count, so not a spike
    code, doc, _ = run_diff(runner, db, "--baseline", "2025-09-01", "--spike-min-count", "5")
    assert code == 1 and keys(doc["spikes"]) == [(SIG, "svc-a")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--date", "2025-09-17"],
            "no snapshot for 2025-09-17; snapshots exist for: 2025-09-15..2025-09-16",
        ),
        (["--baseline", "2025-09-10"], "no snapshot in the baseline 2025-09-10 for 2025-09-10"),
        (["--date", "2025-09-15"], "no snapshot in the baseline 7d for 2025-09-08..2025-09-14"),
        (["--date", "2025-09-15", "--baseline", "1d"], "baseline 1d for 2025-09-14"),
        (["--baseline", "2025-09-16"], "must be another day"),
        (["--baseline", "week"], "is not a day"),
        (["--markdown"], "choose one"),
    ],
)  # fmt: skip
def test_usage_and_data_errors_exit_2(
    runner: CliRunner, two_days: str, args: list[str], message: str
) -> None:
    code, _, output = run_diff(runner, two_days, *args)
    assert code == 2 and message in " ".join(output.split()), output


def test_no_store_and_no_snapshots_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    assert run_diff(runner, str(tmp_path / "absent.duckdb"))[0] == 2
    db = build(tmp_path, {(EXIT3, "svc-a"): {DAY: 1}}, [])
    code, _, output = run_diff(runner, db)
    assert code == 2 and "no snapshots yet" in output


def test_markdown_and_table_outputs(runner: CliRunner, tmp_path: Path) -> None:
    plan = {(EXIT3, "svc-a"): {days_before(1): 8, DAY: 30}, (MEMORY, "svc-b"): {DAY: 2}}
    db = build(tmp_path, plan, [days_before(1), DAY])
    md = runner.invoke(app, ["diff", "--db", db, "--markdown"])
    assert md.exit_code == 1
    assert md.stdout.startswith("## forensics diff: 2025-09-16 vs 7d (2025-09-15)")
    assert "**needs attention: 1 new signature(s), 1 spike(s)**" in md.stdout
    assert f"| {MEM} | svc-b | 2 |" in md.stdout and "### Spikes" in md.stdout
    table = runner.invoke(app, ["diff", "--db", db])
    assert table.exit_code == 1
    assert "New signatures" in table.stdout and "Spikes" in table.stdout and MEM in table.stdout


# The diff engine on States built directly: issue statuses and templates come from other stages,
# so these tests pin how the diff treats them whatever computes them.


KINDS_ALL = ("signature", "template", "issue")


def state(label: str, items: list[Item], recorded: tuple[str, ...] = KINDS_ALL) -> State:
    return State(label, 100, items, frozenset(recorded))


def issue(key: str, status: str, contradiction: Any = None, claimed: str = "OPEN") -> Item:
    details = {"claimed_status": claimed, "contradiction": contradiction}
    return Item("issue", key, None, 0, status, details)


def test_issue_changes_regressed_and_contradicted_first() -> None:
    before = state("d1", [issue("#1", "ACTIVE"), issue("#2", "RESOLVED"), issue("#3", "QUIET"),
                          issue("#4", "ACTIVE"), issue("#5", "RESOLVED"),
                          issue("#6", "ACTIVE", contradiction=True)])  # fmt: skip
    after = state(
        "d2",
        [
            issue("#1", "RESOLVED"),  # good news: a change, no attention
            issue("#2", "REGRESSED", claimed="RESOLVED"),
            issue("#3", "ACTIVE"),  # evidence came back
            issue("#4", "ACTIVE", contradiction="claimed resolved, 12 matches", claimed="RESOLVED"),
            issue("#5", "RESOLVED"),  # unchanged: not listed
            issue("#6", "ACTIVE", contradiction=True),  # contradicted before too: no change
        ],
    )
    result = compare(after, [before], SpikeRule())
    got = [(c.id, c.status, c.previous, c.attention) for c in result.issue_changes]
    assert got == [
        ("#2", "REGRESSED", "RESOLVED", True),
        ("#4", "ACTIVE", "ACTIVE", True),
        ("#3", "ACTIVE", "QUIET", True),
        ("#1", "RESOLVED", "ACTIVE", False),
    ]
    assert result.needs_attention
    calm = compare(state("d2", [issue("#1", "RESOLVED")]), [before], SpikeRule())
    assert [c.id for c in calm.issue_changes] == ["#1"] and not calm.needs_attention


def test_first_run_reports_only_issues_needing_attention() -> None:
    now = state("w", [issue("#1", "RESOLVED"), issue("#2", "REGRESSED"), issue("#3", "QUIET")])
    result = compare(now, [], SpikeRule(), first_run=True)
    assert [c.id for c in result.issue_changes] == ["#2"] and result.needs_attention


def template(key: str, count: int, text: str = "", service: str = "svc-a") -> Item:
    return Item("template", key, service, count, None, {"template": text or key})


def test_new_templates_and_unrecorded_kinds() -> None:
    before = state("d1", [template("t1", 5)])
    after = state("d2", [template("t1", 50), template("t2", 3, "KeyError: <*> in tenant map")])
    result = compare(after, [before], SpikeRule())
    assert [(n.key, n.count) for n in result.new_templates] == [("t2", 3)]
    assert result.needs_attention
    assert "new unknown error on svc-a (3 entries): KeyError: <*> in tenant map" in (
        finding_lines(result)
    )
    # a baseline taken before templates were recorded must not make every template new
    old = state("d1", [], recorded=("signature",))
    skipped = compare(after, [old], SpikeRule())
    assert not skipped.new_templates and not skipped.needs_attention
    assert "unknown-error templates were not recorded for the baseline; not compared" in (
        skipped.notes
    )


def test_markdown_escapes_log_text() -> None:
    nasty = "a | b <img src=x> `rm -rf` [x](http://evil) **bold**\nnext line"
    after = state("d2", [template("t9", 4, nasty)])
    text = markdown(compare(after, [state("d1", [])], SpikeRule()))
    row = next(line for line in text.splitlines() if "rm -rf" in line)
    assert row.count(" | ") == 4  # five cells: the pipe in the text did not add one
    assert "&lt;img src=x&gt;" in row and "\\[x\\](http" in row and "\\`rm" in row
    assert "<" not in row and "next line" in row


def test_webhook_gets_the_findings_only_when_they_need_attention(
    runner: CliRunner, tmp_path: Path
) -> None:
    plan = {(EXIT3, "svc-a"): {days_before(1): 8, DAY: 30}, (MEMORY, "svc-b"): {days_before(1): 1}}
    db = build(tmp_path, plan, [days_before(1), DAY])
    with hook_server([503, 200]) as hook:
        loud = runner.invoke(
            app, ["diff", "--db", db, "--webhook", hook.url, "--webhook-backoff", "0.01"]
        )
        quiet = runner.invoke(
            app, ["diff", "--db", db, "--spike-min-count", "100", "--webhook", hook.url],
        )  # fmt: skip
    assert loud.exit_code == 1 and "(attempt 2)" in loud.output
    assert "secret-token" not in loud.output
    assert quiet.exit_code == 0  # the memory limit is gone, which needs nobody: nothing posted
    assert len(hook.received) == 2 and hook.received[0] == hook.received[1]
    text = hook.received[1]["text"]
    assert text.startswith("forensics diff 2025-09-16: needs attention: 1 spike(s)")
    assert f"spike {SIG} on svc-a: 30 against 8" in text
    assert f"gone {MEM} on svc-b" in text


def unknown(text: str) -> tuple[None, str, str]:
    return (None, text, "run.googleapis.com%2Fstderr")


def test_new_unknown_template_from_stored_days(runner: CliRunner, tmp_path: Path) -> None:
    """Errors no signature explains, mined into templates per day by the real miner."""
    shard = "ValueError: unexpected tenant shard {} in region europe"
    plan = {
        (EXIT3, "svc-a"): {days_before(1): 3, DAY: 3},
        (unknown(shard.format(17)), "svc-a"): {days_before(1): 2},
        (unknown(shard.format(42)), "svc-a"): {DAY: 4},  # the same shape: numbers are masked
        (unknown("KeyError: 'tenant_map' while routing websocket"), "svc-b"): {DAY: 5},
    }
    db = build(tmp_path, plan, [days_before(1), DAY])
    code, doc, _ = run_diff(runner, db)
    assert code == 1
    assert [(n["count"], n["details"]["services"]) for n in doc["new_templates"]] == [
        (5, ["svc-b"])
    ]
    assert "tenant_map" in doc["new_templates"][0]["details"]["template"]
    assert doc["new_templates"][0]["details"]["example_insert_id"].startswith("snap-")
    assert not any("templates were not recorded" in n for n in doc["notes"])


def test_a_template_merged_differently_is_not_new() -> None:
    """Yesterday one variant, today two merged under <*>: the id changes, the members overlap."""
    alone = "user alice not found in tenant map"
    before = state("d1", [Item("template", "t-a", None, 3, None, {"members": [alone]})])
    merged = {"template": "user <*> not found in tenant map",
              "members": [alone, "user bob not found in tenant map"]}  # fmt: skip
    after = state("d2", [Item("template", "t-b", None, 5, None, merged)])
    assert not compare(after, [before], SpikeRule()).new_templates
    fresh = {"template": "pool exhausted", "members": ["pool exhausted"]}
    later = state("d2", [Item("template", "t-c", None, 5, None, fresh)])
    assert [n.key for n in compare(later, [before], SpikeRule()).new_templates] == ["t-c"]


def test_long_sections_are_capped_in_text_but_complete_in_json() -> None:
    many = [template(f"t{i:02d}", 100 - i, f"error shape {i:02d}") for i in range(25)]
    result = compare(state("d2", many), [state("d1", [])], SpikeRule())
    assert len(result.new_templates) == 25 and len(result.as_dict()["new_templates"]) == 25
    text = markdown(result)
    assert "error shape 19" in text and "error shape 20" not in text
    assert "5 more not shown (all of them are in --json)" in text
    lines = finding_lines(result)
    assert sum(line.startswith("new unknown error") for line in lines) == 10
    assert "... and 15 more new unknown errors" in lines


def test_a_changed_catalog_is_named_in_the_notes(runner: CliRunner, tmp_path: Path) -> None:
    db = build(tmp_path, {(EXIT3, "svc-a"): {days_before(1): 2, DAY: 2}}, [days_before(1), DAY])
    assert not any("catalog changed" in n for n in run_diff(runner, db)[1]["notes"])
    with open_store(db) as store:  # as if the baseline was taken before a pattern was added
        store.conn.execute(
            "UPDATE snapshots SET details = json_merge_patch(details, "
            """'{"catalog_version": "older"}') WHERE day = ? AND kind = 'day'""",
            [days_before(1)],
        )
    notes = run_diff(runner, db)[1]["notes"]
    assert any(n.startswith("the signature catalog changed since 2025-09-15") for n in notes)


def test_regressed_issue_comes_first_from_stored_snapshots(
    runner: CliRunner, tmp_path: Path
) -> None:
    """#131 claimed fixed at 06:00 on DAY; its memory-limit evidence goes on after the fix."""
    claim = (
        'version: 1\nissues:\n  - id: "#131"\n    claimed_status: resolved\n'
        "    claimed_resolved_at: 2025-09-16T06:00:00Z\n"
    )
    plan = {(MEMORY, "svc-a"): {days_before(1): 4, DAY: 8}}
    db = build(tmp_path, plan, [days_before(1), DAY], issues=claim)
    code, doc, _ = run_diff(runner, db, "--baseline", "1d")
    assert code == 1
    first = doc["issue_changes"][0]
    assert (first["id"], first["status"], first["previous"]) == ("#131", "REGRESSED", "ACTIVE")
    assert first["contradiction"] is True and first["attention"] is True
    assert first["claimed_status"] == "resolved" and "fix" in first["basis"].lower()
    md = runner.invoke(app, ["diff", "--db", db, "--baseline", "1d", "--markdown"]).stdout
    assert "**needs attention: 1 regressed issue(s), 1 contradicted claim(s)**" in md
    assert "| #131 | REGRESSED | ACTIVE | resolved | yes |" in md


def test_data_gaps_of_the_day_are_named(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "gaps.duckdb"
    with open_store(db) as store:
        ingest_spread(store, {(EXIT3, "svc-a"): {days_before(1): 2, DAY: 2}})
        store.conn.execute(
            "INSERT INTO data_gaps VALUES ('logging:netra-staging:run', "
            "'2025-09-16 03:00:00+00', '2025-09-16 04:30:00+00', '429 after 8 attempts', now())"
        )
        take_snapshots(store, [days_before(1), DAY])
    notes = run_diff(runner, str(db))[1]["notes"]
    assert (
        "incomplete data for logging:netra-staging:run between 2025-09-16T03:00:00Z and "
        "2025-09-16T04:30:00Z (429 after 8 attempts)"
    ) in notes


def test_a_cut_finding_says_it_was_cut() -> None:
    """A watch line or webhook message cut at its length ends in "…", not mid-sentence."""
    long_text = "pool exhausted while " + " ".join(f"word{i}" for i in range(80))
    result = compare(
        state("d2", [template("t-long", 5, long_text)]), [state("d1", [])], SpikeRule()
    )
    (line,) = [line for line in finding_lines(result) if line.startswith("new unknown error")]
    assert line.endswith("…")
    assert long_text not in line
