"""Audit payloads read in DuckDB (queries/store_audit_events.sql) give the events a Python walk of
the parsed payload gives (the reading before 0.5), on any payload shape, and one that is not
JSON is skipped, not fatal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.incidents import deploys
from forensics.incidents.config_diff import run_config
from forensics.sql import run_named
from forensics.store import Store, open_store

T0 = datetime(2025, 9, 16, tzinfo=UTC)
_ACTIVITY = "cloudaudit.googleapis.com/activity"
_SYSTEM = "cloudaudit.googleapis.com/system_event"


def _reference(row: dict[str, Any], payload_text: str | None) -> dict[str, Any] | None:
    """The event as the parsed payload's walk says (the reading before the SQL one)."""
    try:
        payload = json.loads(payload_text or "{}")
    except ValueError:
        return None
    method = str(payload.get("methodName") or "")
    response = payload.get("response") or {}
    labels = (response.get("metadata") or {}).get("labels") or {}
    resource = str(payload.get("resourceName") or "")
    service = (
        row["service"]
        or labels.get("serving.knative.dev/service")
        or (resource.rsplit("/", 1)[-1] if "/services/" in resource else None)
        or resource.rsplit("/", 1)[-1]
    )

    def ready() -> bool | None:
        for cond in (response.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready":
                return {"True": True, "False": False}.get(str(cond.get("status")))
        text = str((payload.get("status") or {}).get("message") or "")
        if "status changed to True" in text:
            return True
        return False if "status changed to False" in text else None

    base = {
        "service": service,
        "method": method,
        "message": (payload.get("status") or {}).get("message"),
        "principal": (payload.get("authenticationInfo") or {}).get("principalEmail"),
    }
    activity = row["log_id"] == _ACTIVITY
    if "vpcaccess" in method and activity:
        config = deploys._connector_config(payload)
        return {"kind": "connector", "config": config, **base} if config else None
    if activity and method.endswith(deploys._CALLS):
        return {"kind": "call", "config": run_config(payload), **base}
    kind = str(response.get("kind") or "")
    if row["log_id"] == _SYSTEM and kind in ("Revision", "Service"):
        if kind == "Revision":
            name = (response.get("metadata") or {}).get("name") or row["revision"]
            return {"kind": "revision", "revision": name, "ready": ready(), **base,
                    "config": run_config(payload)}  # fmt: skip
        status = response.get("status") or {}
        name = status.get("latestCreatedRevisionName") or status.get("latestReadyRevisionName")
        return {"kind": "service", "revision": name, "ready": ready(), **base}
    return None


def _read(event: deploys._Event) -> dict[str, Any]:
    out = {k: getattr(event, k) for k in ("kind", "service", "method", "message", "principal")}
    if event.kind in ("revision", "service"):
        out.update(revision=event.revision, ready=event.ready)
    if event.kind != "service":
        out["config"] = event.revision_config()
    return out


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with open_store(":memory:") as opened:
        yield opened


def _insert(store: Store, rows: list[dict[str, Any]]) -> None:
    store.conn.execute("DELETE FROM log_entries")
    # the entries are run 1's, listed as an ingest leaves it: the audit entries are read per
    # run (forensics.window_rows: a listed run without stored rows is read from its entries)
    store.conn.execute("DELETE FROM ingest_runs")
    store.conn.execute(
        "INSERT INTO ingest_runs (ingest_id, source, started, status) "
        "VALUES (1, 'test', now(), 'complete')"
    )
    for i, row in enumerate(rows):
        store.conn.execute(
            """INSERT INTO log_entries ("timestamp", severity, severity_number, log_name, log_id,
                   insert_id, resource_type, service, revision, payload_kind, json_payload,
                   raw, source, ingest_id)
               VALUES ($t, 'NOTICE', 300, 'projects/p/logs/' || $log, $log, $id, $rt, $svc,
                   $rev, 'proto', $payload, '{}', 'test', 1)""",
            {
                "t": T0 + timedelta(seconds=i),
                "log": row["log_id"],
                "id": f"id-{i:04d}",
                "rt": row["resource_type"],
                "svc": row["service"],
                "rev": row["revision"],
                "payload": row["payload"],
            },
        )


def _events(store: Store) -> list[dict[str, Any]]:
    """The events read, in time order (an entry that is none is not listed)."""
    params = {"since": T0, "until": T0 + timedelta(days=1), "seed": 3}
    rows = deploys.audit_rows(run_named(store, "store_audit_events", params))
    return [_read(e) for e in map(deploys._parse, rows) if e is not None]


def _expected(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in (_reference(r, r["payload"]) for r in rows) if e is not None]


_text = st.one_of(st.none(), st.sampled_from(["", "api", "a/b", "x.y", 'é"\\', "0"]))
_status = st.sampled_from(["True", "False", True, False, None, "Unknown", 1])
_condition = st.fixed_dictionaries({"type": st.sampled_from(["Ready", "Other", ""])},
                                   optional={"status": _status})  # fmt: skip
_template = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.fixed_dictionaries(
            {}, optional={"annotations": st.just({"autoscaling.knative.dev/maxScale": "20"})}
        ),
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "containers": st.lists(
                    st.fixed_dictionaries(
                        {"image": st.sampled_from(["img@sha256:" + "a" * 64, "img:1"])},
                        optional={"env": st.just([{"name": "B"}, {"name": "A", "value": "s"}])},
                    ),
                    max_size=2,
                ),
                "timeoutSeconds": st.sampled_from([300, 300.0, 12.5]),
            },
        ),
    },
)
_payload = st.fixed_dictionaries(
    {},
    optional={
        "methodName": st.sampled_from(
            [
                "google.cloud.run.v1.Services.ReplaceService",
                "google.cloud.run.v2.Services.UpdateService",
                "/Services.ReplaceService",
                "google.cloud.vpcaccess.v1.Connectors.UpdateConnector",
                "",
                "Other",
            ]
        ),
        "resourceName": st.sampled_from(["namespaces/p/services/api", "projects/p/x/y", ""]),
        "status": st.fixed_dictionaries({}, optional={"message": _text.filter(bool)}),
        "authenticationInfo": st.fixed_dictionaries({}, optional={"principalEmail": _text}),
        "request": st.fixed_dictionaries(
            {},
            optional={
                "service": st.fixed_dictionaries(
                    {}, optional={"spec": st.fixed_dictionaries({"template": _template})}
                ),
                "connector": st.fixed_dictionaries(
                    {}, optional={"machineType": st.just("e2-micro"), "minInstances": st.just(2)}
                ),
            },
        ),
        "response": st.fixed_dictionaries(
            {},
            optional={
                "kind": st.sampled_from(["Revision", "Service", "Other"]),
                "metadata": st.fixed_dictionaries(
                    {},
                    optional={
                        "name": _text,
                        "labels": st.fixed_dictionaries(
                            {}, optional={"serving.knative.dev/service": _text}
                        ),
                    },
                ),
                "spec": _template.map(lambda t: t.get("spec") or {}),
                "status": st.fixed_dictionaries(
                    {},
                    optional={
                        "conditions": st.lists(_condition, max_size=3),
                        "latestCreatedRevisionName": _text,
                        "latestReadyRevisionName": _text,
                    },
                ),
            },
        ),
    },
)
_row = st.fixed_dictionaries(
    {
        "log_id": st.sampled_from([_ACTIVITY, _SYSTEM]),
        "resource_type": st.sampled_from(["cloud_run_revision", "vpc_access_connector"]),
        "service": _text,
        "revision": _text,
        "payload": st.one_of(_payload.map(json.dumps), st.sampled_from(["{not json", "", None])),
    }
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(_row, min_size=1, max_size=6))
def test_sql_reading_agrees_with_the_payload_walk(store: Store, rows: list[dict[str, Any]]) -> None:
    _insert(store, rows)
    assert _events(store) == _expected(rows)


