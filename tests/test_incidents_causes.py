"""Causes are named by their root exception line, read across a split traceback, and a first
failure no symptom follows is not called their cause."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.incidents import build_analysis, load_registry
from forensics.ingest import ingest_texts
from forensics.store import Store
from forensics.timeutil import Window

START = datetime(2025, 10, 2, 14, 0, tzinfo=UTC)
WINDOW = Window(START - timedelta(hours=1), START + timedelta(hours=1))
SERVICE = "orders-api"
REVISION = "orders-api-00031-xk2"
ROOT = "ModuleNotFoundError: No module named 'orders.telemetry'"
# The agent splits a long traceback into chunks; the first holds frames only, one of them
# quoting source that names an exception class.
CHUNK_1 = (
    "Traceback (most recent call last):\n"
    '  File "/app/orders/main.py", line 41, in create_app\n'
    "    setup_telemetry(app)\n"
    '  File "/app/orders/setup.py", line 12, in setup_telemetry\n'
    "    except ImportError as exc:  # optional exporters"
)
CHUNK_2 = (
    '  File "/app/orders/telemetry_loader.py", line 3, in <module>\n'
    "    from orders.telemetry import exporter\n" + ROOT
)


def _entry(at: datetime, instance: str, n: int, log: str, severity: str, text: str) -> str:
    return json.dumps(
        {
            "insertId": f"{instance[-4:]}-{n:04d}",
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "severity": severity,
            "logName": f"projects/shop-staging/logs/run.googleapis.com%2F{log}",
            "resource": {
                "type": "cloud_run_revision",
                "labels": {
                    "project_id": "shop-staging",
                    "service_name": SERVICE,
                    "revision_name": REVISION,
                    "location": "europe-west1",
                },
            },
            "labels": {"instanceId": instance},
            "textPayload": text,
        }
    )


def _crash_loop(offset: timedelta = timedelta(0)) -> list[str]:
    out = []
    for i in range(3):
        instance = f"00f1c0ffee{i:04d}"
        at = START + timedelta(minutes=2 * i) + offset
        us = timedelta(microseconds=1)
        out += [
            _entry(at, instance, 1, "varlog/system", "INFO", "Starting new instance."),
            _entry(at + 2000 * us, instance, 2, "stderr", "ERROR", CHUNK_1),
            _entry(at + 2001 * us, instance, 3, "stderr", "ERROR", CHUNK_2),
            _entry(
                at + 2500 * us,
                instance,
                4,
                "stderr",
                "ERROR",
                f"[{at:%Y-%m-%d %H:%M:%S} +0000] [1] [ERROR] Worker (pid:7) exited with code 3",
            ),
            _entry(
                at + 3000 * us, instance, 5, "varlog/system", "WARNING", "Container called exit(3)."
            ),
        ]
    return out


def test_a_split_traceback_is_named_by_its_root_exception_line(store: Store) -> None:
    ingest_texts(store, _crash_loop(), "split-traceback")
    result = build_analysis(store, WINDOW, registry=load_registry(None))
    (incident,) = result["incidents"]
    root = incident["root_cause"]
    # named by the catalog's startup/module-not-found, else by the error line itself: either
    # way by the exception line, never by the first chunk or a class its frames quote
    assert root["id"] in ("startup/module-not-found", "error:ModuleNotFoundError")
    assert (root.get("exception") or root["text"]) == ROOT
    assert ROOT in incident["cause"]
    assert "Traceback" not in incident["cause"] and "ImportError" not in incident["cause"]
    assert set(incident["attribution"]["startup/exit-code-3"]) == {root["id"]}
    assert root["explained"] == root["symptoms"] > 0


def test_a_traceback_split_across_a_time_slot_is_still_read_whole(store: Store) -> None:
    # The chunks that follow a cause are looked up by the cause's SPLIT_TRACEBACK_GAP_S-long
    # time slot and the next one: here the first chunk is the last microsecond of a slot
    # (1.999999 s after an even second) and the exception line opens the next.
    ingest_texts(store, _crash_loop(timedelta(microseconds=1_997_999)), "split-traceback")
    result = build_analysis(store, WINDOW, registry=load_registry(None))
    (incident,) = result["incidents"]
    assert (incident["root_cause"].get("exception") or incident["root_cause"]["text"]) == ROOT
    assert ROOT in incident["cause"]


def _sentences(result: dict[str, Any]) -> list[str]:
    return [i["cause"] for i in result["incidents"]]


def test_a_first_failure_no_symptom_follows_is_not_their_cause(store: Store) -> None:
    """DB-init timeouts, then, past the attribution window, 503s on another instance with
    nothing before them: the timeout is the incident's failure, but "0 of 2 symptoms follow
    it" is no cause of theirs."""
    instance, other = "00aa0000db01", "00aa0000web2"
    at = START
    texts = [
        _entry(
            at + timedelta(seconds=s),
            instance,
            s,
            "stderr",
            "ERROR",
            "Failed to initialize database: Database connection validation timeout exceeded (15s)",
        )
        for s in range(3)
    ]
    for n in range(2):
        request = json.loads(
            _entry(at + timedelta(seconds=400 + n), other, 10 + n, "requests", "ERROR", "")
        )
        del request["textPayload"]
        request["httpRequest"] = {
            "requestMethod": "GET",
            "requestUrl": "https://orders.example.test/health",
            "status": 503,
            "latency": "0.2s",
        }
        texts.append(json.dumps(request))
    ingest_texts(store, texts, "no-follow")
    result = build_analysis(store, WINDOW, registry=load_registry(None))
    (incident,) = result["incidents"]
    root = incident["root_cause"]
    assert root["id"] == "startup/db-init-timeout"
    assert root["symptoms"] == 2 and root["explained"] == 0
    assert " 0 of " not in incident["cause"]
    assert "follow no logged cause" in incident["cause"]


def test_a_traceback_cut_before_its_exception_line_is_named_by_its_deepest_frame(
    store: Store,
) -> None:
    """An export that cut multi-line payloads (gcloud's table format) keeps only a traceback's
    frames: the cause is named by the deepest frame, not by the "Traceback (most recent call
    last):" header, which says nothing about what failed."""
    frames_only = (
        "Traceback (most recent call last):\n"
        '  File "/usr/local/bin/uvicorn", line 8, in <module>\n'
        "    sys.exit(main())\n"
        '  File "/app/orders/config/loader.py", line 88, in load_settings\n'
        "    settings = Settings.from_env()"
    )
    texts = []
    for i in range(3):
        instance = f"00cafe0000{i:04d}"
        at = START + timedelta(minutes=2 * i)
        texts += [
            _entry(at, instance, 1, "stderr", "ERROR", frames_only),
            _entry(
                at + timedelta(milliseconds=300),
                instance,
                2,
                "varlog/system",
                "WARNING",
                "Container called exit(1).",
            ),
        ]
    ingest_texts(store, texts, "cut-traceback")
    result = build_analysis(store, WINDOW, registry=load_registry(None))
    (incident,) = result["incidents"]
    assert not incident["cause"].startswith("Traceback")
    assert "loader.py:88 in load_settings" in incident["cause"]
    assert incident["root_cause"]["kind"] == "error"
