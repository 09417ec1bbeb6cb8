"""`forensics collect`: pull a project's logs and metrics into the store, within the API quotas."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.rule import Rule

from forensics.cli.common import DbOption, JsonOption, db_path, dump_json
from forensics.console import console, err_console
from forensics.errors import EXIT_ATTENTION
from forensics.timeutil import Window, window_ending

if TYPE_CHECKING:  # the collectors import the Google clients: only collecting loads them
    from forensics.collectors.collect import CollectReport
    from forensics.config import Config

__all__ = [
    "BigQueryOption",
    "ConfigOption",
    "ProjectOption",
    "collect",
    "collect_from_bigquery",
    "collect_window",
    "gap_lines",
]

ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project", "-p", envvar="FORENSICS_PROJECT", help="GCP project id (else forensics.toml)."
    ),
]
BigQueryOption = Annotated[
    str | None,
    typer.Option(
        "--bigquery",
        help="Classify in BigQuery: PROJECT.DATASET (a log sink's dataset) or "
        "PROJECT.DATASET._AllLogs (Log Analytics); else [bigquery] source.",
        show_default=False,
    ),
]
MaxBytesOption = Annotated[
    int | None,
    typer.Option(
        "--max-bytes-billed",
        help="Refuse BigQuery queries that would bill more bytes (default 50 GiB).",
        show_default=False,
    ),
]
BigQueryEndpointOption = Annotated[
    str | None,
    typer.Option(
        "--bigquery-endpoint",
        help="BigQuery API URL of an emulator (else $FORENSICS_BIGQUERY_ENDPOINT, else Google).",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="FORENSICS_CONFIG",
        help="Configuration file. Default: ./forensics.toml when present.",
        show_default=False,
    ),
]


def collect(
    project: ProjectOption = None,
    hours: Annotated[float, typer.Option("--hours", help="Window length in hours.")] = 24,
    until: Annotated[
        str | None, typer.Option("--until", help="Window end (ISO 8601, UTC); default now.")
    ] = None,
    show_filters: Annotated[
        bool, typer.Option("--explain", help="Print the filters that would be sent; pull nothing.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Pull every entry in scope (no candidate pushdown).")
    ] = False,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Cloud Run service (repeatable).")
    ] = None,
    sql_instance: Annotated[
        list[str] | None, typer.Option("--sql-instance", help="Cloud SQL instance (repeatable).")
    ] = None,
    connector: Annotated[
        list[str] | None, typer.Option("--connector", help="VPC Access connector (repeatable).")
    ] = None,
    logging_endpoint: Annotated[
        str | None,
        typer.Option(
            "--logging-endpoint",
            help="Logging API URL, e.g. http://127.0.0.1:8089 "
            "(else $FORENSICS_LOGGING_ENDPOINT, else Google).",
        ),
    ] = None,
    monitoring_endpoint: Annotated[
        str | None,
        typer.Option(
            "--monitoring-endpoint",
            help="Monitoring gRPC host:port (else $FORENSICS_MONITORING_ENDPOINT, else Google).",
        ),
    ] = None,
    no_logs: Annotated[bool, typer.Option("--no-logs", help="Skip Cloud Logging.")] = False,
    no_metrics: Annotated[bool, typer.Option("--no-metrics", help="Skip Monitoring.")] = False,
    bigquery: BigQueryOption = None,
    max_bytes_billed: MaxBytesOption = None,
    bigquery_endpoint: BigQueryEndpointOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Pull a project's logs and metrics for the window into the store, within the API quotas.

    With --bigquery (or [bigquery] source), the logs are classified inside BigQuery instead and
    only matched entries, unknown errors, their context and per-minute counts come home; the
    metrics are then left to a separate `forensics collect --no-logs`.

    Resumes where a killed run stopped and skips what is already collected. A source that still
    fails after its retries is recorded as a data gap (exit code 1).

    Example:
        forensics collect --project netra-staging --hours 24
        forensics collect --project netra-staging --hours 6 --until 2025-09-16T12:00:00Z --explain
        forensics collect --bigquery my-proj.app_logs._AllLogs --hours 24 --explain
    """
    from forensics.collectors.collect import explain, request_from_config
    from forensics.config import load_config

    cfg = load_config(config).with_overrides(
        bigquery_source=bigquery,
        bigquery_max_bytes_billed=max_bytes_billed,
        bigquery_endpoint=bigquery_endpoint,
        project=project,
        services=tuple(service or ()),
        sql_instances=tuple(sql_instance or ()),
        connectors=tuple(connector or ()),
        pushdown=False if full else None,
        logs=False if no_logs else None,
        metrics=False if no_metrics else None,
        logging_endpoint=logging_endpoint,
        monitoring_endpoint=monitoring_endpoint,
    )
    window = window_ending(hours, until)
    if cfg.bigquery.source:
        collect_from_bigquery(cfg, window, db_path(db), show_filters, as_json)
        return
    request = request_from_config(cfg, window)
    if show_filters:
        plan = explain(request)
        if as_json:
            print(dump_json(plan))
        else:
            render_explain(plan)
        return
    report = collect_window(cfg, window, db_path(db), show_progress=not as_json)
    if as_json:
        print(dump_json(report.as_dict()))
    else:
        render_report(report)
    if report.failed:
        raise typer.Exit(EXIT_ATTENTION)