def test_a_payload_that_is_not_json_is_skipped(store: Store) -> None:
    good = {"methodName": "google.cloud.run.v1.Services.ReplaceService"}
    rows = [
        {"log_id": _ACTIVITY, "resource_type": "cloud_run_revision", "service": "api",
         "revision": None, "payload": text}
        for text in ("{not json", json.dumps(good))
    ]  # fmt: skip
    _insert(store, rows)
    assert [e["kind"] for e in _events(store)] == ["call"]


def test_ready_statuses_and_messages_read_as_the_walk_reads_them(store: Store) -> None:
    """Every Ready status spelling (JSON booleans too), a missing one, and the status message
    a Ready event without conditions falls back on."""
    responses: list[dict[str, Any]] = [
        {"conditions": [{"type": "Other", "status": "True"}, {"type": "Ready", **status}]}
        for status in ({"status": s} for s in ("True", "False", True, False, None, "x", 1))
    ]
    responses += [{"conditions": [{"type": "Ready"}]}, {}]
    messages = [None, "Ready condition status changed to True", "status changed to False"]
    rows = [
        {
            "log_id": _SYSTEM,
            "resource_type": "cloud_run_revision",
            "service": "api",
            "revision": "api-00001",
            "payload": json.dumps(
                {"status": {"message": message}, "response": {"kind": kind, "status": status}}
            ),
        }
        for kind in ("Revision", "Service")
        for status in responses
        for message in messages
    ]
    _insert(store, rows)
    expected = _expected(rows)
    assert {e["ready"] for e in expected} == {True, False, None}
    assert _events(store) == expected
