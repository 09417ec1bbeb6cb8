"""BigQuery path = DuckDB path: the mapping views, the classification, collect --bigquery.

The same entries (every signature example and the real staging export) are loaded into a real
BigQuery emulator as a Log Router sink (date-sharded tables, and partitioned tables) and as a
Log Analytics ``_AllLogs`` table, read through ``forensics.bigquery.source`` with the real
google-cloud-bigquery client, and compared column by column with what ``forensics ingest`` stores.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from forensics.bigquery.client import bigquery_client, run_query
from forensics.bigquery.collect import BigQueryRequest, collect_bigquery
from forensics.bigquery.shapes import drop_nulls, sink_round_trip
from forensics.bigquery.source import discover, entries_ctes, parse_source
from forensics.cli import app
from forensics.ingest import ingest_texts
from forensics.signatures.catalog import load_catalog
from forensics.signatures.classify import classify_store
from forensics.signatures.compile import classification_sql
from forensics.signatures.dialect import BIGQUERY
from forensics.signatures.examples import example_entry
from forensics.store import open_store
from forensics.timeutil import Window
from tests import bqemu
from tests.conftest import REAL_STAGING_ENTRIES

SPREAD = datetime(2025, 1, 1, tzinfo=UTC)
WINDOW = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
PARAMS = [("since", "TIMESTAMP", WINDOW.since), ("until", "TIMESTAMP", WINDOW.until)]
# Compared exactly; json_payload is compared as parsed JSON (engines print JSON differently).
COLUMNS = (
    "severity_number",
    "log_id",
    "resource_type",
    "project_id",
    "service",
    "revision",
    "location",
    "instance_id",
    "trace",
    "http_status",
    "http_method",
    "http_url",
    "http_latency_ms",
    "message",
)


def corpus() -> list[dict[str, Any]]:
    """Every signature example (match and no-match) and the real staging export."""
    entries = []
    for sig in load_catalog().active():
        for kind, items in (("match", sig.examples_match), ("no_match", sig.examples_no_match)):
            entries += [example_entry(sig, kind, i, p) for i, p in enumerate(items)]
    # A minute apart: unrelated examples one second apart on one stream would read as the
    # chunks of one split traceback (forensics.signatures.splittrace).
    for i, entry in enumerate(entries):
        entry["timestamp"] = (SPREAD + timedelta(minutes=i)).isoformat().replace("+00:00", "Z")
    entries += [json.loads(line) for line in REAL_STAGING_ENTRIES.read_text().splitlines()]
    for entry in entries:  # Logging stores a Duration and writes it back with 0/3/6/9 digits
        http = entry.get("httpRequest")
        if isinstance(http, dict) and isinstance(http.get("latency"), str):
            http["latency"] = canonical_duration(http["latency"])
    return entries


def canonical_duration(text: str) -> str:
    """'0.2s' as the Logging API writes it back: '0.200s'."""
    whole, _, frac = text.strip().rstrip("s").partition(".")
    frac = frac.rstrip("0")
    if not frac:
        return f"{whole}s"
    width = 3 if len(frac) <= 3 else 6 if len(frac) <= 6 else 9
    return f"{whole}.{frac.ljust(width, '0')}s"


def stored(entries: list[dict[str, Any]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """What the store holds for the entries: identity -> the compared columns."""
    with open_store(":memory:") as store:
        result = ingest_texts(store, [json.dumps(e) for e in entries], "corpus")
        assert result.rejected == 0
        cols = ", ".join(f'"{c}"' for c in COLUMNS)
        rows = store.conn.execute(
            f'SELECT "timestamp", log_name, insert_id, {cols}, json_payload FROM log_entries'
        ).fetchall()
    return {(r[0], r[1], r[2]): r[3:] for r in rows}


@pytest.fixture(scope="module")
def loaded(bq_emulator: bqemu.Emulator) -> dict[str, Any]:
    entries = corpus()
    client = bigquery_client(bq_emulator.project, bq_emulator.endpoint)
    for dataset, kind in (("sink", "sink"), ("psink", "partitioned"), ("la", "analytics")):
        bqemu.load(client, f"{bq_emulator.project}.{dataset}", entries, kind)
    # A sink keeps user-supplied names lowercased and one type per field; the store compared
    # with it holds the entries as the sink gives them back (the loss is the sink's, see README).
    return {
        "client": client,
        "p.la._AllLogs": stored(entries),
        "p.sink": stored(sink_round_trip(entries)),
        "p.psink": stored(sink_round_trip(entries)),
    }


def _remote(client: Any, text: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    source = parse_source(text)
    cols = ", ".join(f"`{c}`" for c in COLUMNS)
    sql = (
        f"WITH {entries_ctes(discover(client, source, WINDOW))}\n"
        f"SELECT `timestamp`, log_name, insert_id, {cols}, json_payload FROM log_entries"
    )
    rows = run_query(client, sql, PARAMS, 0, 300)
    keys = ("timestamp", "log_name", "insert_id", *COLUMNS, "json_payload")
    return {
        (r["timestamp"], r["log_name"], r["insert_id"]): tuple(r[k] for k in keys[3:]) for r in rows
    }


def _differences(local: dict[Any, Any], remote: dict[Any, Any], payload: bool) -> list[str]:
    """Column differences; ``payload``: compare json_payload too (as parsed JSON)."""
    out = []
    for key, want in local.items():
        got = remote.get(key)
        if got is None:
            out.append(f"{key}: missing")
            continue
        for name, a, b in zip((*COLUMNS, "json_payload"), want, got, strict=True):
            if name == "json_payload" and not payload:
                continue
            if name == "json_payload":  # a sink's RECORD names every field it has seen
                a, b = (drop_nulls(json.loads(x)) if x else None for x in (a, b))
            if name == "http_latency_ms" and a is not None and b is not None:
                a, b = round(a, 6), round(b, 6)
            if a != b:
                out.append(f"{key[2]} {name}: store {a!r} != bigquery {b!r}")
    return out


@pytest.mark.parametrize("text", ["p.la._AllLogs", "p.sink", "p.psink"])
def test_mapping_view_gives_the_store_columns(loaded: dict[str, Any], text: str) -> None:
    remote = _remote(loaded["client"], text)
    assert len(remote) == len(loaded[text])
    # A sink keeps one type per jsonPayload field (another type is stored as its JSON text), so
    # its payload JSON is compared only for _AllLogs; the columns derived from it all are.
    diffs = _differences(loaded[text], remote, payload=text.endswith("_AllLogs"))
    assert diffs == [], f"{len(diffs)} differences:\n" + "\n".join(diffs[:40])


def _local_matches(entries: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """The DuckDB path: ingest, classify, every (identity, signature, primary, params) row."""
    with open_store(":memory:") as store:
        ingest_texts(store, [json.dumps(e) for e in entries], "corpus")
        classify_store(store, load_catalog())
        rows = store.conn.execute(
            'SELECT "timestamp", log_name, insert_id, signature, is_primary, params::VARCHAR '
            "FROM signature_matches"
        ).fetchall()
    return {(*r[:5], _params(r[5])) for r in rows}


def _params(text: str | None) -> str | None:
    return json.dumps(json.loads(text), sort_keys=True) if text else None


@pytest.mark.parametrize("text", ["p.la._AllLogs", "p.sink"])
def test_bigquery_classification_equals_duckdb(loaded: dict[str, Any], text: str) -> None:
    """Every match BigQuery computes (the catalog's GoogleSQL over the mapping view) is the
    one DuckDB computes on the same entries, with the same primary and parameters."""
    client = loaded["client"]
    hits = classification_sql(load_catalog(), "TRUE", dialect=BIGQUERY, source="log_entries")
    ctes = entries_ctes(discover(client, parse_source(text), WINDOW))
    sql = (
        f"WITH {ctes}, hits AS ({hits})\n"
        "SELECT `timestamp`, log_name, insert_id, signature, is_primary, params FROM hits"
    )
    rows = run_query(client, sql, PARAMS, 0, 900)
    remote = {
        (
            r["timestamp"],
            r["log_name"],
            r["insert_id"],
            r["signature"],
            r["is_primary"],
            _params(r["params"]),
        )
        for r in rows
    }
    entries = corpus() if text.endswith("_AllLogs") else sink_round_trip(corpus())
    local = _local_matches(entries)
    assert len(local) > 300  # every match example and the real export's failures
    assert sorted(remote - local, key=str) == []
    assert sorted(local - remote, key=str) == []


def test_collect_bigquery_stores_what_the_duckdb_path_finds(
    loaded: dict[str, Any], bq_emulator: bqemu.Emulator
) -> None:
    """collect --bigquery on a sink: the matches in the store equal the DuckDB path's on the
    whole corpus, the per-minute counts equal the store's own counts of every entry, and only
    matched, candidate and context entries were brought home."""
    past = Window(WINDOW.since, datetime(2026, 1, 1, tzinfo=UTC))  # collected up to now only
    request = BigQueryRequest(parse_source("p.sink"), past, bq_emulator.project, timeout_s=900)
    entries = sink_round_trip(corpus())
    with open_store(":memory:") as store:
        report = collect_bigquery(store, request, client=loaded["client"])
        assert report.status == "complete", report.error
        assert report.disagreements == []
        got = store.conn.execute(
            'SELECT "timestamp", log_name, insert_id, signature, is_primary, params::VARCHAR '
            "FROM signature_matches"
        ).fetchall()
        counts = set(
            store.conn.execute(
                "SELECT minute, service, severity, http_status, resource_type, log_id, entries, "
                "instance_starts FROM minute_counts"
            ).fetchall()
        )
        stored = store.scalar("SELECT count(*) FROM log_entries")
        again = collect_bigquery(store, request, client=loaded["client"])
        assert again.status == "skipped"  # the window is recorded as collected
    assert {(*r[:5], _params(r[5])) for r in got} == _local_matches(entries)
    with open_store(":memory:") as full:
        ingest_texts(full, [json.dumps(e) for e in entries], "corpus")
        want = set(
            full.conn.execute(
                "SELECT date_trunc('minute', \"timestamp\"), service, severity, http_status, "
                "resource_type, log_id, count(*), count(*) FILTER (WHERE log_id = "
                "'run.googleapis.com/varlog/system' AND message LIKE 'Starting new instance%') "
                "FROM log_entries GROUP BY ALL"
            ).fetchall()
        )
    assert counts == want
    assert report.scanned_rows == len(entries)
    assert stored == sum(report.transferred.values()) < len(entries)


def test_collect_bigquery_explain_prints_the_sql_and_the_dry_run(
    loaded: dict[str, Any], bq_emulator: bqemu.Emulator, runner: CliRunner, monkeypatch: Any
) -> None:
    monkeypatch.setenv("FORENSICS_BIGQUERY_ENDPOINT", bq_emulator.endpoint)
    args = ["--bigquery", "p.sink", "--until", "2025-09-17T00:00:00Z", "--hours", "24"]
    out = runner.invoke(app, ["collect", *args, "--explain", "--json"])
    assert out.exit_code == 0, out.output
    plan = json.loads(out.stdout)
    assert plan["source"] == "bigquery:p.sink"
    assert plan["tables"] and all(t.endswith("_20250916") for t in plan["tables"])
    assert [s["name"] for s in plan["statements"]] == ["entries", "counts"]
    assert all("@since" in s["sql"] and "@until" in s["sql"] for s in plan["statements"])
    assert all(isinstance(s["bytes_estimated"], int) for s in plan["statements"])


def test_collect_bigquery_without_credentials_says_how_to_log_in(
    runner: CliRunner, tmp_path: Any, monkeypatch: Any
) -> None:
    for name in ("FORENSICS_BIGQUERY_ENDPOINT", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no gcloud ADC file
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # never ask a metadata server (the network)
    out = runner.invoke(app, ["collect", "--bigquery", "p.sink", "--db", str(tmp_path / "s.db")])
    assert out.exit_code == 2
    assert "gcloud auth application-default login" in out.output
    assert "Traceback" not in out.output
