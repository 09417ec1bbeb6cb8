"""Cause before effect, per instance: which cause every exit 3 and 503 is attributed to."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from forensics.incidents import build_analysis, load_registry
from forensics.incidents.evidence import attribute_symptoms
from forensics.ingest import ingest_texts
from forensics.store import Store
from forensics.timeutil import Window

T0 = datetime(2025, 9, 16, 1, 0, tzinfo=UTC)
SERVICE = "netra-backend-staging"
REVISION = "netra-backend-staging-00742-b95"
WINDOW = Window(T0 - timedelta(hours=1), T0 + timedelta(hours=1))


def entry(
    seconds: float,
    text: str,
    *,
    instance: str | None = "i-1",
    log: str = "stderr",
    revision: str = REVISION,
    severity: str = "ERROR",
    **extra: Any,
) -> str:
    body: dict[str, Any] = {
        "logName": f"projects/netra-staging/logs/run.googleapis.com%2F{log}",
        "timestamp": (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z"),
        "insertId": f"{instance}-{seconds}-{abs(hash(text)) % 10**8}",
        "severity": severity,
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": SERVICE, "revision_name": revision},
        },
        "textPayload": text,
        **extra,
    }
    if instance:
        body["labels"] = {"instanceId": instance}
    return json.dumps(body)


def request_503(seconds: float, *, instance: str | None = "i-1") -> str:
    return entry(
        seconds,
        "The request failed because either the HTTP response was malformed or connection to "
        "the instance had an error.",
        instance=instance,
        log="requests",
        httpRequest={"requestMethod": "GET", "requestUrl": "https://api/health", "status": 503},
    )


EXIT_3 = "Container called exit(3)."
DB_TIMEOUT = "SMD phase 3 (DATABASE) failed: Database initialization timeout after 20.0s"
MODULE = "Middleware setup failure details: ModuleNotFoundError: No module named 'x.monitoring'"
# A missing module is named by the catalog's startup/module-not-found, or by its error line.
MODULE_CAUSES = {
    basis: tuple(
        (cause, basis) for cause in ("startup/module-not-found", "error:ModuleNotFoundError")
    )
    for basis in ("instance", "instance-boot")
}


def causes(store: Store) -> dict[str, tuple[str | None, str]]:
    """insert_id → (cause, basis) for every symptom."""
    frame = attribute_symptoms(store, WINDOW.until, load_registry(None))
    return {r["insert_id"]: (r["cause"], r["basis"]) for r in frame.to_dicts()}


def by_text(store: Store, text: str) -> list[str]:
    rows = store.conn.execute(
        "SELECT insert_id FROM entries WHERE message LIKE ? ORDER BY timestamp", [f"%{text}%"]
    ).fetchall()
    return [r[0] for r in rows]


def analysed(store: Store, texts: list[str]) -> dict[str, Any]:
    ingest_texts(store, texts, "test")
    return build_analysis(store, WINDOW, registry=load_registry(None))


def test_exit_3_after_module_not_found_is_not_1278(store: Store) -> None:
    result = analysed(
        store, [entry(0, MODULE), entry(0.5, EXIT_3, log="varlog%2Fsystem"), request_503(1)]
    )
    (incident,) = result["incidents"]
    assert incident["issues"] == []
    root = incident["root_cause"]
    # the catalog's startup/module-not-found names it, else the error line does
    assert root["id"] in ("startup/module-not-found", "error:ModuleNotFoundError")
    named = root.get("exception") or root["text"]
    assert named.startswith("ModuleNotFoundError: No module named")
    assert "not #1278" in incident["cause"]
    found = causes(store)
    assert {c for c, _ in found.values()} <= {
        "startup/module-not-found",
        "error:ModuleNotFoundError",
    }
    assert {b for _, b in found.values()} == {"instance"}
    status = next(i for i in result["issues"] if i["id"] == "#1278")
    assert status["evidence"] == {}


def test_exit_3_after_db_init_timeout_on_the_same_instance_is_1278(store: Store) -> None:
    result = analysed(
        store,
        [entry(0, DB_TIMEOUT), entry(0.5, EXIT_3, log="varlog%2Fsystem"), request_503(1)],
    )
    (incident,) = result["incidents"]
    assert incident["issues"] == ["#1278", "#1263"]
    assert incident["chain"] == [
        "startup/db-init-timeout",
        "startup/exit-code-3",
        "cloudrun/http-503",
    ]
    assert all(link["in_order"] == link["instances"] == 1 for link in incident["links"])
    status = next(i for i in result["issues"] if i["id"] == "#1278")
    assert status["evidence"] == {
        "startup/db-init-timeout": 1,
        "startup/exit-code-3": 1,
        "cloudrun/http-503": 1,
    }


def test_a_cause_on_another_instance_does_not_explain_an_exit(store: Store) -> None:
    """Instance i-2 failed on the database; i-1 exits after its own module error."""
    ingest_texts(
        store,
        [
            entry(0, DB_TIMEOUT, instance="i-2"),
            entry(1, MODULE, instance="i-1"),
            entry(2, EXIT_3, instance="i-1", log="varlog%2Fsystem"),
            entry(3, EXIT_3, instance="i-2", log="varlog%2Fsystem"),
        ],
        "test",
    )
    build_analysis(store, WINDOW, registry=load_registry(None))  # classifies
    exits = by_text(store, "exit(3)")
    found = causes(store)
    assert found[exits[0]] in (MODULE_CAUSES["instance"])
    assert found[exits[1]] == ("startup/db-init-timeout", "instance")


def test_effect_before_its_only_cause_is_not_attributed_to_it(store: Store) -> None:
    """An exit logged 2 minutes before the DB timeout on the same instance has no cause."""
    ingest_texts(
        store,
        [entry(0, EXIT_3, log="varlog%2Fsystem"), entry(120, DB_TIMEOUT)],
        "test",
    )
    build_analysis(store, WINDOW, registry=load_registry(None))
    (exit_id,) = by_text(store, "exit(3)")
    assert causes(store)[exit_id] == (None, "none")


def test_request_that_failed_during_the_boot_takes_the_boot_failure(store: Store) -> None:
    """Real 2025-09-16 shape: the 503 is logged 6 s before the module error on its instance."""
    ingest_texts(
        store, [request_503(0), entry(6, MODULE), entry(7, EXIT_3, log="varlog%2Fsystem")], "test"
    )
    build_analysis(store, WINDOW, registry=load_registry(None))
    (request_id,) = by_text(store, "The request failed")
    assert causes(store)[request_id] in MODULE_CAUSES["instance-boot"]


@pytest.mark.parametrize(("gap_s", "expected"), [(100, "revision"), (400, "none")])
def test_symptom_without_instance_falls_back_to_its_revision(
    store: Store, gap_s: float, expected: str
) -> None:
    ingest_texts(store, [entry(0, DB_TIMEOUT), request_503(gap_s, instance=None)], "test")
    build_analysis(store, WINDOW, registry=load_registry(None))
    (request_id,) = by_text(store, "The request failed")
    cause, basis = causes(store)[request_id]
    assert basis == expected
    assert cause == ("startup/db-init-timeout" if expected == "revision" else None)
