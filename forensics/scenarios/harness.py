"""Load a rendered scenario into a real store through the public paths, then run the analysis.

Collection modes (the scenario's ``collection``):
  - ``export``: the entries are written as NDJSON exports and loaded with ``ingest_files``
    (what ``forensics ingest`` runs); late entries come in a second export, loaded after,
    that repeats the on-time entries it overlaps.
  - ``full`` / ``pushdown``: the entries and series are served by the emulator on 127.0.0.1
    and pulled by ``forensics.collectors.collect`` with the real Google clients (with pushdown
    only WARNING+ lines, 5xx request logs, audit logs and the context around errors come in).
    Late entries are served only to a second collection, ``late_collect_after_s`` after the
    window's end; a listed data gap makes that source's API answer 503 until it gives up.
Metric series always go through the emulator and the Monitoring collector (metric points,
checkpoints and signals are stored by the collector's own code).

The analysis is the CLI's: ``forensics analyze --json --out DIR`` runs as a subprocess on the
store (the library never imports the CLI); its JSON and the report.json it writes are compared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from forensics.clock import FastForwardClock
from forensics.collectors.collect import CollectRequest, collect, make_clients
from forensics.collectors.filters import catalog_signatures
from forensics.config import CollectSettings, Resources, Thresholds
from forensics.emulator.faults import FaultPlan
from forensics.emulator.server import Emulator, EmulatorSettings
from forensics.errors import InputError
from forensics.ingest import ingest_files
from forensics.scenarios.check import compare
from forensics.scenarios.facts import ScenarioResult
from forensics.scenarios.model import Scenario
from forensics.scenarios.render import Rendered, render
from forensics.scenarios.world import iso
from forensics.store import open_store
from forensics.timeutil import Window

__all__ = ["Outputs", "load_into_store", "run_analysis", "run_scenario", "write_registry"]

# The text that only a source's own filter contains (see collectors.filters.log_sources).
GAP_FILTERS = {
    "cloudsql": 'resource.type="cloudsql_database"',
    "connector": 'resource.type="vpc_access_connector"',
}


@dataclass
class Outputs:
    """What the analysis printed for the scenario's window."""

    analysis: dict[str, Any]
    report: dict[str, Any]
    registry_file: Path


def _write_ndjson(path: Path, entries: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for e in entries:
            fh.write(json.dumps(e, separators=(",", ":")) + "\n")
    return path


def _collect(
    db: Path,
    s: Scenario,
    entries: list[dict[str, Any]],
    series: list[dict[str, Any]],
    *,
    logs: bool,
    now: datetime,
) -> None:
    outage = tuple(GAP_FILTERS[g] for g in s.data_gaps)
    faults = FaultPlan(outage=outage)
    clock = FastForwardClock()
    settings = EmulatorSettings(logging_faults=faults)
    with Emulator(entries, series, clock=clock, settings=settings) as emulator:
        cfg = CollectSettings(
            logs=logs,
            pushdown=s.collection == "pushdown",
            logging_endpoint=emulator.logging_endpoint,
            monitoring_endpoint=emulator.monitoring_endpoint,
            max_attempts=3,
            backoff_base_s=0.05,
            backoff_cap_s=0.2,
        )
        window = Window(s.since, s.until)
        signatures = catalog_signatures() if cfg.pushdown else None
        request = CollectRequest(s.project, window, Resources(), cfg, Thresholds(), signatures)
        clients = make_clients(request)
        try:
            with open_store(db) as store:
                collect(store, request, clients=clients, clock=clock, now=now)
        finally:
            clients.close()


def load_into_store(s: Scenario, rendered: Rendered, workdir: Path) -> Path:
    """Load the rendered scenario into ``workdir/store.duckdb``; returns its path."""
    db = workdir / "store.duckdb"
    if not s.request_count:  # Monitoring's request count not collected: logs are all there is
        series = [x for x in rendered.series if x["metric"]["type"] != REQUEST_COUNT]
        rendered = replace(rendered, series=series)
    first = s.until + timedelta(minutes=1)
    if s.collection == "export":
        if s.data_gaps:
            raise InputError(f"{s.path}: data_gaps need collection full or pushdown")
        files = [_write_ndjson(workdir / "export.jsonl", rendered.entries)]
        if rendered.late:
            # The next export holds the late entries and repeats what overlaps them, as
            # consecutive sink files or re-run exports do: the store must keep each once.
            since = min(e["timestamp"] for e in rendered.late)
            again = [e for e in rendered.entries if e["timestamp"] >= since]
            repeat = sorted(rendered.late + again, key=lambda e: e["timestamp"])
            files.append(_write_ndjson(workdir / "export-late.jsonl", repeat))
        with open_store(db) as store:
            for path in files:  # one run each: the late export arrives after the first
                result = ingest_files(store, [path])
                if result.errors:
                    raise InputError("; ".join(result.errors))
        _collect(db, s, [], rendered.series, logs=False, now=first)
        return db
    # The first pull sees what Logging had received by then; the second, everything.
    every = sorted(rendered.entries + rendered.late, key=lambda e: e["timestamp"])
    received = [e for e in every if e["receiveTimestamp"] <= iso(first)]
    _collect(db, s, received, rendered.series, logs=True, now=first)
    if rendered.late:
        later = s.until + timedelta(seconds=s.late_collect_after_s)
        _collect(db, s, every, rendered.series, logs=True, now=later)
    return db


REQUEST_COUNT = "run.googleapis.com/request_count"


def _cli(workdir: Path, *args: str) -> str:
    # In the scenario's directory, so no ./forensics-issues.yaml or forensics.toml of the
    # caller's leaks in; the registry is always the scenario's own file.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}
    env |= {"NO_COLOR": "1", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "forensics", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"forensics {args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def write_registry(s: Scenario, workdir: Path) -> Path:
    """The scenario's issue overrides (claims, fixes, settings) as an --issues-file."""
    path = workdir / "issues.yaml"
    settings = s.issues.get("settings") or {}
    issues = [{"id": k, **(v or {})} for k, v in s.issues.items() if k != "settings"]
    body: dict[str, Any] = {"issues": issues} | ({"settings": settings} if settings else {})
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def run_analysis(s: Scenario, db: Path, workdir: Path) -> Outputs:
    """``forensics analyze --json --out DIR`` on the window: its JSON and its report.json."""
    registry = write_registry(s, workdir)
    common = ["--db", str(db), "--hours", f"{s.hours:g}", "--until", s.until.isoformat()]
    common += ["--issues-file", str(registry)]
    out = workdir / "report"  # the same run writes the report files (one analysis)
    analysis = json.loads(
        _cli(workdir, "analyze", "--json", "--no-collect", "--out", str(out), *common)
    )
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return Outputs(analysis, report, registry)


def run_scenario(s: Scenario, workdir: Path) -> ScenarioResult:
    """Render, load, analyse and compare one scenario in ``workdir`` (created if missing)."""
    workdir.mkdir(parents=True, exist_ok=True)
    rendered = render(s)
    db = load_into_store(s, rendered, workdir)
    outputs = run_analysis(s, db, workdir)
    result = compare(s, outputs.analysis, outputs.report, outputs.registry_file)
    return replace(result, entries=len(rendered.entries) + len(rendered.late))
