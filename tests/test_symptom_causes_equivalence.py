"""Symptom attribution in near-linear SQL gives what the pairwise rule gives, on any log.

queries/store_symptom_causes.sql groups each instance's causes into failure episodes (bursts and
same-issue cascades) with running sums over sorted streams and finds each symptom's nearest
cause in one sorted stream per instance and per revision;
tests/reference/store_symptom_causes_pairwise.sql states the same rule with joins of rows with
rows (it reuses the shipped query's symptom and cause CTEs). Random logs (few instances,
revisions and instants, so ties, bursts, cascades of one issue, a cause of another issue, boot
look-ahead, service-level entries and the attribution window all come up) go through the real
ingest; each line gets the signature matches the real classifier gives its text (learned once:
classifying costs a second a store); both queries must return the same rows.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.incidents import load_registry
from forensics.incidents.evidence import attribution_params
from forensics.ingest import ingest_texts
from forensics.signatures import classify_store
from forensics.sql import load_query
from forensics.store import Store, open_store

T0 = datetime(2025, 9, 16, 1, 0, tzinfo=UTC)
REFERENCE = Path(__file__).parent / "reference" / "store_symptom_causes_pairwise.sql"
SHIPPED = load_query("store_symptom_causes").sql
# The shipped query's own pairing lies between these two; the reference replaces it.
_PAIRING = SHIPPED.index("-- Episodes, step 1")
_ANSWER = SHIPPED.index('SELECT s."timestamp", s.log_name, s.insert_id, s.signature')

# Real wording: two symptoms, causes of #1278 (and #1263), one of #131, a typed and an untyped
# error.
DB_TIMEOUT = "SMD phase 3 (DATABASE) failed: Database initialization timeout after 20.0s"
MODULE = "Middleware setup failure details: ModuleNotFoundError: No module named 'x.monitoring'"
SOCKET = (
    "Cloud SQL connection failed. Please see https://cloud.google.com/sql/docs/postgres/"
    "connect-run for additional details: dial error: failed to dial (connection name = "
    '"p:us-central1:db"): connection to Cloud SQL instance at 10.45.0.3:3307 failed: '
    "timed out after 10s"
)
OOM = "Memory limit of 512 MiB exceeded with 530 MiB used."
TEXTS = {
    "exit": ("varlog%2Fsystem", "WARNING", "Container called exit(3)."),
    "db": ("stderr", "ERROR", DB_TIMEOUT),
    "socket": ("varlog%2Fsystem", "ERROR", SOCKET),
    "oom": ("varlog%2Fsystem", "ERROR", OOM),
    "module": ("stderr", "ERROR", MODULE),
    "plain": ("stderr", "ERROR", "worker crashed"),
    "info": ("stdout", "INFO", "request served"),
}


def _entry(
    n: int, seconds: int, kind: str, instance: str | None, revision: str, service: str
) -> str:
    labels = {"service_name": service}
    if revision:
        labels["revision_name"] = revision
    body: dict[str, Any] = {
        "timestamp": (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z"),
        "insertId": f"e{n:03d}",
        "resource": {"type": "cloud_run_revision", "labels": labels},
    }
    if kind == "503":
        body.update(
            logName="projects/p/logs/run.googleapis.com%2Frequests",
            severity="ERROR",
            textPayload="The request failed because either the HTTP response was malformed or "
            "connection to the instance had an error.",
            httpRequest={"requestMethod": "GET", "requestUrl": "https://a/x", "status": 503},
        )
    else:
        log, severity, text = TEXTS[kind]
        body.update(
            logName=f"projects/p/logs/run.googleapis.com%2F{log}",
            severity=severity,
            textPayload=text,
        )
    if instance:
        body["labels"] = {"instanceId": instance}
    return json.dumps(body)


_line = st.tuples(
    # seconds: ties, bursts (2 s), cascades (5 min), boot look-ahead (1 min)
    st.sampled_from([0, 1, 2, 3, 30, 61, 62, 200, 290, 301, 400, 700]),
    st.sampled_from(["exit", "503", "db", "socket", "oom", "module", "plain", "info"]),
    st.sampled_from([None, "i-1", "i-2"]),
    st.sampled_from(["", "svc-a-00001-aaa", "svc-a-00002-bbb"]),
    st.sampled_from(["svc-a", "svc-b"]),
)


@functools.cache
def _matches_by_kind() -> dict[str, list[tuple[str, bool]]]:
    """kind -> [(signature, is_primary)] as the real classifier matches that kind's line."""
    kinds = [*TEXTS, "503"]
    lines = [_entry(n, 0, kind, "i-1", "svc-a-00001-aaa", "svc-a") for n, kind in enumerate(kinds)]
    with open_store(":memory:") as store:
        ingest_texts(store, lines, "test")
        classify_store(store)
        rows = store.conn.execute("SELECT insert_id, signature, is_primary FROM signature_matches")
        found: dict[str, list[tuple[str, bool]]] = {kind: [] for kind in kinds}
        for insert_id, signature, primary in rows.fetchall():
            found[kinds[int(insert_id[1:])]].append((signature, primary))
    # symptoms, and causes of #1278 and of #131
    assert all(found[k] for k in ("exit", "503", "db", "socket", "oom")), found
    return found


def _classify(store: Store, lines: list[tuple[Any, ...]]) -> None:
    """Copy each line's matches from _matches_by_kind, with the entry's own facts."""
    for n, (_, kind, *_rest) in enumerate(lines):
        for signature, primary in _matches_by_kind()[kind]:
            store.conn.execute(
                'INSERT INTO signature_matches SELECT e."timestamp", e.log_name, e.insert_id, '
                "?, ?, e.service, e.revision, e.instance_id, e.trace, NULL, 'test' "
                "FROM entries AS e WHERE e.insert_id = ?",
                [signature, primary, f"e{n:03d}"],
            )


def _rows(store: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(store.conn.execute(sql, params).fetchall(), key=repr)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line, min_size=1, max_size=25))
def test_near_linear_attribution_equals_the_pairwise_rule(lines: list[tuple[Any, ...]]) -> None:
    params = attribution_params(T0 + timedelta(hours=1), load_registry(None))
    with open_store(":memory:") as store:
        ingest_texts(store, [_entry(n, *line) for n, line in enumerate(lines)], "test")
        _classify(store, lines)
        shipped = _rows(store, SHIPPED, params)
        pairwise = SHIPPED[:_PAIRING] + REFERENCE.read_text() + SHIPPED[_ANSWER:]
        reference = _rows(store, pairwise, params)
    assert shipped == reference