def collect_from_bigquery(
    cfg: Config, window: Window, db: Path, explain: bool, as_json: bool
) -> None:
    """The --bigquery path of `collect` (exit 1 when the window could not be collected)."""
    from forensics.cli.bigquery import (
        bigquery_explain,
        collect_bigquery_window,
        render_bigquery,
        render_bigquery_explain,
    )

    if explain:
        plan = bigquery_explain(cfg, window)
        if as_json:
            print(dump_json(plan))
        else:
            render_bigquery_explain(plan)
        return
    report = collect_bigquery_window(cfg, window, db)
    if as_json:
        print(dump_json(report.as_dict()))
    else:
        render_bigquery(report)
    if report.status == "failed":
        raise typer.Exit(EXIT_ATTENTION)


def collect_window(
    cfg: Config, window: Window, db: Path, *, show_progress: bool = True
) -> CollectReport:
    """Collect ``window`` for the configured project into the store at ``db``."""
    from forensics.cli.progress import RichProgress
    from forensics.collectors.collect import collect as run_collect
    from forensics.collectors.collect import make_clients, request_from_config
    from forensics.store import open_store

    request = request_from_config(cfg, window)
    clients = make_clients(request)
    try:
        with open_store(db) as store, RichProgress(enabled=show_progress) as progress:
            return run_collect(store, request, clients=clients, progress=progress)
    finally:
        clients.close()


def render_explain(plan: dict[str, Any]) -> None:
    win = plan["window"]
    console.print(Rule(f"filters for {plan['project']}: {win['since']} → {win['until']}"))
    mode = "pushdown (failure candidates and their context)" if plan["pushdown"] else "full pull"
    console.print(f"Logging: {mode}; signatures in the filter: {len(plan['signatures'])}")
    for item in plan["logging"]:
        console.print(f"\n[bold]{item['title']}[/bold] ({item['source']})")
        console.print(item["filter"], markup=False, soft_wrap=True)
    if plan.get("late"):
        console.print(
            "\nA later collection of this window adds one query per source for entries that "
            f"reached Logging after this one: the same filter over the last "
            f"{plan['late']['late_minutes']:g} minutes collected, AND {plan['late']['clause']}",
            markup=False,
            soft_wrap=True,
        )
    if plan["monitoring"]:
        console.print("\n[bold]Monitoring[/bold] (one ListTimeSeries per metric)")
        for item in plan["monitoring"]:
            console.print(f"  {item['filter']}", markup=False, soft_wrap=True)


def gap_lines(gaps: list[tuple[str, Any, Any, str]]) -> list[str]:
    """'incomplete data for X between T1 and T2 (reason)' lines, shared with analyze."""
    return [
        f"incomplete data for {source} between {_t(start)} and {_t(end)} ({reason})"
        for source, start, end, reason in gaps
    ]


def _t(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else str(value)


def render_report(report: CollectReport) -> None:
    lc, mc = report.logging_calls, report.monitoring_calls
    console.print(
        f"collected {report.project}: Logging {lc.calls} calls ({lc.retries} retries, "
        f"{lc.throttled} throttled, {lc.unavailable} unavailable, {lc.network_errors} dropped), "
        f"Monitoring {mc.calls} calls, {report.signals} signals, {report.elapsed_s:.1f}s",
        markup=False,
    )
    for o in report.outcomes:
        mark = "ok" if o.status == "complete" else "FAILED"
        console.print(
            f"  {mark:6} {o.title}: {o.items:,} received, {o.stored:,} new, {o.pages} pages",
            markup=False,
        )
    gaps = [(o.source, a, b, o.error or "") for o in report.failed for a, b in o.gaps]
    for line in gap_lines(gaps):
        err_console.print(line, style="yellow", markup=False, highlight=False)
