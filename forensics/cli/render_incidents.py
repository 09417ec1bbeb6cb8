"""Print issue statuses, incidents, deploys and checks for a person at a terminal.

Log text is untrusted: every cell is a rich Text (never parsed as markup), so a message such as
``[bold]`` or ``[/]`` prints as itself.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from forensics.console import console

__all__ = [
    "render_checks",
    "render_deploys",
    "render_headline",
    "render_incident_detail",
    "render_incidents",
    "render_issue_detail",
    "render_issues",
    "render_summary",
]

STATUS_STYLE = {
    "REGRESSED": "bold red",
    "ACTIVE": "red",
    "QUIET": "yellow",
    "RESOLVED": "green",
    "NO_DATA": "dim",
    "fail": "red",
    "pass": "green",
    "no_data": "dim",
}


def _t(value: Any, style: str = "") -> Text:
    return Text("" if value is None else str(value), style=style)


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def _when(text: str | None) -> str:
    return (text or "")[:19].replace("T", " ")


def render_headline(issues: list[dict[str, Any]]) -> None:
    """Contradicted claims first: a claimed-resolved issue with fresh evidence is the news."""
    contradicted = [i for i in issues if i["contradiction"]]
    if not contradicted:
        console.print(_t("No claim is contradicted by the logs in this window.", "green"))
        return
    for issue in contradicted:
        line = Text()
        line.append(f"{issue['id']} is claimed {issue['claimed_status']}, ", style="bold")
        line.append(f"the logs say {issue['status']}", style=STATUS_STYLE[issue["status"]])
        line.append(f": {issue['basis']}")
        console.print(line)


def render_issues(issues: list[dict[str, Any]]) -> None:
    table = _table(
        "Tracked issues (status from evidence)",
        "issue",
        "status",
        "claimed",
        "evidence in window",
        "last seen",
        "title",
    )
    for i in issues:
        counts = ", ".join(f"{n:,} {sig}" for sig, n in list(i["evidence"].items())[:3])
        more = len(i["evidence"]) - 3
        table.add_row(
            _t(i["id"], "bold" if i["contradiction"] else ""),
            _t(i["status"], STATUS_STYLE.get(i["status"], "")),
            _t(i["claimed_status"] + (" (contradicted)" if i["contradiction"] else "")),
            _t(counts + (f", +{more} more" if more > 0 else "")),
            _t(_when(i["last_seen"])),
            _t(i["title"]),
        )
    console.print(table)


def render_incidents(incidents: list[dict[str, Any]]) -> None:
    if not incidents:
        console.print(_t("No incidents in this window."))
        return
    table = _table("Incidents", "start", "end", "service", "issues", "chain", "cause")
    for inc in incidents:
        table.add_row(
            _t(_when(inc["start"])),
            _t(_when(inc["end"])),
            _t(inc["service"]),
            _t(", ".join(inc["issues"]) or "none"),
            _t(" → ".join(inc["chain"])),
            _t(inc["cause"]),
        )
    console.print(table)


# The deploys a terminal table lists: as many as the reports (forensics.report.model
# REPORT_DEPLOYS, not imported: `forensics --help` loads no report code; a test keeps them
# equal); the caption counts the rest, --json lists all. A wide fleet's 200-row table cost
# 0.15 CPU s of Rich layout and scrolled the rest of the analysis away.
MAX_DEPLOY_ROWS = 50


def render_deploys(deploys: list[dict[str, Any]], total: int | None = None) -> None:
    """The window's deploys in time order; past MAX_DEPLOY_ROWS, every failed one and the latest.

    A wide fleet deploys thousands of revisions a day: printing them all buries the rest of the
    analysis (and costs minutes), so the table says how many it leaves out and where they are.
    ``total``: how many the window holds, when ``deploys`` are only the ones shown
    (``AnalysisModel.terminal_analysis``).
    """
    if not deploys:
        return
    from forensics.incidents.digest import shown as bounded  # `forensics --help` loads none

    shown = bounded(deploys, MAX_DEPLOY_ROWS)
    total = len(deploys) if total is None else total
    table = _table(
        "Deploys and configuration changes", "time", "service", "kind", "revision", "changes"
    )
    if len(shown) < total:
        table.caption = f"{total - len(shown):,} earlier deploys not shown (all are in --json)"
    for d in shown:
        table.add_row(
            _t(_when(d["time"])),
            _t(d["service"]),
            _t(d["kind"], "red" if d["kind"] == "failed" else ""),
            _t(d["revision"]),
            _t("; ".join(d["changes"])),
        )
    console.print(table)


def render_checks(checks: list[dict[str, Any]]) -> None:
    table = _table("Checks (the seeds' targets)", "check", "target", "result", "measured")
    for c in checks:
        table.add_row(
            _t(c["title"]),
            _t(c["target"]),
            _t(c["status"], STATUS_STYLE.get(c["status"], "")),
            _t(c["measured"]),
        )
    console.print(table)


def render_summary(result: dict[str, Any]) -> None:
    """The analyze command's incidents part: headline, issues, incidents, deploys, checks."""
    render_headline(result["issues"])
    render_issues(result["issues"])
    render_incidents(result["incidents"])
    render_deploys(result["deploys"], result.get("deploys_total"))
    render_checks(result["checks"])


