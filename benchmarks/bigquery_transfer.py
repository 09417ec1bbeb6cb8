"""Benchmark: what `collect --bigquery` brings home from a synthetic Log Router sink.

Writes a day of Cloud Run logs (default 20,000 entries, `--entries`) into a date-sharded sink
in a local BigQuery emulator (tests/bqemu.py: `make bq-emulator` first), shaped like a busy
project: `--services` services with `--instances` instances each, request logs (70 %), stdout
(22 %) and stderr (8 %), and `--error-density` (default 3 %) of the entries failing: 80 % of the
failures are known ones (each signature's first match example) bunched in three 20-minute
incidents, 20 % are unknown errors spread over the day. Then runs the collection with the
default settings and prints:

  rows in the window, rows brought home (match / candidate / context), the transfer ratio,
  the emulator's dry-run byte estimate and the bytes the scanned columns hold (row sizes).

The transferred rows are bounded by the per-minute cap (per signature or template, service and
minute) and by the context lines of the same instance, so they grow with the number of failing
(signature, service, minute) cells, not with the volume: see README "Running in BigQuery" for
the extrapolation to 100M entries/day.

    python benchmarks/bigquery_transfer.py [--entries N] [--error-density 0.03]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forensics.bigquery.client import bigquery_client, run_query
from forensics.bigquery.collect import BigQueryRequest, collect_bigquery
from forensics.bigquery.shapes import sink_tables
from forensics.bigquery.source import parse_source
from forensics.signatures.catalog import load_catalog
from forensics.store import open_store
from forensics.timeutil import Window
from tests import bqemu

DAY = datetime(2025, 9, 16, tzinfo=UTC)
PROJECT = "bench-proj"


def _stamp(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def synthetic_day(n: int, density: float, services: int, instances: int) -> list[dict[str, Any]]:
    """A day of entries; see the module docstring for the mix."""
    rng = random.Random(7)
    known = [sig.examples_match[0] for sig in load_catalog().active() if sig.examples_match]
    # an incident is one failure repeating, and its consequence: two signatures each
    incidents = [(DAY + timedelta(hours=h), rng.sample(known, 2)) for h in (3, 11, 19)]
    entries = []
    for i in range(n):
        service = f"svc-{rng.randrange(services)}"
        instance = f"{service}-inst-{rng.randrange(instances):03d}"
        failing = rng.random() < density
        roll = rng.random()
        chosen = incidents[0][1]
        if failing and roll < 0.8:
            start, chosen = rng.choice(incidents)
            t = start + timedelta(seconds=rng.uniform(0, 1200))
        else:
            t = DAY + timedelta(seconds=rng.uniform(0, 86400))
        base: dict[str, Any] = {
            "timestamp": _stamp(t),
            "insertId": f"bench-{i:09d}",
            "resource": {
                "type": "cloud_run_revision",
                "labels": {
                    "service_name": service,
                    "revision_name": f"{service}-00042-abc",
                    "location": "us-central1",
                    "project_id": PROJECT,
                },
            },
            "labels": {"instanceId": instance},
        }
        if failing and roll < 0.8:
            example = dict(rng.choice(chosen))
            example.pop("resource", None)
            example.pop("timestamp", None)
            entry = {**base, **example}
            entry["logName"] = entry.get(
                "logName", f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr"
            )
        elif failing:
            code = rng.randrange(100)
            entry = {
                **base,
                "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr",
                "severity": "ERROR",
                "textPayload": f"unhandled failure {code} in job worker {rng.randrange(9)}",
            }
        elif roll < 0.70:
            entry = {
                **base,
                "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests",
                "severity": "INFO",
                "httpRequest": {
                    "requestMethod": "GET",
                    "requestUrl": f"https://{service}.a.run.app/api/items/{rng.randrange(999)}",
                    "status": 200,
                    "latency": f"0.{rng.randrange(10, 999):03d}s",
                },
            }
        else:
            log = "stdout" if roll < 0.92 else "stderr"
            entry = {
                **base,
                "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2F{log}",
                "severity": "INFO",
                "jsonPayload": {"message": f"handled item {rng.randrange(10**6)}", "ok": True},
            }
        entries.append(entry)
    return entries


def _message(row: dict[str, Any]) -> str:
    if row.get("text_payload"):
        return str(row["text_payload"])
    payload = json.loads(row["wire_json_payload"]) if row.get("wire_json_payload") else {}
    return str(payload.get("message") or payload.get("msg") or "")


def extrapolate(
    client: Any, request: BigQueryRequest, total: int, per_day: float = 1e8
) -> dict[str, float]:
    """Rows the default caps would bring home if the day held ``per_day`` entries shaped like
    this one: every cell's uncapped count times per_day/total, capped at per_minute."""
    from forensics.bigquery.collect import _params, entries_sql
    from forensics.bigquery.source import discover, entries_ctes

    ctes = entries_ctes(discover(client, request.source, request.window))
    sql = entries_sql(ctes, load_catalog(), 10**9, request.context_seconds)
    rows = run_query(client, sql, _params(request.window), 0, 3600)
    cells: dict[tuple[Any, ...], int] = {}
    for row in rows:
        minute = row["timestamp"].replace(second=0, microsecond=0)
        if row["kind"] == "context":
            key: tuple[Any, ...] = ("context", row["labels"], minute)
        else:
            what = row["primary_signature"] or re.sub(r"[0-9]+", "0", _message(row)[:120])
            key = (row["kind"], what, row["resource_json"], minute)
        cells[key] = cells.get(key, 0) + 1
    scale = per_day / total
    out: dict[str, float] = {}
    for key, n in cells.items():
        out[key[0]] = out.get(key[0], 0.0) + min(n * scale, request.per_minute)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--error-density", type=float, default=0.03)
    parser.add_argument("--services", type=int, default=8)
    parser.add_argument("--instances", type=int, default=6)
    args = parser.parse_args()
    entries = synthetic_day(args.entries, args.error_density, args.services, args.instances)
    with tempfile.TemporaryDirectory() as tmp:
        emulator = bqemu.start(Path(tmp), PROJECT)
        try:
            client = bigquery_client(PROJECT, emulator.endpoint)
            started = time.process_time()
            bqemu.load(client, f"{PROJECT}.logs", entries, "sink")
            row_bytes = sum(
                len(json.dumps(row, separators=(",", ":")))
                for _, rows in sink_tables(entries).tables.values()
                for row in rows
            )
            request = BigQueryRequest(
                parse_source(f"{PROJECT}.logs"), Window(DAY, DAY + timedelta(days=1)), PROJECT
            )
            with open_store(Path(tmp) / "bench.duckdb") as store:
                report = collect_bigquery(store, request, client=client)
            cpu = time.process_time() - started
            scaled = extrapolate(client, request, len(entries))
        finally:
            emulator.stop()
    moved = sum(report.transferred.values())
    print(
        f"entries in the window: {report.scanned_rows:,} (error density {args.error_density:.1%})"
    )
    print(
        f"brought home: {moved:,} = "
        + ", ".join(f"{n:,} {k}" for k, n in sorted(report.transferred.items()))
    )
    print(f"transfer ratio: {report.transfer_ratio:.3%} (target <= 1 %)")
    print(f"status: {report.status} {report.error or ''}")
    print(f"dry-run bytes (emulator): {report.bytes_estimated:,}")
    print(
        f"row sizes: {row_bytes:,} bytes of JSON for {len(entries):,} rows "
        f"({row_bytes / len(entries):.0f} B/row; x 100M rows/day = "
        f"{row_bytes / len(entries) * 1e8 / 2**30:.1f} GiB/day upper bound)"
    )
    print(f"client CPU seconds (load + collect, this process): {cpu:.1f}")
    home = sum(scaled.values())
    print(
        "at 100M entries/day shaped like this day (every cell's count x "
        f"{1e8 / len(entries):,.0f}, capped at per_minute={request.per_minute}): "
        f"{home:,.0f} rows brought home = {home / 1e8:.3%} ("
        + ", ".join(f"{n:,.0f} {k}" for k, n in sorted(scaled.items()))
        + ")"
    )


if __name__ == "__main__":
    main()
