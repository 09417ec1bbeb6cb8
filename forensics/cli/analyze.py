"""`forensics analyze`: the main job — what happened in the last N hours."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.rule import Rule

from forensics.cli.collect import (
    BigQueryOption,
    ConfigOption,
    ProjectOption,
    collect_window,
    gap_lines,
    render_report,
)
from forensics.cli.common import DbOption, IssuesFileOption, JsonOption, db_path, dump_json
from forensics.cli.render_incidents import MAX_DEPLOY_ROWS, render_summary
from forensics.cli.report import OutOption, note_classification, write_model_reports
from forensics.console import console, frame_table
from forensics.timeutil import window_ending

HoursOption = Annotated[float, typer.Option("--hours", help="Window length in hours.")]
UntilOption = Annotated[
    str | None,
    typer.Option("--until", help="Window end (ISO 8601, UTC); default now. For older exports."),
]


def analyze(
    hours: HoursOption = 24,
    until: UntilOption = None,
    project: ProjectOption = None,
    no_collect: Annotated[
        bool, typer.Option("--no-collect", help="Analyse the store as it is; pull nothing.")
    ] = False,
    bigquery: BigQueryOption = None,
    config: ConfigOption = None,
    issues_file: IssuesFileOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Analyse the window: issue statuses and incidents with their causes, then volume and errors.

    Contradicted claims come first (an issue claimed resolved whose evidence is fresh), then
    the status of every tracked issue, the incidents, deploys, and the seeds' checks.

    When a project is given (--project, $FORENSICS_PROJECT or forensics.toml), the window is
    collected from it first (see `forensics collect`); sources that could not be collected are
    reported as incomplete data. With --bigquery (or [bigquery] source) the window is classified
    in BigQuery and only what the analysis needs is brought home first.

    Example:
        forensics analyze --hours 24
        forensics analyze --hours 24 --project netra-staging
        forensics analyze --hours 48 --until 2025-09-17T00:00:00Z --json
        forensics analyze --hours 24 --out reports-out   # also write the report files
    """
    # Deferred imports (here and in the other commands): `forensics --help` loads none of the
    # analysis, DuckDB or polars (tests/test_cli_startup.py).
    from forensics.config import load_config
    from forensics.incidents.registry import user_registry_path
    from forensics.model_cache import ModelCache
    from forensics.pipeline import Sources, build_model, open_for_reading
    from forensics.store import clamp_window

    window = window_ending(hours, until)
    cfg = load_config(config).with_overrides(project=project, bigquery_source=bigquery)
    if cfg.bigquery.source and not no_collect:
        from forensics.cli.bigquery import collect_bigquery_window, render_bigquery

        bq_report = collect_bigquery_window(cfg, window, db_path(db))
        if not as_json:
            render_bigquery(bq_report)
    elif cfg.project and not no_collect:
        report = collect_window(cfg, window, db_path(db), show_progress=not as_json)
        if not as_json:
            render_report(report)
    with_report = out is not None
    # an unchanged store, window, catalog and registry: the model kept by the last run. Only a
    # window with an explicit end can be asked again: one ending now moves with every run, so
    # keeping its model would cost a pickle per run (~15 MB at 1M entries) that nothing reads.
    cache = (
        ModelCache.for_store(db_path(db), window, user_registry_path(issues_file))
        if until is not None
        else None
    )
    model = cache.get(report=with_report) if cache is not None else None
    if model is None:
        sources = Sources.load(issues_file)
        with open_for_reading(db_path(db)) as store:
            window = clamp_window(store, window)
            model = build_model(store, window, sources, report=with_report)
        if cache is not None:
            cache.put(model, report=with_report)
    paths = write_model_reports(model, out, ["md", "html", "json"]) if out is not None else []
    note_classification(model.classification)
    if as_json:
        print(dump_json(model.analysis()))
        return
    render_analysis(model.terminal_analysis(MAX_DEPLOY_ROWS))
    for path in paths:
        console.print(f"wrote {path}", markup=False, highlight=False)


def render_analysis(result: dict[str, Any]) -> None:
    """Print the analysis for a person at a terminal."""
    from forensics.analysis import volume_pivot
    from forensics.cli.signatures_view import render_signatures

    win = result["window"]
    console.print(Rule(f"forensics analyze: {win['since']} → {win['until']}"))
    gaps = result["data_gaps"]
    for line in gap_lines(list(gaps.select("source", "start", "end", "reason").iter_rows())):
        console.print(line, style="bold yellow", markup=False, highlight=False)
    render_summary(result)
    signals = result["signals"]
    if not signals.is_empty():
        columns = ["signal", "service", "start", "end", "peak", "threshold"]
        console.print(frame_table(signals.select(columns), "Metric signals (threshold crossings)"))
    if result["entries_in_window"] == 0:
        console.print("[yellow]No entries in this window.[/yellow]")
        held = result["store_range"]
        if held.is_empty():
            console.print("The store is empty: run `forensics ingest FILE` or `make demo`.")
        else:
            console.print(
                f"The store holds {int(held['entries'].sum()):,} entries from "
                f"{held['first_entry'].min()} to {held['last_entry'].max()}; "
                "use --until to analyse that range."
            )
            console.print(frame_table(held, "What the store holds"))
        return
    console.print(f"{result['entries_in_window']:,} entries in the window.")
    console.print(frame_table(volume_pivot(result["volume"]), "Volume per hour, service, severity"))
    errors = result["top_errors"]
    if errors.is_empty():
        console.print("No ERROR-or-worse entries and no 5xx responses in the window.")
    else:
        console.print(
            frame_table(
                errors.select("n", "service", "message", "first_seen", "last_seen"),
                "Most frequent errors (numbers masked)",
            )
        )
    render_signatures(result)
