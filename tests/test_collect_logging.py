"""The Logging collector with google-cloud-logging against the emulator: paging, pushdown,
quota, faults, gaps, overlapping windows, credentials and the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.clock import FastForwardClock
from forensics.collectors.auth import google_credentials
from forensics.collectors.filters import MAX_FILTER_CHARS, log_sources
from forensics.collectors.logging_api import _check_version
from forensics.collectors.packing import filter_budget, pack
from forensics.config import Resources
from forensics.emulator.faults import FaultPlan
from forensics.emulator.filter_parser import parse_filter
from forensics.emulator.server import Emulator, EmulatorSettings
from forensics.errors import CollectError, ConfigError, CredentialsError
from forensics.store import Store, open_store
from tests import gcp_data as g

N = 6_000
ENTRIES = list(g.day(N))


def emulator(**faults: object) -> Emulator:
    plan = FaultPlan(**faults)  # type: ignore[arg-type]
    settings = EmulatorSettings(logging_faults=plan, monitoring_faults=FaultPlan())
    return Emulator(ENTRIES, clock=FastForwardClock(), settings=settings)


def _bodies(em: Emulator) -> list[dict[str, object]]:
    return list(em.logging.requests)


def test_full_pull_gets_every_entry_once_over_many_pages(store: Store) -> None:
    with emulator() as em:
        report = g.collect_from(store, em, pushdown=False, page_size=500, metrics=False)
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids)) == N
    assert set(ids) == g.ids(ENTRIES)
    assert not report.failed
    run = next(o for o in report.outcomes if o.source == "logging:demo-proj:run")
    in_run_logs = sum(
        1
        for e in ENTRIES
        if e["resource"]["type"] == "cloud_run_revision" and "cloudaudit" not in e["logName"]
    )
    assert run.stored == in_run_logs and run.pages == -(-in_run_logs // 500) > 10
    for body in _bodies(em):
        text = str(body["filter"])
        assert f'timestamp>="{g.START:%Y-%m-%dT%H:%M:%SZ}"' in text  # explicit bounds, always
        assert f'timestamp<"{g.END:%Y-%m-%dT%H:%M:%SZ}"' in text
        assert body["orderBy"] == "timestamp asc" and body["pageSize"] == 500
        parse_filter(text)  # every filter we send is in the documented language
    assert store.scalar("SELECT count(DISTINCT source) FROM entries") == 3  # run, audit, sql


def test_pushdown_pulls_the_candidates_with_fewer_calls(store: Store, tmp_path: Path) -> None:
    with emulator() as em:
        report = g.collect_from(store, em, metrics=False)
    expected = {
        (e["logName"], e["insertId"])
        for e in ENTRIES
        if e["insertId"].split("-")[0] in g.CANDIDATE_KINDS
    }
    assert set(g.stored_ids(store)) == expected
    with emulator() as em, open_store(tmp_path / "full.duckdb") as full:
        full_report = g.collect_from(full, em, pushdown=False, metrics=False)
    assert report.logging_calls.calls < full_report.logging_calls.calls


def test_context_pull_adds_the_lines_around_errors(store: Store) -> None:
    quiet = [e for e in ENTRIES if not e["insertId"].startswith(("error", "request5xx"))]
    boom = g.START + timedelta(hours=5)
    crash = [
        g.entry(1, boom, "error"),
        g.entry(2, boom + timedelta(seconds=5), "stdout"),
        g.entry(3, boom + timedelta(seconds=50), "stdout"),
    ]
    with Emulator(quiet + crash, clock=FastForwardClock()) as em:
        g.collect_from(store, em, metrics=False, context_seconds=30.0)
    ids = {i for _, i in g.stored_ids(store)}
    assert "stdout-0000002" in ids  # 5 s after the error: context
    assert "stdout-0000003" not in ids  # 50 s after: outside ±30 s
    assert not any(i.startswith("stdout") and i != "stdout-0000002" for i in ids)


@dataclass(frozen=True)
class Sig:
    """A catalog signature as the collector sees it (the real catalog ships on branch sigs)."""

    id: str
    clause: str

    def pushdown_filter(self, coarse: bool = False) -> str:
        return self.clause


def test_signature_clauses_join_the_pushdown_filter(store: Store) -> None:
    sig = Sig("app/job-4275", 'jsonPayload.message:"handled job 4275"')
    with emulator() as em:
        g.collect_from(store, em, metrics=False, signatures=[sig])
    run_filter = str(em.logging.requests[0]["filter"])
    assert sig.clause in run_filter
    assert "stdout-0004275" in {i for _, i in g.stored_ids(store)}


def test_a_429_storm_and_503_bursts_lose_and_duplicate_nothing(store: Store) -> None:
    with emulator(rate_429=0.4, burst_503_every=4, burst_503_length=2, seed=11) as em:
        report = g.collect_from(
            store, em, pushdown=False, page_size=1000, metrics=False, max_attempts=12
        )
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids)) and set(ids) == g.ids(ENTRIES)
    calls = report.logging_calls
    assert calls.throttled > 0 and calls.unavailable > 0 and calls.retries > 0
    assert not report.failed


def test_dropped_connections_and_slow_pages_are_survived(store: Store) -> None:
    with emulator(drop_rate=0.3, slow_rate=0.5, slow_s=20.0, seed=5) as em:
        report = g.collect_from(store, em, pushdown=False, metrics=False, max_attempts=10)
    assert set(g.stored_ids(store)) == g.ids(ENTRIES)
    assert report.logging_calls.network_errors > 0 and not report.failed


SIX_HOURS = g.START + timedelta(hours=6)
NOBODY = Resources(services=("nobody",), sql_instances=("nobody",), connectors=("nobody",))


def many_empty_pages() -> Emulator:
    """Every call scans 80 entries and matches none: many cheap calls (empty pages + token)."""
    return Emulator(ENTRIES, clock=FastForwardClock(), settings=EmulatorSettings(scan_budget=80))


def test_pacing_alone_keeps_under_the_quota(store: Store) -> None:
    # 55 calls/min plus a burst of 5 never exceed the emulator's 60 in any sliding minute.
    with many_empty_pages() as em:
        report = g.collect_from(
            store, em, pushdown=False, metrics=False, resources=NOBODY, until=SIX_HOURS
        )
    calls = report.logging_calls.calls
    assert calls > 70  # more than a minute's worth
    assert em.logging.quota.refused == 0 and report.logging_calls.throttled == 0
    assert report.elapsed_s >= 60 * (calls - 5) / 55 - 1  # the waits really were taken
    assert not report.failed


def test_pacing_faster_than_the_quota_is_corrected_by_backoff(store: Store) -> None:
    with many_empty_pages() as em:
        report = g.collect_from(
            store,
            em,
            pushdown=False,
            metrics=False,
            resources=NOBODY,
            until=SIX_HOURS,
            calls_per_minute=600.0,
            max_attempts=12,
        )
    assert em.logging.quota.refused > 0 and report.logging_calls.throttled > 0
    assert not report.failed
    ok = [o for o in report.outcomes if o.status == "complete"]
    assert len(ok) == 4


def test_a_source_that_keeps_failing_is_a_data_gap_shown_by_analyze(
    store: Store, tmp_path: Path
) -> None:
    with emulator(outage=("cloudsql_database",)) as em:
        report = g.collect_from(store, em, metrics=False, max_attempts=3)
    assert [o.source for o in report.failed] == ["logging:demo-proj:cloudsql"]
    gaps = store.query('SELECT source, start, "end", reason FROM data_gaps').to_dicts()
    assert len(gaps) == 1 and gaps[0]["start"] == g.START and gaps[0]["end"] == g.END
    assert "503" in gaps[0]["reason"]
    # the other sources were collected in full
    assert store.scalar("SELECT count(*) FROM entries WHERE resource_type = 'cloud_run_revision'")

    db = store.path
    store.conn.close()
    out = CliRunner().invoke(
        app,
        ["analyze", "--db", str(db), "--no-collect", "--hours", "24", "--until", g.END.isoformat()],
    )
    assert out.exit_code == 0, out.output
    assert (
        "incomplete data for logging:demo-proj:cloudsql between 2025-09-15T00:00:00Z "
        "and 2025-09-16T00:00:00Z"
    ) in " ".join(out.output.split())


def test_a_gap_is_cleared_when_a_later_run_collects_it(store: Store) -> None:
    with emulator(outage=("cloudsql_database",)) as em:
        g.collect_from(store, em, metrics=False, max_attempts=2)
    with emulator() as em:
        report = g.collect_from(store, em, metrics=False)
    assert not report.failed
    assert store.scalar("SELECT count(*) FROM data_gaps") == 0
    expected = {
        (e["logName"], e["insertId"])
        for e in ENTRIES
        if e["insertId"].split("-")[0] in g.CANDIDATE_KINDS
    }
    assert set(g.stored_ids(store)) == expected


def test_overlapping_windows_pull_only_what_is_new_and_add_no_duplicates(store: Store) -> None:
    half = g.START + timedelta(hours=12)
    with emulator() as em:
        g.collect_from(store, em, pushdown=False, metrics=False, until=half)
        first_calls = len(em.logging.requests)
        g.collect_from(
            store,
            em,
            pushdown=False,
            metrics=False,
            since=g.START + timedelta(hours=6),
            until=g.END,
        )
        second = em.logging.requests[first_calls:]
        g.collect_from(store, em, pushdown=False, metrics=False)  # the whole day again
        third = em.logging.requests[first_calls + len(second) :]
    assert third == []  # everything is covered: no call at all
    assert all(f'timestamp>="{half:%Y-%m-%dT%H:%M:%SZ}"' in str(b["filter"]) for b in second)
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids)) and set(ids) == g.ids(ENTRIES)


def test_no_credentials_gives_the_one_paragraph(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # never ask a metadata server
    with pytest.raises(CredentialsError) as err:
        google_credentials("netra-staging")
    text = str(err.value)
    for needle in ("gcloud auth application-default login", "forensics ingest", "make demo"):
        assert needle in text


def test_the_private_paging_api_is_pinned_to_the_checked_versions() -> None:
    _check_version("3.17.0")
    for bad in ("4.0.0", "3.9.1", "2.7"):
        with pytest.raises(CollectError):
            _check_version(bad)


def test_cli_collect_and_explain(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    runner = CliRunner()
    with emulator() as em:
        args = [
            "--project",
            g.PROJECT,
            "--hours",
            "24",
            "--until",
            g.END.isoformat(),
            "--logging-endpoint",
            em.logging_endpoint,
            "--monitoring-endpoint",
            em.monitoring_endpoint,
            "--db",
            str(db),
        ]
        explained = runner.invoke(app, ["collect", *args, "--explain", "--json"])
        assert explained.exit_code == 0, explained.output
        assert em.logging.requests == []  # --explain calls nothing
        out = runner.invoke(app, ["collect", *args, "--no-metrics", "--json"])
    assert out.exit_code == 0, out.output
    plan = json.loads(explained.output)
    # a catalog whose Cloud Run filter passes the API limit is pulled as run, run~2, ...
    sources = [s["source"] for s in plan["logging"]]
    assert [s for s in sources if not s.startswith("run~")] == [
        "run",
        "run-audit",
        "cloudsql",
        "connector",
        "run-context",
    ]
    report = json.loads(out.output)
    assert {p["status"] for p in report["pulls"]} == {"complete"}
    assert sum(p["stored"] for p in report["pulls"]) > 0


def test_configured_resources_narrow_the_pull(store: Store) -> None:
    with emulator() as em:
        g.collect_from(
            store,
            em,
            pushdown=False,
            metrics=False,
            resources=Resources(services=("auth",), sql_instances=("other",)),
        )
    services = store.query("SELECT DISTINCT service FROM entries ORDER BY 1")["service"].to_list()
    assert services == ["auth"]


def test_analyze_with_a_project_collects_first(tmp_path: Path) -> None:
    db = tmp_path / "analyze.duckdb"
    with emulator() as em:
        out = CliRunner().invoke(
            app,
            ["analyze", "--hours", "24", "--until", g.END.isoformat(), "--db", str(db)],
            env={"FORENSICS_PROJECT": g.PROJECT, **em.env(), "FORENSICS_CONFIG": ""},
        )
        called = len(em.logging.requests)
    assert out.exit_code == 0, out.output
    assert called >= 4  # one pull per Logging source at least
    text = " ".join(out.output.split())
    assert "collected demo-proj" in text and "entries in the window" in text


def test_pushdown_leaves_4xx_and_config_dumps_to_metrics(store: Store) -> None:
    at = g.START + timedelta(hours=1)
    request = g.entry(1, at, "request")
    entries = [
        request
        | {
            "insertId": "r404",
            "severity": "WARNING",
            "httpRequest": {**request["httpRequest"], "status": 404},
        },
        request
        | {
            "insertId": "r429",
            "severity": "WARNING",
            "httpRequest": {**request["httpRequest"], "status": 429},
        },
        g.entry(2, at, "default_tb")
        | {"insertId": "config", "textPayload": "INFO engine {'pool_timeout': 30}"},
        g.entry(3, at, "default_tb")
        | {"insertId": "timed-out", "textPayload": "auth call timed out after 0.5s"},
    ]
    with Emulator(entries, clock=FastForwardClock()) as em:
        g.collect_from(store, em, metrics=False)
    assert {i for _, i in g.stored_ids(store)} == {"r429", "timed-out"}


def test_a_catalog_too_long_for_one_filter_is_split_not_dropped(store: Store) -> None:
    pad = 'textPayload:"' + "never" * 1_100 + '"'  # one 5,500-character clause
    sigs = [Sig(f"pad/{k}", pad) for k in range(5)]
    sigs.append(Sig("app/job-4275", 'jsonPayload.message:"handled job 4275"'))
    sources = log_sources(g.PROJECT, Resources(), pushdown=True, signatures=sigs)
    runs = [s for s in sources if s.key == "run" or s.key.startswith("run~")]
    assert len(runs) >= 2
    assert all(len(s.filter([(g.START, g.END)])) <= MAX_FILTER_CHARS for s in runs)
    assert sum(s.filter([(g.START, g.END)]).count(pad) for s in runs) == 5  # none dropped
    with emulator() as em:
        g.collect_from(store, em, metrics=False, signatures=sigs)
    ids = g.stored_ids(store)
    assert len(ids) == len(set(ids))
    assert "stdout-0004275" in {i for _, i in ids}  # its clause sits in the last filter
    with pytest.raises(ConfigError, match="signature huge"):
        log_sources(
            g.PROJECT,
            Resources(),
            pushdown=True,
            signatures=[Sig("huge", "textPayload:" + "x" * 20_000)],
        )


def test_pushdown_pulls_a_failure_kept_only_in_structured_error_fields(store: Store) -> None:
    """The pushdown reads the error fields match text reads (one list, matchtext's): a
    DEFAULT line whose `msg` is neutral and whose failure sits in `error`/`err.message` is
    pulled and classified; the same payload at INFO (whose error fields match text ignores) is
    left on the server. A neutral DEFAULT line with its text under `msg` is pulled too (the
    signatures' clauses read the usual message fields only: logfilter.other_text_clause) and
    matches nothing; one with its text under `message` is left on the server."""
    from forensics.signatures import load_catalog
    from forensics.signatures.classify import classify_store

    at = g.START + timedelta(hours=2)
    base = g.entry(1, at, "default_tb")
    del base["textPayload"]
    neutral = {"msg": "request finished", "latency_ms": 12}
    entries = [
        base
        | {
            "insertId": "zerolog",
            "jsonPayload": neutral | {"error": "Auth unreachable after 0.51s"},
        },
        base
        | {
            "insertId": "pino",
            "jsonPayload": neutral | {"err": {"message": "Auth unreachable after 0.51s"}},
        },
        base
        | {
            "insertId": "flat",
            "jsonPayload": neutral | {"error.message": "Auth unreachable after 0.51s"},
        },
        base
        | {
            "insertId": "info",
            "severity": "INFO",
            "jsonPayload": neutral | {"error": "Auth unreachable after 0.51s"},
        },
        base | {"insertId": "plain", "jsonPayload": neutral},
        base | {"insertId": "usual", "jsonPayload": {"message": "request finished"}},
    ]
    catalog = load_catalog()
    with Emulator(entries, clock=FastForwardClock()) as em:
        g.collect_from(store, em, metrics=False, signatures=catalog.active())
    assert {i for _, i in g.stored_ids(store)} == {"zerolog", "pino", "flat", "plain"}
    classify_store(store, catalog)
    found = dict(
        store.conn.execute("SELECT insert_id, signature FROM signature_matches").fetchall()
    )
    assert found == {"zerolog": "auth/timeout", "pino": "auth/timeout", "flat": "auth/timeout"}


@dataclass(frozen=True)
class _TwoClauses:
    """A signature with a precise clause and a shorter coarse one (keywords)."""

    id: str
    precise: str
    rough: str

    def pushdown_filter(self, coarse: bool = False) -> str:
        return self.rough if coarse else self.precise


def test_precise_clauses_unless_they_cost_a_filter() -> None:
    """Each signature sends its precise clause while the filters stay as few as the coarse
    clauses need; a filter more, and the clauses that save the most turn coarse."""
    scope, first = 'resource.type="cloud_run_revision"', "(severity>=WARNING)"
    budget = filter_budget(scope)
    short = [
        _TwoClauses(f"s/{i}", f'textPayload=~"{"p" * 900}{i}"', f'textPayload:"k{i}"')
        for i in range(4)
    ]
    roomy = pack(scope, first, short)
    assert len(roomy) == 1 and all(s.precise in roomy[0] for s in short)
    # one filter's worth of precise clauses too many: the coarse ones keep it at one
    wide = [
        _TwoClauses(f"w/{i}", f'textPayload=~"{"q" * (budget // 3)}{i}"', f'textPayload:"w{i}"')
        for i in range(4)
    ]
    packed = pack(scope, first, wide)
    coarse_only = pack(scope, first, [_TwoClauses(s.id, s.rough, s.rough) for s in wide])
    assert len(packed) == len(coarse_only) == 1
    assert any(s.precise in packed[0] for s in wide)  # not every one had to give way
