"""collect --bigquery brings home what the analysis needs, bounded whatever the volume.

A sink holding a crash loop (every instance logging the same known failure and its startup lines
many times a minute) and unknown errors of a few templates, loaded into the real BigQuery
emulator, is collected with small caps: every matched entry comes home whole (the matches equal
the DuckDB path's), the context lines stay within their caps, and the unknown errors come home as
a sample plus counts from which the miner finds exactly the templates a whole store gives.
The last two tests check the caps and the miner on the statement's DuckDB spelling alone (fast,
no emulator); the emulator's rows equal that spelling's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from forensics.bigquery.client import bigquery_client
from forensics.bigquery.collect import BigQueryRequest, collect_bigquery
from forensics.bigquery.shapes import sink_round_trip
from forensics.bigquery.source import parse_source
from forensics.bigquery.statements import Caps, entries_sql
from forensics.ingest import ingest_texts
from forensics.signatures.catalog import load_catalog
from forensics.signatures.classify import classify_store
from forensics.signatures.dialect import DUCKDB
from forensics.signatures.mining import mine_templates
from forensics.store import Store, open_store
from forensics.timeutil import Window
from tests import bqemu

START = datetime(2025, 9, 16, 14, tzinfo=UTC)
WINDOW = Window(START - timedelta(hours=1), START + timedelta(hours=2))
CAPS = Caps(
    candidates_per_template=2, context_seconds=30, context_per_minute=3, context_per_revision=25
)
CRASH = "[2024-11-05 09:25:59 +0000] [16] [CRITICAL] WORKER TIMEOUT (pid:17)"
UNKNOWN = ("ledger sync", "thumbnail resize", "webhook delivery")


def _entry(n: int, at: datetime, service: str, instance: str, log: str, **body: Any) -> Any:
    return {
        "logName": f"projects/p/logs/run.googleapis.com%2F{log}",
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "insertId": f"e{n:06d}",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": service, "revision_name": f"{service}-00001-abc"},
        },
        "labels": {"instanceId": instance},
        **body,
    }


def crash_loop_sink() -> list[dict[str, Any]]:
    """Four instances crash-looping for five minutes (a crash and a startup line every 2 s
    each), unknown errors of three templates on two services, and quiet traffic."""
    entries: list[dict[str, Any]] = []
    for second in range(0, 300, 2):
        for i in range(4):
            at = START + timedelta(seconds=second, milliseconds=10 * i)
            entries.append(_entry(len(entries), at, "api", f"i{i}", "stderr", textPayload=CRASH))
            entries.append(
                _entry(
                    len(entries),
                    at + timedelta(milliseconds=5),
                    "api",
                    f"i{i}",
                    "stdout",
                    textPayload=f"Booting worker with pid: {second * 10 + i}",
                )
            )
    for k in range(60):
        service = ("jobs", "mailer")[k % 2]
        words = UNKNOWN[k % 3]
        at = START + timedelta(minutes=k, seconds=7)
        entries.append(
            _entry(
                len(entries),
                at,
                service,
                "w1",
                "stderr",
                severity="ERROR",
                textPayload=f"unhandled {words} failure for job {1000 + k}",
            )
        )
        entries.append(
            _entry(
                len(entries), at + timedelta(seconds=1), service, "w1", "stdout", textPayload="ok"
            )
        )
    return entries


def _matches(store: Store) -> set[tuple[Any, ...]]:
    rows = store.conn.execute(
        'SELECT "timestamp", log_name, insert_id, signature, is_primary, params::VARCHAR '
        "FROM signature_matches"
    ).fetchall()
    return set(rows)


def _templates(store: Store) -> list[tuple[Any, ...]]:
    return [
        (t.template, t.count, t.first_seen, t.last_seen, t.services, t.example_insert_id)
        for t in mine_templates(store, WINDOW.since, WINDOW.until)
    ]


@pytest.fixture(scope="module")
def collected(bq_emulator: bqemu.Emulator) -> dict[str, Any]:
    entries = crash_loop_sink()
    client = bigquery_client(bq_emulator.project, bq_emulator.endpoint)
    bqemu.load(client, f"{bq_emulator.project}.crashsink", entries, "sink")
    request = BigQueryRequest(
        parse_source("p.crashsink"), WINDOW, bq_emulator.project, caps=CAPS, timeout_s=900
    )
    out: dict[str, Any] = {}
    with open_store(":memory:") as store:
        report = collect_bigquery(store, request, client=client)
        assert report.status == "complete", report.error
        out["report"] = report
        out["matches"] = _matches(store)
        out["templates"] = _templates(store)
        out["context"] = store.conn.execute(
            "SELECT service, revision, instance_id, date_trunc('minute', \"timestamp\") AS m, "
            "count(*) FROM log_entries WHERE log_id = 'run.googleapis.com/stdout' GROUP BY ALL"
        ).fetchall()
        out["unknown_stored"] = store.conn.execute(
            "SELECT service, count(*) FROM log_entries WHERE severity = 'ERROR' GROUP BY 1"
        ).fetchall()
    with open_store(":memory:") as full:  # the DuckDB path: every entry, classified locally
        texts = [json.dumps(e) for e in sink_round_trip(entries)]
        assert ingest_texts(full, texts, "corpus").rejected == 0
        classify_store(full, load_catalog())
        out["want_matches"] = _matches(full)
        out["want_templates"] = _templates(full)
    out["rows"] = len(entries)
    return out


def test_every_matched_entry_comes_home_whole(collected: dict[str, Any]) -> None:
    assert len(collected["want_matches"]) >= 600  # 4 instances x 150 crashes
    assert collected["matches"] == collected["want_matches"]
    assert collected["report"].disagreements == []


def test_context_lines_stay_within_their_caps(collected: dict[str, Any]) -> None:
    report = collected["report"]
    crash_context = sum(n for service, *_, n in collected["context"] if service == "api")
    # 600 startup lines sit within context_seconds of a crash: the revision cap holds
    assert crash_context == CAPS.context_per_revision
    assert all(n <= CAPS.context_per_minute for *_, n in collected["context"])
    assert report.transferred["context"] <= CAPS.context_per_revision * 3  # three revisions


def test_unknown_errors_come_home_as_a_sample_and_counts(collected: dict[str, Any]) -> None:
    report = collected["report"]
    # each template's first per service and its first in every hour (the window spans 3 hours)
    assert all(n <= 3 * CAPS.candidates_per_template for _, n in collected["unknown_stored"])
    assert report.counted_entries == 60 - report.transferred["candidate"] > 0
    assert collected["templates"] == collected["want_templates"]
    assert sum(t[1] for t in collected["want_templates"]) == 60


def test_what_comes_home_is_a_small_share_of_the_sink(collected: dict[str, Any]) -> None:
    report = collected["report"]
    assert report.scanned_rows == collected["rows"]
    moved = report.transferred["match"] + report.transferred["context"]
    assert moved + report.transferred["candidate"] < collected["rows"] / 2


def test_the_duckdb_spelling_brings_home_the_same_rows(collected: dict[str, Any]) -> None:
    """The benchmark's DuckDB spelling of the entries statement (the same generator) picks
    the rows the emulator's GoogleSQL picked."""
    with open_store(":memory:") as store:
        texts = [json.dumps(e) for e in sink_round_trip(crash_loop_sink())]
        ingest_texts(store, texts, "corpus")
        sql = entries_sql("", load_catalog(), CAPS, dialect=DUCKDB, carried=())
        kinds = dict(
            store.conn.execute(
                f"SELECT kind, count(*) FROM ({sql}) WHERE kind != 'counted' GROUP BY 1"
            ).fetchall()
        )
    assert kinds == collected["report"].transferred


