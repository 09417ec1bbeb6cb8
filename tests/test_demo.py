"""Tests for forensics.demo: shape, determinism, streaming exports and the planted ground truth."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from forensics.demo import (
    DEMO_PROJECT,
    generate_entries,
    generate_time_series,
    planted_entry_count,
    scenario,
    write_export,
)
from forensics.demo.metrics import UTIL_BUCKETS, distribution

END = datetime(2025, 9, 16, 12, 0, tzinfo=UTC)
N = 20_000
SIGNATURES = {
    "cloudsql/socket-failure",
    "startup/db-init-timeout",
    "startup/exit-code-3",
    "cloudrun/http-503",
    "websocket/handshake-race",
    "auth/timeout",
    "cloudrun/startup-probe-failed",
    "cloudrun/memory-limit-exceeded",
    "cloudsql/too-many-clients",
}
PAYLOADS = ("textPayload", "jsonPayload", "protoPayload")


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    return list(generate_entries(N, end=END))


@pytest.fixture(scope="module")
def truth():
    return scenario(END)


def ts(entry: dict) -> datetime:
    return datetime.fromisoformat(entry["timestamp"])


def text(entry: dict) -> str:
    if "textPayload" in entry:
        return entry["textPayload"]
    if "jsonPayload" in entry:
        return str(entry["jsonPayload"].get("message", ""))
    return ""


def instance(entry: dict) -> str | None:
    return entry.get("labels", {}).get("instanceId")


# --- shape -------------------------------------------------------------------------------


def test_exact_count_and_determinism(entries: list[dict]) -> None:
    assert len(entries) == N
    again = list(generate_entries(N, end=END))
    assert again == entries
    other_seed = list(generate_entries(N, end=END, seed=7))
    assert len(other_seed) == N and other_seed != entries


@pytest.mark.parametrize("hours", [1, 2, 24, 30])
def test_counts_and_window_for_other_sizes(hours: int) -> None:
    minimum = planted_entry_count(END, hours)
    for n in (minimum, minimum + 333):
        got = list(generate_entries(n, end=END, hours=hours))
        assert len(got) == n
        start = END - timedelta(hours=hours)
        assert all(start <= ts(e) < END for e in got)
    with pytest.raises(ValueError):
        generate_entries(minimum - 1, end=END, hours=hours)


def test_timestamps_ascending_inside_window(entries: list[dict]) -> None:
    stamps = [ts(e) for e in entries]
    assert stamps == sorted(stamps)
    assert stamps[0] >= END - timedelta(hours=24)
    assert stamps[-1] < END
    assert all(e["timestamp"].endswith("Z") for e in entries)


def test_default_end_is_now_truncated_to_minute() -> None:
    truth = scenario()
    assert truth.window_end.second == 0 and truth.window_end.microsecond == 0
    assert datetime.now(UTC) - truth.window_end < timedelta(minutes=2)


def test_every_entry_is_a_well_formed_log_entry(entries: list[dict]) -> None:
    for e in entries:
        assert e["logName"].startswith(f"projects/{DEMO_PROJECT}/logs/")
        log_id = e["logName"].split("/logs/", 1)[1]
        assert "/" not in log_id and "%2F" in log_id
        assert e["resource"]["type"] and isinstance(e["resource"]["labels"], dict)
        assert e["insertId"]
        payloads = [k for k in PAYLOADS if k in e]
        assert len(payloads) <= 1, e
        assert payloads or "httpRequest" in e, e
        if "httpRequest" in e:
            req = e["httpRequest"]
            assert isinstance(req["status"], int)
            assert req["latency"].endswith("s") and isinstance(req["responseSize"], str)
            assert req["remoteIp"].startswith(("203.0.113.", "198.51.100."))
            assert e["trace"].startswith(f"projects/{DEMO_PROJECT}/traces/")
            assert len(e["spanId"]) == 16
        if e["resource"]["type"] == "cloud_run_revision" and "protoPayload" not in e:
            assert e["resource"]["labels"]["revision_name"].startswith(
                e["resource"]["labels"]["service_name"]
            )
            assert len(instance(e) or "") > 100  # request, system and app lines name the instance


def test_insert_ids_unique(entries: list[dict]) -> None:
    ids = [e["insertId"] for e in entries]
    assert len(set(ids)) == len(ids)


def test_all_resource_and_log_kinds_present(entries: list[dict]) -> None:
    logs = {e["logName"].split("/logs/")[1] for e in entries}
    assert {
        "run.googleapis.com%2Fstdout",
        "run.googleapis.com%2Fstderr",
        "run.googleapis.com%2Frequests",
        "run.googleapis.com%2Fvarlog%2Fsystem",
        "cloudsql.googleapis.com%2Fpostgres.log",
        "cloudaudit.googleapis.com%2Factivity",
        "cloudaudit.googleapis.com%2Fsystem_event",
    } <= logs
    kinds = {e["resource"]["type"] for e in entries}
    assert kinds == {"cloud_run_revision", "cloudsql_database", "vpc_access_connector"}
    services = {e["resource"]["labels"].get("service_name") for e in entries}
    assert {"netra-backend-staging", "netra-auth-service", "netra-frontend-staging"} <= services
    sql = [e for e in entries if e["resource"]["type"] == "cloudsql_database"]
    assert all(
        e["resource"]["labels"]["database_id"] == "netra-staging:staging-shared-postgres"
        for e in sql
    )
    assert all(" db=" in e["textPayload"] and ",user=" in e["textPayload"] for e in sql)


# --- exports -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,fmt",
    [("x.ndjson", "ndjson"), ("x.json", "json"), ("x.ndjson.gz", "ndjson"), ("x.json.gz", "json")],
)
def test_export_round_trip(tmp_path, name: str, fmt: str) -> None:
    n = planted_entry_count(END, 2) + 200
    path = tmp_path / name
    assert write_export(path, n, end=END, hours=2, fmt=fmt) == n
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    body = raw.decode("utf-8")
    if fmt == "ndjson":
        got = [json.loads(line) for line in body.splitlines()]
        assert body.endswith("\n") and len(body.splitlines()) == n
    else:
        got = json.loads(body)
        assert body.startswith('[\n  {\n    "')  # gcloud style: 2-space indent
    assert got == list(generate_entries(n, end=END, hours=2))


def test_gzip_export_is_reproducible(tmp_path) -> None:
    n = planted_entry_count(END, 1) + 10
    a, b = tmp_path / "a.ndjson.gz", tmp_path / "b.ndjson.gz"
    write_export(a, n, end=END, hours=1)
    write_export(b, n, end=END, hours=1)
    assert a.read_bytes() == b.read_bytes()


def test_streaming_memory_stays_small() -> None:
    # Held as a list, 50k entries take ~80 MiB of Python objects; streamed, one hour's plan
    # (~2k small tuples here) stays under 2 MiB. tracemalloc is slow, so n stays modest.
    tracemalloc.start()
    try:
        count = 0
        for _ in generate_entries(50_000, end=END, hours=24):
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


# --- ground truth ------------------------------------------------------------------------


def test_scenario_inside_window(truth) -> None:
    assert truth.window_end == END and truth.window_start == END - timedelta(hours=24)
    keys = {i.key for i in truth.incidents}
    assert keys == {
        "issue-1278-cascade",
        "missing-module-crashloop",
        "issue-372-websocket-race",
        "issue-395-auth-timeout",
        "issue-131-memory",
    }
    seen: set[str] = set()
    for inc in truth.incidents:
        assert truth.window_start <= inc.start < inc.end <= truth.window_end
        assert set(inc.chain) <= SIGNATURES and inc.chain
        assert not seen & set(inc.instance_ids)
        seen |= set(inc.instance_ids)
    assert {i.issue for i in truth.incidents} == {"#1278", "#372", "#395", "#131", None}
    for dep in truth.deploys:
        assert truth.window_start <= dep.time < truth.window_end
    assert scenario(END, 3).incidents[0].start >= END - timedelta(hours=3)


def _first(entries: list[dict], inst: str, predicate) -> datetime:
    return min(ts(e) for e in entries if instance(e) == inst and predicate(e))


def test_1278_cascade_order_per_instance(entries: list[dict], truth) -> None:
    inc = truth.incident("issue-1278-cascade")
    assert inc.issue == "#1278" and inc.chain[0] == "cloudsql/too-many-clients"
    too_many = min(
        ts(e)
        for e in entries
        if "cloudsql" in e["logName"]
        and ("too many clients" in text(e) or "slots are reserved" in text(e))
        and inc.start <= ts(e) < inc.end
    )
    assert len(inc.instance_ids) >= 4
    for inst in inc.instance_ids:
        socket = _first(
            entries, inst, lambda e: 'on socket "/cloudsql/' in text(e) and "failed" in text(e)
        )
        timeout = _first(
            entries, inst, lambda e: "Database initialization timeout after 20.0s" in text(e)
        )
        exit3 = _first(entries, inst, lambda e: text(e) == "Container called exit(3).")
        worker3 = _first(entries, inst, lambda e: "exited with code 3" in text(e))
        http503 = _first(entries, inst, lambda e: e.get("httpRequest", {}).get("status") == 503)
        assert too_many < socket < timeout < worker3 < exit3 < http503
        mine = [e for e in entries if instance(e) == inst]
        assert all(inc.start <= ts(e) < inc.end for e in mine)
        assert {e["resource"]["labels"]["revision_name"] for e in mine} == {inc.revision}
    assert any("Cloud SQL connection failed. Please see" in text(e) for e in entries)


def test_missing_module_has_exit_3_but_no_database_cause(entries: list[dict], truth) -> None:
    inc = truth.incident("missing-module-crashloop")
    assert inc.issue is None and inc.revision != truth.incident("issue-1278-cascade").revision
    mine = [e for e in entries if instance(e) in set(inc.instance_ids)]
    assert any("ModuleNotFoundError: No module named" in text(e) for e in mine)
    assert any(text(e) == "Container called exit(3)." for e in mine)
    assert any(e.get("httpRequest", {}).get("status") == 503 for e in mine)
    assert not any("/cloudsql/" in text(e) or "initialization timeout" in text(e) for e in mine)


def test_auth_timeouts_stop_at_the_fixing_deploy(entries: list[dict], truth) -> None:
    fix = next(d for d in truth.deploys if d.fixes == "#395")
    assert fix.service == "netra-auth-service" and fix.old_revision != fix.new_revision
    hits = [
        e
        for e in entries
        if "timed out after 0.5s" in text(e) or "Auth service unreachable after" in text(e)
    ]
    assert len(hits) > 50
    assert max(ts(e) for e in hits) < fix.time
    inc = truth.incident("issue-395-auth-timeout")
    assert all(instance(e) in inc.instance_ids for e in hits)


def test_other_incidents_are_present(entries: list[dict], truth) -> None:
    by_instance: dict[str, list[str]] = defaultdict(list)
    for e in entries:
        if instance(e):
            by_instance[instance(e)].append(text(e))
    ws = truth.incident("issue-372-websocket-race")
    ws_text = [t for i in ws.instance_ids for t in by_instance[i]]
    assert any('Need to call "accept" first' in t for t in ws_text)
    assert any("never reached ready state" in t for t in ws_text)
    mem = truth.incident("issue-131-memory")
    mem_text = [t for i in mem.instance_ids for t in by_instance[i]]
    assert any(t.startswith("Memory limit of 512 MiB exceeded with 519 MiB used") for t in mem_text)
    assert any(t == "Container terminated on signal 9." for t in mem_text)
    assert any(
        t.startswith("Default STARTUP TCP probe failed 1 time consecutively") for t in mem_text
    )


def test_deploys_are_audited_with_template_drift(entries: list[dict], truth) -> None:
    calls = [
        e
        for e in entries
        if e.get("protoPayload", {}).get("methodName")
        == "google.cloud.run.v1.Services.ReplaceService"
    ]
    assert len(calls) == len(truth.deploys)
    assert [ts(e) for e in calls] == [d.time for d in truth.deploys]
    backend = [
        e["protoPayload"]["request"]["service"]["spec"]["template"]
        for e in calls
        if e["resource"]["labels"]["service_name"] == "netra-backend-staging"
    ]
    envs = [{v["name"] for v in t["spec"]["containers"][0]["env"]} for t in backend]
    images = [t["spec"]["containers"][0]["image"] for t in backend]
    assert "SENTRY_DSN" in envs[0] and "SENTRY_DSN" not in envs[1]
    assert len(set(images)) == len(images)
    annotations = backend[0]["metadata"]["annotations"]
    assert annotations["run.googleapis.com/vpc-access-connector"].endswith("staging-connector")
    ready = [
        e["protoPayload"]["status"]["message"] for e in entries if "system_event" in e["logName"]
    ]
    assert any(
        m.startswith(
            "Ready condition status changed to False for Revision netra-backend-staging-00411"
        )
        for m in ready
    )
    assert any(m.startswith("Ready condition status changed to True for Revision") for m in ready)
    vpc = [e for e in entries if e["resource"]["type"] == "vpc_access_connector"]
    assert vpc and all(
        e["resource"]["labels"]["connector_name"] == "staging-connector" for e in vpc
    )


def test_benign_look_alikes_exist_outside_incidents(entries: list[dict], truth) -> None:
    planted = {i for inc in truth.incidents for i in inc.instance_ids}
    normal = [e for e in entries if instance(e) not in planted]
    texts = [text(e) for e in normal]
    assert any(
        "/cloudsql/netra-staging:us-central1:staging-shared-postgres/.s.PGSQL.5432" in t
        for t in texts
    )
    assert any("Configured DB timeout: 75.0s" in t for t in texts)
    assert any("probe succeeded after 1 attempt" in t for t in texts)
    assert any("\x1b[" in t and "INFO" in t for t in texts)
    assert any(400 <= e.get("httpRequest", {}).get("status", 0) < 500 for e in normal)
    assert any(e.get("httpRequest", {}).get("status") == 101 for e in normal)
    assert not any(e.get("httpRequest", {}).get("status", 0) >= 500 for e in normal)
    assert not any("exit(3)" in t or "Memory limit of" in t for t in texts)


# --- time series -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def series() -> list[dict]:
    return generate_time_series(END)


def _points(series: list[dict], metric: str, service: str | None = None, **labels: str):
    for s in series:
        if (
            s["metric"]["type"] == metric
            and all(s["metric"]["labels"].get(k) == v for k, v in labels.items())
            and service in (None, s["resource"]["labels"].get("service_name"))
        ):
            for p in s["points"]:
                yield datetime.fromisoformat(p["interval"]["endTime"]), p["value"]


def test_time_series_shape(series: list[dict]) -> None:
    assert series == generate_time_series(END)
    assert len(series) >= 20 and sum(len(s["points"]) for s in series) < 60_000
    for s in series:
        assert {"metric", "resource", "metricKind", "valueType", "unit", "points"} <= s.keys()
        ends = [p["interval"]["endTime"] for p in s["points"]]
        assert ends == sorted(ends, reverse=True)  # newest first
        for p in s["points"]:
            start = datetime.fromisoformat(p["interval"]["startTime"])
            end = datetime.fromisoformat(p["interval"]["endTime"])
            assert END - timedelta(hours=24) <= start <= end <= END
            assert (
                (end - start == timedelta(minutes=1))
                if s["metricKind"] == "DELTA"
                else (start == end)
            )
            if s["valueType"] == "INT64":
                assert isinstance(p["value"]["int64Value"], str)
            if s["valueType"] == "DISTRIBUTION":
                dist = p["value"]["distributionValue"]
                assert sum(int(c) for c in dist["bucketCounts"]) == int(dist["count"])


def test_time_series_follow_incidents(series: list[dict], truth) -> None:
    cascade, memory = truth.incident("issue-1278-cascade"), truth.incident("issue-131-memory")

    def during(inc, t):
        return inc.start < t <= inc.end

    backends = [
        int(v["int64Value"])
        for t, v in _points(
            series,
            "cloudsql.googleapis.com/database/postgresql/num_backends",
            database="netra_staging",
        )
        if during(cascade, t)
    ]
    assert backends and min(backends) >= 95
    quiet = [
        int(v["int64Value"])
        for t, v in _points(
            series,
            "cloudsql.googleapis.com/database/postgresql/num_backends",
            database="netra_staging",
        )
        if not during(cascade, t)
    ]
    assert max(quiet) < 80
    five = [
        t for t, v in _points(series, "run.googleapis.com/request_count", response_code_class="5xx")
    ]
    assert sum(during(cascade, t) for t in five) >= 40
    assert all(any(during(i, t) for i in truth.incidents) for t in five)
    mem = [
        v["distributionValue"]["mean"]
        for t, v in _points(
            series, "run.googleapis.com/container/memory/utilizations", "netra-backend-staging"
        )
        if during(memory, t)
    ]
    assert mem and min(mem) > 0.95
    vpc = [
        v["distributionValue"]["mean"]
        for t, v in _points(series, "vpcaccess.googleapis.com/connector/cpu/utilizations")
        if during(cascade, t)
    ]
    assert min(vpc) > 80


def test_distribution_buckets() -> None:
    dist = distribution([0.005, 0.5, 0.99, 1.5], UTIL_BUCKETS)
    counts = [int(c) for c in dist["bucketCounts"]]
    assert dist["count"] == "4" and counts[0] == 1 and counts[-1] == 1 and sum(counts) == 4
