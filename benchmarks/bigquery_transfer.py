"""Benchmark: what `collect --bigquery` brings home from a synthetic Log Router sink, at scale.

One synthetic day of Cloud Run logs is planned in SQL (``plan_sql``: deterministic, hash-based),
each planned row being a copy of one *prototype* LogEntry (``prototypes``) with its own time,
service, instance and insert id:

* traffic: ``--services`` services x ``--instances`` instances, request logs (70 %), stdout
  (22 %) and stderr lines (8 %), uniform over the day;
* ``--error-density`` of the rows are failures: 60 % in three 20-minute incidents (one service
  each, two known signatures each: the catalog's match examples), 20 % a one-hour crash loop
  (one service, a new instance every 30 s, each crash line beside a startup line of the same
  instance: a context storm) and 20 % unknown errors of 50 templates (skewed: a few frequent,
  most rare) spread over the day and the services.

Then it runs the *entries* statement of ``forensics.bigquery.statements`` with the default caps
and counts what comes home: matched, candidate (unknown errors kept whole) and context rows
over all rows, plus the aggregate rows (``counted``: unknown errors left in BigQuery, as counts
per template, service and minute). Two engines, the same statement text from one generator
(``entries_sql(dialect=...)``; the dialects are differential-tested in
tests/test_bigquery_views.py and tests/test_bigquery_reference.py):

* ``--engine duckdb`` (default): the DuckDB spelling over a DuckDB table holding the planned rows
  (the prototypes ingested by ``forensics ingest``, then copied in SQL), for 1M-100M rows;
* ``--engine emulator``: the real collection (``collect_bigquery``: GoogleSQL, mapping view,
  rebuild, ingest) against the local BigQuery emulator (tests/bqemu.py, `make bq-emulator`),
  loaded with the same planned rows as a date-sharded sink; practical up to ~50k rows.

Bytes: the emulator's dry run returns 0, so the bytes scanned are bounded by the rows' size in
the sink (the JSON of each planned row's sink row, summed): an upper bound of what BigQuery bills
for the columns read.

    python benchmarks/bigquery_transfer.py [--entries N] [--error-density 0.003] [--engine E]

Measured with ``--engine duckdb`` (2 shared cores; CPU s of the statement alone):

    rows  errors  matched  candidates  context  counted (errors)  brought home  CPU s
    1M    0.1 %       716         209      661        0 (0)            0.159 %    3.7
    1M    0.3 %     2,124         661    1,559        0 (0)            0.434 %    4.1
    1M    1 %       7,063       1,911    2,923      140 (140)          1.190 %    4.4
    1M    3 %      21,123       4,784    5,672    1,279 (1,311)        3.158 %    5.4
    10M   0.3 %    20,985       4,732    8,400    1,300 (1,338)        0.341 %   29.0
    10M   1 %      70,076      12,286    8,400    7,217 (7,724)        0.908 %   33.8
    10M   3 %     210,235      20,243    8,400   35,379 (39,939)       2.389 %   48.9

Bytes: 442 B of sink-row JSON per row, so 100M rows/day scan at most ~41 GiB. Only the matched
rows grow with volume (they are never sampled); candidates and context stop at their caps (see
README "Running in BigQuery", "What comes home, measured", for the 100M/day figures).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from forensics.bigquery.statements import Caps, entries_sql
from forensics.ingest import ingest_texts
from forensics.signatures.catalog import load_catalog
from forensics.signatures.dialect import DUCKDB
from forensics.store import open_store

DAY = datetime(2025, 9, 16, tzinfo=UTC)
PROJECT = "bench-proj"
# The unknown errors' templates: "unhandled WORD failure ..." (a word, so each masks apart).
_WORDS = (
    "payment capture refund invoice ledger export import thumbnail webhook mailer scheduler "
    "indexer crawler resizer billing quota search cart checkout session profile avatar upload "
    "download sync backup restore audit report digest feed notifier rollup archive purge "
    "compact migrate reindex warmup geocode pricing tax shipping coupon loyalty fraud ranking "
    "summary preview transcode"
)
UNKNOWN_WORDS = tuple(_WORDS.split())
HOURS_US = 3_600_000_000
DAY_US = 24 * HOURS_US


def _stamp(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def prototypes() -> dict[str, list[dict[str, Any]]]:
    """The LogEntries every planned row copies, by role (index = prototype number in role)."""
    known = [sig.examples_match[0] for sig in load_catalog().active() if sig.examples_match]
    run_log = f"projects/{PROJECT}/logs/run.googleapis.com%2F"
    return {
        "request": [
            {
                "logName": run_log + "requests",
                "severity": "INFO",
                "httpRequest": {
                    "requestMethod": "GET",
                    "requestUrl": "https://api.a.run.app/api/items/42",
                    "status": 200,
                    "latency": "0.042s",
                },
            }
        ],
        "stdout": [
            {
                "logName": run_log + "stdout",
                "severity": "INFO",
                "jsonPayload": {"message": "handled item 4711", "ok": True},
            }
        ],
        "stderr": [{"logName": run_log + "stderr", "textPayload": "GET /api/items/42 200"}],
        "startup": [
            {"logName": run_log + "stdout", "textPayload": "Listening at: http://0.0.0.0:8080"}
        ],
        "known": [dict(e) for e in known],
        "unknown": [
            {
                "logName": run_log + "stderr",
                "severity": "ERROR",
                "textPayload": f"unhandled {word} failure in job worker 7 (attempt 3)",
            }
            for word in UNKNOWN_WORDS[:50]
        ],
    }


def _numbered() -> list[tuple[str, int, dict[str, Any]]]:
    return [(role, i, e) for role, items in prototypes().items() for i, e in enumerate(items)]


def plan_sql(n: int, density: float, services: int, instances: int) -> str:
    """One row per planned entry: i, role, proto (index in role), us (microseconds into the
    day), service, instance. See the module docstring for the mix."""
    rng = random.Random(7)
    known = len(prototypes()["known"])
    picks = rng.sample(range(known), 7)  # three incidents of two signatures, one crash
    incident_known = f"[{', '.join(str(p) for p in picks[:6])}]"
    crash = picks[6]
    cut = int(density * 1_000_000)
    return f"""
