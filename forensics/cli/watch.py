"""`forensics watch`: every interval collect, analyse, compare with the last run, and alert."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from forensics.cli.collect import ConfigOption, ProjectOption, collect_window
from forensics.cli.common import DbOption, IssuesFileOption, JsonOption, db_path, dump_json
from forensics.cli.diff import MinCountOption, PValueOption, RatioOption, spike_rule
from forensics.cli.notify import AttemptsOption, BackoffOption, WebhookOption, notify
from forensics.console import console, err_console
from forensics.errors import EXIT_ATTENTION, EXIT_OK, EXIT_USAGE, InputError
from forensics.timeutil import Window, parse_duration

if TYPE_CHECKING:
    from forensics.collectors.collect import CollectReport
    from forensics.watch.monitor import CollectStep, WatchRun

__all__ = ["watch"]


def watch(
    interval: Annotated[
        str, typer.Option("--interval", help="Time between runs: 30m, 1h, 90s.")
    ] = "30m",
    lookback: Annotated[
        str, typer.Option("--lookback", help="Window each run analyses, ending now.")
    ] = "24h",
    alert_on_change: Annotated[
        bool,
        typer.Option(
            "--alert-on-change", help="Post to the webhook only for runs that found a change."
        ),
    ] = False,
    webhook: WebhookOption = None,
    webhook_attempts: AttemptsOption = 4,
    webhook_backoff: BackoffOption = 1.0,
    iterations: Annotated[
        int | None, typer.Option("--iterations", min=1, help="Stop after N runs.")
    ] = None,
    spike_min_count: MinCountOption = 10,
    spike_ratio: RatioOption = 3.0,
    spike_p: PValueOption = 0.001,
    project: ProjectOption = None,
    no_collect: Annotated[
        bool, typer.Option("--no-collect", help="Watch the store as it is; pull nothing.")
    ] = False,
    config: ConfigOption = None,
    issues_file: IssuesFileOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Watch the store: every interval analyse the last --lookback, compare with the previous
    run, print the changes and optionally POST them to a webhook.

    When a project is given (--project, $FORENSICS_PROJECT or forensics.toml), each run first
    collects the window from it (see `forensics collect`: what is already collected is skipped).
    Changes: signatures and unknown-error templates that appeared or left the window, spikes
    in the last interval against the rest of the window, issue status changes. The store is
    open only during a run. SIGINT or SIGTERM stops cleanly; a failed run is reported and
    the next one runs on time. Exit codes: 0 stopped by a signal, or --iterations done with
    nothing needing attention; 1 --iterations done and a run needed attention; 2 usage error,
    or every run failed.

    Example:
        export FORENSICS_WEBHOOK=https://hooks.slack.com/services/...
        forensics watch --interval 30m --alert-on-change
        forensics watch --interval 5m --lookback 6h --iterations 1 --json
    """
    # Deferred: the monitor loads the analysis and DuckDB; --help needs neither.
    from forensics.config import load_config
    from forensics.watch.loop import run_every, stop_on_signals
    from forensics.watch.monitor import Monitor
    from forensics.watch.webhook import check_url, mask_url

    every = parse_duration(interval, "--interval")
    window = parse_duration(lookback, "--lookback")
    if every.total_seconds() <= 0 or window < every:
        raise InputError("--interval must be positive and --lookback at least one interval")
    url = check_url(webhook) if webhook else None
    rule = spike_rule(spike_min_count, spike_ratio, spike_p)
    cfg = load_config(config).with_overrides(project=project)
    store_path = db_path(db)
    pull: CollectStep | None = None
    if cfg.project and not no_collect:

        def collect_into_store(span: Window) -> str:
            return _collected(collect_window(cfg, span, store_path, show_progress=False))

        pull = collect_into_store
    monitor = Monitor(store_path, window, every, rule, collect=pull, issues_file=issues_file)
    attention = False
    shown_notes: list[str] = []

    def report(run_no: int, run: WatchRun) -> None:
        nonlocal attention, shown_notes
        attention = attention or run.changes.needs_attention
        _print_run(run_no, run, as_json, shown_notes)
        shown_notes = run.changes.notes
        if url and (run.changed or not alert_on_change):
            footer = f"window {run.state.label} · run {run_no} · {run.state.entries:,} entries"
            notify(url, "forensics watch", run.changes, footer,
                   attempts=webhook_attempts, backoff_s=webhook_backoff, stop=stop)  # fmt: skip

    def failed(run_no: int, err: BaseException) -> None:
        err_console.print(f"run {run_no} failed: {type(err).__name__}: {err}", markup=False)

    with stop_on_signals() as stop:
        if not as_json:
            target = f"; alerts → {mask_url(url)}" if url else ""
            source = f", collecting {cfg.project}" if pull else ""
            console.print(
                f"watching {monitor.db}{source} every {interval}, window {lookback}{target}",
                markup=False,
            )
        summary = run_every(
            monitor.run_once,
            every.total_seconds(),
            stop=stop,
            iterations=iterations,
            on_result=report,
            on_failure=failed,
        )
    runs = summary.completed + summary.failed
    why = f" on {stop.reason}" if stop.reason else ""
    abandoned = " (the run in progress was abandoned)" if summary.abandoned else ""
    err_console.print(
        f"stopped{why} after {runs} run(s), {summary.failed} failed{abandoned}", markup=False
    )
    if summary.still_running:
        # The abandoned thread may be inside DuckDB or a network call; letting the interpreter
        # finalize around it can abort the process. Leave now, as a kill would: DuckDB's
        # write-ahead log keeps the store whole (tests/test_concurrency.py kills a writer).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_OK)
    if stop.reason:
        raise typer.Exit(EXIT_OK)
    if summary.completed == 0:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_ATTENTION if attention else EXIT_OK)


def _print_run(run_no: int, run: WatchRun, as_json: bool, shown_notes: list[str]) -> None:
    from forensics.snapshots.render import finding_lines, headline

    lines = finding_lines(run.changes)
    if as_json:
        doc = {
            "run": run_no,
            "window": run.window.as_dict(),
            "entries": run.state.entries,
            "first": run.first,
            "collected": run.collected,
            "changes": run.changes.as_dict(),
        }
        print(dump_json(doc, indent=None), flush=True)
        return
    what = "baseline taken" if run.first and not lines else headline(run.changes)
    until = run.window.as_dict()["until"]
    console.print(
        f"{until} run {run_no}: {run.state.entries:,} entries in the window; {what}",
        markup=False,
        style="bold red" if run.changes.needs_attention else None,
    )
    if run.collected:
        console.print(f"  {run.collected}", markup=False)
    for line in lines:
        console.print(f"  {line}", markup=False)
    for note in run.changes.notes:
        if note not in shown_notes:  # a note repeats every run; say it when it first appears
            console.print(f"  note: {note}", markup=False, style="yellow")


def _collected(report: CollectReport) -> str:
    """One line about a run's collection; incomplete sources are named (they are data gaps)."""
    stored = sum(o.stored for o in report.outcomes)
    line = f"collected {report.project}: {stored:,} new entries from {len(report.outcomes)} pulls"
    failed = report.failed
    if failed:
        line += f"; incomplete: {', '.join(o.source for o in failed)} (recorded as data gaps)"
    return line
