"""`collect --bigquery` / `analyze --bigquery`: run the BigQuery collection and say how it went."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.rule import Rule

from forensics.config import Config
from forensics.console import console, err_console
from forensics.timeutil import Window

if TYPE_CHECKING:
    from forensics.bigquery.collect import BigQueryReport

__all__ = [
    "bigquery_explain",
    "collect_bigquery_window",
    "render_bigquery",
    "render_bigquery_explain",
]


def _client(cfg: Config, project: str) -> Any:
    from forensics.bigquery.client import bigquery_client

    return bigquery_client(project, cfg.bigquery.endpoint)


def bigquery_explain(cfg: Config, window: Window) -> dict[str, Any]:
    """The statements and their dry-run byte estimates (nothing is run)."""
    from forensics.bigquery.collect import explain_bigquery, request_from_config

    request = request_from_config(cfg, window)
    return explain_bigquery(_client(cfg, request.billing_project), request)


def collect_bigquery_window(cfg: Config, window: Window, db: Path) -> BigQueryReport:
    """Collect ``window`` from the configured BigQuery source into the store at ``db``."""
    from forensics.bigquery.collect import collect_bigquery, request_from_config
    from forensics.store import open_store

    request = request_from_config(cfg, window)
    client = _client(cfg, request.billing_project)
    with open_store(db) as store:
        return collect_bigquery(store, request, client=client)


def render_bigquery_explain(plan: dict[str, Any]) -> None:
    win = plan["window"]
    console.print(Rule(f"BigQuery {plan['source']}: {win['since']} → {win['until']}"))
    console.print(f"tables: {', '.join(plan['tables'])}", markup=False, soft_wrap=True)
    for item in plan["statements"]:
        console.print(
            f"\n[bold]{item['name']}[/bold]: dry run {item['bytes_estimated']:,} bytes "
            f"(max_bytes_billed {plan['max_bytes_billed']:,})"
        )
        console.print(item["sql"], markup=False, soft_wrap=True)


def render_bigquery(report: BigQueryReport) -> None:
    moved = sum(report.transferred.values())
    console.print(
        f"collected {report.source}: {report.status}, {report.scanned_rows:,} entries in the "
        f"window, {moved:,} brought home ({report.transfer_ratio:.2%}: "
        + ", ".join(f"{n:,} {k}" for k, n in sorted(report.transferred.items()))
        + f"), {report.stored:,} new, dry run {report.bytes_estimated:,} bytes",
        markup=False,
        highlight=False,
    )
    if report.error:
        err_console.print(
            f"incomplete data for {report.source} between {report.window.as_dict()['since']} "
            f"and {report.window.as_dict()['until']} ({report.error})",
            style="yellow",
            markup=False,
            highlight=False,
        )
    for line in report.disagreements[:20]:
        err_console.print(f"classification differs: {line}", style="yellow", markup=False)