def render_incident_detail(inc: dict[str, Any]) -> None:
    """One incident: cause, chain with its per-instance checks, attribution, evidence lines."""
    console.rule(_t(f"{inc['id']}  ({', '.join(inc['issues']) or 'no tracked issue'})"))
    span = f"{_when(inc['start'])} → {_when(inc['end'])}"
    console.print(_t(f"{span}, peak {inc['peak_per_minute']}/min at {_when(inc['peak'])}"))
    console.print(Text("Cause: ", style="bold") + _t(inc["cause"]))
    for link in inc["links"]:
        checked = (
            f"{link['in_order']} of {link['instances']} instances in order"
            if link["instances"]
            else "not on a shared instance"
        )
        console.print(_t(f"  {link['from']} → {link['to']}: {checked}"))
    for symptom, causes in inc["attribution"].items():
        shown = ", ".join(f"{n:,} after {c}" for c, n in causes.items())
        console.print(_t(f"  {symptom}: {shown}"))
    revisions = ", ".join(inc["revisions"]) or "none"
    console.print(_t(f"Revisions: {revisions}; instances: {len(inc['instances'])}"))
    table = _table("Evidence", "timestamp", "signature", "revision", "insert_id", "message")
    for e in inc["evidence"]:
        table.add_row(
            _t(_when(e["timestamp"])),
            _t(e["signature"]),
            _t(e["revision"]),
            _t(e["insert_id"]),
            _t(e["message"][:240]),
        )
    console.print(table)


def render_issue_detail(issue: dict[str, Any]) -> None:
    """One issue: status against claim, the sentence that says why, the fix and traffic after."""
    head = Text(f"{issue['id']} ", style="bold")
    head.append(issue["status"], style=STATUS_STYLE.get(issue["status"], ""))
    head.append(f" (claimed {issue['claimed_status']})")
    if issue["contradiction"]:
        head.append("  CONTRADICTION", style="bold red")
    console.print(head)
    console.print(_t(f"  {issue['title']} — {issue['url']}"))
    console.print(_t(f"  {issue['basis']}"))
    if issue["fix"]:
        fix = issue["fix"]
        console.print(_t(f"  fix: {fix['source']} at {_when(fix['time'])}"))
    if issue["evidence"]:
        counts = ", ".join(f"{n:,} {sig}" for sig, n in issue["evidence"].items())
        console.print(_t(f"  evidence in window: {counts}"))
    if issue["first_seen"]:
        since = issue.get("first_seen_since")
        read = f" (the first in the logs read from {_when(since)} on)" if since else ""
        console.print(
            _t(
                f"  first seen {_when(issue['first_seen'])} on {issue['first_seen_place']}{read}, "
                f"last seen {_when(issue['last_seen'])} on {issue['last_seen_place']}"
            )
        )
    if issue["incidents"]:
        console.print(_t(f"  incidents: {', '.join(issue['incidents'])}"))
    for gap in issue["data_gaps"]:
        console.print(
            _t(f"  incomplete data: {gap['source']} {gap['start']} → {gap['end']}", "yellow")
        )