WITH r AS (
    SELECT range AS i, CAST(hash(range) % 1000000 AS BIGINT) AS u,
        CAST(hash(range + 1000000007) % 1000 AS BIGINT) AS v,
        CAST(hash(range * 3 + 11) % 1000000000000000 AS BIGINT) AS w
    FROM range({int(n)})
), k AS (
    SELECT *, CASE WHEN u >= {cut} THEN CASE WHEN v < 700 THEN 'request' WHEN v < 920 THEN
        'stdout' ELSE 'stderr' END WHEN v < 600 THEN 'incident' WHEN v < 800 THEN 'crash'
        ELSE 'unknown' END AS kind,
        v % 3 AS incident
    FROM r
)
SELECT i,
    CASE kind WHEN 'incident' THEN 'known' WHEN 'crash' THEN
        CASE WHEN v % 2 = 0 THEN 'known' ELSE 'startup' END ELSE kind END AS role,
    CASE kind WHEN 'incident' THEN {incident_known}[incident * 2 + v % 2 + 1]
        WHEN 'crash' THEN CASE WHEN v % 2 = 0 THEN {crash} ELSE 0 END
        WHEN 'unknown' THEN CAST(floor(50 * pow((w % 1000000) / 1e6, 3)) AS BIGINT)
        ELSE 0 END::BIGINT AS proto,
    CASE kind WHEN 'incident' THEN [3, 11, 19][incident + 1] * {HOURS_US}
            + w % (1200 * 1000000)
        WHEN 'crash' THEN 14 * {HOURS_US} + w % {HOURS_US}
        ELSE w % {DAY_US} END::BIGINT AS us,
    CASE kind WHEN 'incident' THEN 'svc-' || incident WHEN 'crash' THEN 'svc-crash'
        ELSE 'svc-' || ((w // 7) % {int(services)}) END AS service,
    CASE kind WHEN 'crash' THEN 'crash-' || ((w % {HOURS_US}) // 30000000)
        ELSE 'inst-' || ((w // 13) % {int(instances)}) END AS instance
FROM k"""


def _entry(role: str, proto: dict[str, Any], i: int, us: int, service: str, inst: str) -> Any:
    entry = {k: v for k, v in proto.items() if k not in ("resource", "timestamp", "labels")}
    entry.setdefault("logName", f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr")
    entry["timestamp"] = _stamp(DAY + timedelta(microseconds=us))
    entry["insertId"] = f"b{i:09d}"
    entry["resource"] = {
        "type": "cloud_run_revision",
        "labels": {
            "service_name": service,
            "revision_name": f"{service}-00042-abc",
            "location": "us-central1",
            "project_id": PROJECT,
        },
    }
    entry["labels"] = {"instanceId": f"{service}-{inst}"}
    return entry


def build_duckdb(path: Path, plan: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB file whose ``log_entries`` holds the planned rows (store columns)."""
    protos = _numbered()
    with open_store(path.with_suffix(".protos.duckdb")) as store:
        texts = [
            json.dumps(_entry(role, e, n, 0, "svc-0", "inst-0"))
            for n, (role, _, e) in enumerate(protos)
        ]
        assert ingest_texts(store, texts, "protos").rejected == 0
    conn = duckdb.connect(str(path))
    conn.execute(f"ATTACH '{path.with_suffix('.protos.duckdb')}' AS s (READ_ONLY)")
    keys = ", ".join(f"('{role}', {i}, {n})" for n, (role, i, _) in enumerate(protos))
    conn.execute(
        f"CREATE TEMP TABLE keys (role VARCHAR, proto INT, n INT); INSERT INTO keys VALUES {keys}"
    )
    conn.execute(
        f"""CREATE TABLE log_entries AS
        WITH plan AS ({plan}), protos AS (
            SELECT CAST(substr(insert_id, 2) AS INT) AS n, * FROM s.log_entries)
        SELECT p.* EXCLUDE (n) REPLACE (
            TIMESTAMPTZ '{DAY.isoformat()}' + to_microseconds(plan.us) AS "timestamp",
            'b' || lpad(CAST(plan.i AS VARCHAR), 9, '0') AS insert_id,
            plan.service AS service,
            plan.service || '-' || plan.instance AS instance_id,
            plan.service || '-00042-abc' AS revision)
        FROM plan JOIN keys USING (role, proto) JOIN protos AS p ON p.n = keys.n"""
    )
    conn.execute("DETACH s")
    return conn


def row_bytes(conn: duckdb.DuckDBPyConnection, plan: str) -> int:
    """The planned rows' size in the sink (JSON of each prototype's sink row x its count)."""
    from forensics.bigquery.shapes import sink_tables

    protos = _numbered()
    size = {}
    for role, i, e in protos:
        tables = sink_tables([_entry(role, e, 0, 0, "svc-0", "inst-0")]).tables
        size[(role, i)] = sum(
            len(json.dumps(r, separators=(",", ":"))) for _, rows in tables.values() for r in rows
        )
    counts = conn.execute(f"SELECT role, proto, count(*) FROM ({plan}) GROUP BY ALL").fetchall()
    return sum(size[(role, int(proto))] * int(k) for role, proto, k in counts)


def run_duckdb(args: argparse.Namespace, caps: Caps, tmp: Path) -> dict[str, Any]:
    plan = plan_sql(args.entries, args.error_density, args.services, args.instances)
    started = time.process_time()
    conn = build_duckdb(tmp / "sink.duckdb", plan)
    built = time.process_time() - started
    total = conn.execute("SELECT count(*) FROM log_entries").fetchone()[0]  # type: ignore[index]
    assert total == args.entries, f"{total} rows built for {args.entries} planned"
    sql = entries_sql("", load_catalog(), caps, dialect=DUCKDB, carried=())
    started = time.process_time()
    kinds = conn.execute(
        f"SELECT kind, count(*), sum(entries) FROM ({sql}) GROUP BY kind"
    ).fetchall()
    ran = time.process_time() - started
    return {
        "engine": "duckdb",
        "rows": total,
        "kinds": {k: (int(c), int(e or 0)) for k, c, e in kinds},
        "bytes": row_bytes(conn, plan),
        "cpu_build_s": built,
        "cpu_statement_s": ran,
    }


def run_emulator(args: argparse.Namespace, caps: Caps, tmp: Path) -> dict[str, Any]:
    from forensics.bigquery.client import bigquery_client
    from forensics.bigquery.collect import BigQueryRequest, collect_bigquery
    from forensics.bigquery.source import parse_source
    from forensics.timeutil import Window
    from tests import bqemu

    plan = plan_sql(args.entries, args.error_density, args.services, args.instances)
    protos = prototypes()
    with duckdb.connect() as conn:
        rows = conn.execute(f"SELECT * FROM ({plan}) ORDER BY i").fetchall()
        size = row_bytes(conn, plan)
    entries = [_entry(r, protos[r][p], i, us, s, inst) for i, r, p, us, s, inst in rows]
    emulator = bqemu.start(tmp, PROJECT)
    try:
        client = bigquery_client(PROJECT, emulator.endpoint)
        bqemu.load(client, f"{PROJECT}.logs", entries, "sink")
        request = BigQueryRequest(
            parse_source(f"{PROJECT}.logs"),
            Window(DAY, DAY + timedelta(days=1)),
            PROJECT,
            caps=caps,
            timeout_s=3600,
        )
        started = time.process_time()
        with open_store(tmp / "bench.duckdb") as store:
            report = collect_bigquery(store, request, client=client)
        ran = time.process_time() - started
    finally:
        emulator.stop()
    kinds = {k: (n, n) for k, n in report.transferred.items()}
    kinds["counted"] = (report.counted_rows, report.counted_entries)
    return {
        "engine": "emulator",
        "rows": report.scanned_rows,
        "kinds": kinds,
        "bytes": size,
        "bytes_dry_run": report.bytes_estimated,
        "status": report.status,
        "error": report.error,
        "cpu_statement_s": ran,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--error-density", type=float, default=0.003)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--engine", choices=("duckdb", "emulator"), default="duckdb")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    caps = Caps()
    with tempfile.TemporaryDirectory() as tmp:
        run = run_duckdb if args.engine == "duckdb" else run_emulator
        out = run(args, caps, Path(tmp))
    kinds = out["kinds"]
    home = sum(kinds.get(k, (0, 0))[0] for k in ("match", "candidate", "context"))
    out["brought_home"] = home
    out["fraction"] = home / out["rows"] if out["rows"] else 0.0
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"engine {out['engine']}: {out['rows']:,} rows, error density {args.error_density:.2%}")
    for kind in ("match", "candidate", "context", "counted"):
        n, entries = kinds.get(kind, (0, 0))
        extra = (
            f" (counting {entries:,} unknown errors left in BigQuery)" if kind == "counted" else ""
        )
        print(f"  {kind:9} {n:>10,}{extra}")
    print(f"brought home (match + candidate + context): {home:,} = {out['fraction']:.3%} of rows")
    print(
        f"bytes scanned, upper bound (sink row JSON): {out['bytes']:,} "
        f"({out['bytes'] / max(1, out['rows']):.0f} B/row)"
    )
    if "bytes_dry_run" in out:
        print(f"emulator dry-run bytes: {out['bytes_dry_run']:,}")
    print(
        f"CPU s: statement {out['cpu_statement_s']:.1f}"
        + (f", building the table {out['cpu_build_s']:.1f}" if "cpu_build_s" in out else "")
    )


if __name__ == "__main__":
    main()
