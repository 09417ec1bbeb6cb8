"""`forensics emulator`: the local Cloud Logging + Monitoring emulator, and the live demo."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from forensics.cli.collect import ConfigOption, render_report
from forensics.cli.common import DbOption, db_path
from forensics.cli.group import ForensicsTyper
from forensics.clock import Clock, RealClock, ScaledClock
from forensics.console import console
from forensics.errors import EXIT_ATTENTION, InputError
from forensics.timeutil import parse_time

__all__ = ["app"]

app = ForensicsTyper(
    help="A local Cloud Logging (HTTP) and Monitoring (gRPC) emulator for tests and the demo.",
    no_args_is_help=True,
)


def _pair(text: str | None, option: str) -> tuple[float, float]:
    if not text:
        return 0.0, 0.0
    left, _sep, right = text.partition(":")
    try:
        return float(left), float(right)
    except ValueError:
        raise InputError(f"{option} {text!r}: expected two numbers as A:B") from None


@app.command()
def serve(
    port: Annotated[int, typer.Option("--port", help="HTTP port for Logging.")] = 8089,
    grpc_port: Annotated[int, typer.Option("--grpc-port", help="gRPC port for Monitoring.")] = 8090,
    from_files: Annotated[
        list[Path] | None, typer.Option("--from", help="Log export file to serve (repeatable).")
    ] = None,
    metrics_from: Annotated[
        list[Path] | None,
        typer.Option("--metrics-from", help="Time series JSON (REST shape) to serve."),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Serve the demo generator's day.")] = False,
    entries: Annotated[int, typer.Option("--entries", help="Demo entries.")] = 20_000,
    hours: Annotated[int, typer.Option("--hours", help="Demo window length.")] = 24,
    end: Annotated[str | None, typer.Option("--end", help="Demo window end; default now.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Demo seed.")] = 1278,
    quota: Annotated[int, typer.Option("--quota", help="entries.list calls/min (0: off).")] = 60,
    fault_429_rate: Annotated[float, typer.Option(help="Share of calls answered 429.")] = 0.0,
    fault_503_burst: Annotated[
        str | None, typer.Option(help="N:L — after every N good calls, L calls answer 503.")
    ] = None,
    fault_slow: Annotated[
        str | None, typer.Option(help="RATE:SECONDS — share of calls stalled, and for how long.")
    ] = None,
    fault_drop_rate: Annotated[float, typer.Option(help="Share of connections dropped.")] = 0.0,
    fault_outage: Annotated[
        list[str] | None, typer.Option(help="Calls whose filter contains this answer 503.")
    ] = None,
    time_scale: Annotated[
        float, typer.Option(help="Run the quota clock this many times faster than real time.")
    ] = 1.0,
) -> None:
    """Serve entries:list (HTTP/JSON) and ListTimeSeries (gRPC) on 127.0.0.1 until Ctrl-C.

    Example:
        forensics emulator serve --demo --port 8089 --grpc-port 8090
        forensics emulator serve --from export.json --fault-429-rate 0.2 --fault-503-burst 20:3
    """
    # Deferred: the emulator loads gRPC, the Monitoring client and DuckDB; --help needs none.
    from forensics.emulator.data import entries_from_files, series_from_files
    from forensics.emulator.faults import FaultPlan
    from forensics.emulator.server import Emulator, EmulatorSettings, demo_data

    if demo == bool(from_files):
        raise InputError("give either --demo or --from FILE (one or more)")
    if demo:
        stream, series = demo_data(entries, parse_time(end, "--end") if end else None, hours, seed)
        data: Any = stream
    else:
        data = entries_from_files(from_files or [])
        series = series_from_files(metrics_from or [])
    burst = _pair(fault_503_burst, "--fault-503-burst")
    slow = _pair(fault_slow, "--fault-slow")
    faults = FaultPlan(
        rate_429=fault_429_rate,
        burst_503_every=int(burst[0]),
        burst_503_length=int(burst[1]),
        slow_rate=slow[0],
        slow_s=slow[1],
        drop_rate=fault_drop_rate,
        outage=tuple(fault_outage or ()),
    )
    clock: Clock = ScaledClock(time_scale) if time_scale != 1.0 else RealClock()
    settings = EmulatorSettings(
        http_port=port,
        grpc_port=grpc_port,
        logging_quota_per_minute=quota,
        logging_faults=faults,
        monitoring_faults=faults,
    )
    emulator = Emulator(data, series, clock=clock, settings=settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        console.print(
            f"serving {emulator.entries.count:,} entries and {len(emulator.series.series):,} "
            f"time series; {emulator.entries.rejected:,} entries without timestamp or logName "
            "were left out",
            markup=False,
        )
        for key, value in emulator.env().items():
            console.print(f"export {key}={value}", markup=False)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


@app.command("demo")
def demo_live(
    entries: Annotated[int, typer.Option("--entries", help="Demo entries.")] = 20_000,
    hours: Annotated[int, typer.Option("--hours", help="Window length.")] = 24,
    end: Annotated[str | None, typer.Option("--end", help="Window end; default now.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Demo seed.")] = 1278,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Collect the demo day through the emulator with the real collectors (the live demo).

    The demo's logs and metrics are served on 127.0.0.1 and pulled exactly as from GCP:
    pushdown filters, the 60 calls/min quota (waits fast-forwarded), checkpoints, signals.

    Example:
        forensics emulator demo --db demo-out/demo.duckdb
        forensics analyze --db demo-out/demo.duckdb --hours 24
    """
    from forensics.cli.progress import RichProgress
    from forensics.config import load_config
    from forensics.emulator.live import collect_demo

    with RichProgress() as progress:
        report = collect_demo(
            db_path(db),
            load_config(config),
            n_entries=entries,
            hours=hours,
            end=parse_time(end, "--end") if end else None,
            seed=seed,
            progress=progress,
        )
    render_report(report)
    if report.failed:
        raise typer.Exit(EXIT_ATTENTION)