def test_a_sample_and_counts_mine_the_templates_of_the_whole_store() -> None:
    """Without the emulator: the entries the DuckDB spelling picks, stored with its counts in
    ``unexplained_counts``, give the miner the templates every entry gives."""
    entries = sink_round_trip(crash_loop_sink())
    with open_store(":memory:") as full:
        ingest_texts(full, [json.dumps(e) for e in entries], "corpus")
        classify_store(full, load_catalog())
        want = _templates(full)
        sql = entries_sql("", load_catalog(), CAPS, dialect=DUCKDB, carried=())
        picked = full.conn.execute(
            f'SELECT kind, insert_id, masked, miner_service, entries, "timestamp", last_seen '
            f"FROM ({sql})"
        ).fetchall()
    kept = {row[1] for row in picked if row[0] != "counted"}
    counted = [row for row in picked if row[0] == "counted"]
    assert counted and len(kept) < len(entries) / 2
    with open_store(":memory:") as home:
        texts = [json.dumps(e) for e in entries if e["insertId"] in kept]
        ingest_texts(home, texts, "bigquery:p.crashsink")
        home.conn.executemany(
            "INSERT INTO unexplained_counts VALUES ('bigquery:p.crashsink', "
            "date_trunc('minute', ?::TIMESTAMPTZ), ?, ?, ?, ?, ?)",
            [[r[5], r[3], r[2], r[4], r[5], r[6]] for r in counted],
        )
        classify_store(home, load_catalog())
        assert _templates(home) == want
    assert sum(t[1] for t in want) == 60


def test_the_caps_hold_in_the_statement_itself() -> None:
    """Without the emulator: the entries statement (DuckDB spelling) over the crash loop keeps
    every primary match, and at most the caps of context lines (per revision, per instance and
    minute), though 600 startup lines lie within context_seconds of a crash."""
    with open_store(":memory:") as store:
        texts = [json.dumps(e) for e in sink_round_trip(crash_loop_sink())]
        ingest_texts(store, texts, "corpus")
        classify_store(store, load_catalog())
        primaries = store.scalar("SELECT count(*) FROM signature_matches WHERE is_primary")
        sql = entries_sql("", load_catalog(), CAPS, dialect=DUCKDB, carried=())
        picked = store.conn.execute(
            f"SELECT p.kind, e.service, e.instance_id, date_trunc('minute', e.\"timestamp\") "
            f"FROM ({sql}) AS p JOIN log_entries AS e USING (insert_id) WHERE p.kind != 'counted'"
        ).fetchall()
    assert sum(kind == "match" for kind, *_ in picked) == primaries >= 600
    context = [(s, i, m) for kind, s, i, m in picked if kind == "context" and s == "api"]
    assert len(context) == CAPS.context_per_revision
    assert max(context.count(cell) for cell in set(context)) <= CAPS.context_per_minute
