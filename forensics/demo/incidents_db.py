"""Planted start-up crash loops: the #1278 Cloud SQL cascade and the missing-module look-alike.

Both end in worker exit 3 -> `Container called exit(3).` -> 503s; only the first is caused by the
database. Per instance the #1278 order is fixed: socket failure, DB-init timeout, exit 3, 503.
"""

from __future__ import annotations

from forensics.demo.model import (
    BACKEND,
    KEY_1278,
    KEY_MISSING,
    REV,
    SQL_SOCKET,
    incident_instances,
    incident_windows,
)
from forensics.demo.planner import Planner
from forensics.demo.texts import CLOUDSQL_DIAL_FAILED, START_ROLLOUT

SLOTS_RESERVED = "remaining connection slots are reserved for non-replication superuser connections"
TOO_MANY = "sorry, too many clients already"
SMD = "netra_backend.app.smd:_phase3_database_setup:412"
MISSING = "netra_backend.app.services.monitoring"

_SA = "/usr/local/lib/python3.11/site-packages/sqlalchemy"
_TB_CONNECT = (
    "Traceback (most recent call last):\n"
    f'  File "{_SA}/engine/base.py", line 146, in __init__\n'
    "    self._dbapi_connection = engine.raw_connection()\n"
    f'  File "{_SA}/pool/base.py", line 896, in __connect\n'
    "    self.dbapi_connection = connection = pool._invoke_creator(self)\n"
    '  File "/usr/local/lib/python3.11/site-packages/psycopg2/__init__.py", line 122, in connect\n'
    "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)"
)
_TB_INIT = (
    "Traceback (most recent call last):\n"
    '  File "/app/netra_backend/app/db/postgres_core.py", line 212, in initialize_postgres\n'
    "    async with engine.begin() as conn:\n"
    f'  File "{_SA}/ext/asyncio/engine.py", line 1066, in begin\n'
    "    async with conn:"
)
_SQLA_BACKGROUND = "(Background on this error at: https://sqlalche.me/e/20/e3q8)"


def _socket_error(fatal: str) -> str:
    return f'connection to server on socket "{SQL_SOCKET}" failed: FATAL:  {fatal}'


def plan_cascade(p: Planner) -> None:
    """#1278: Cloud SQL runs out of connections; cold-started backend instances crash-loop."""
    start, end = incident_windows(p.tl)[KEY_1278]
    rng = p.rng
    pids = iter(range(301_200, 309_999, 7))

    # The database side: connection exhaustion for the whole incident, from its first second.
    t, n = start + p.s(0.1 + 0.8 * rng.random()), 0
    while t < end - p.s(60):
        pid = next(pids)
        p.sql(
            t,
            "INFO",
            pid,
            1,
            "[unknown]",
            "[unknown]",
            f"LOG:  connection received: host=127.0.0.1 port={40000 + pid % 20000}",
        )
        fatal = SLOTS_RESERVED if n % 3 else TOO_MANY
        p.sql(t + p.s(0.004), "ERROR", pid, 2, "netra_staging", "netra_app", f"FATAL:  {fatal}")
        n += 1
        t += p.s(18 + rng.random() * 24)

    instances = incident_instances(KEY_1278, 8)
    first, last = start + p.s(300), end - p.s(180)
    gap = (last - first) // (len(instances) - 1)
    for i, inst in enumerate(instances):
        _cascade_instance(p, first + i * gap, (BACKEND, REV["backend-2"], inst), i, pids)


def _cascade_instance(p: Planner, at: int, rev: tuple[str, str, str], i: int, pids) -> None:
    t = p.boot(at, rev)
    p.text(
        t,
        rev,
        "stdout",
        None,
        "Backend Service: Running in staging - skipping .env file loading (using GSM)",
    )
    t += p.s(1.1)
    p.text(
        t,
        rev,
        "stderr",
        None,
        p.loguru(
            t,
            "INFO",
            "netra_backend.app.smd:_phase3_database_setup:398",
            "SMD Phase 3 (DATABASE): initializing PostgreSQL connection pool",
        ),
    )
    init_started = t

    # Socket failure 1: the server refuses (slots exhausted); Cloud Run splits the traceback.
    t += p.s(0.9)
    pid = next(pids)
    p.sql(
        t - p.s(0.006), "ERROR", pid, 2, "netra_staging", "netra_app", f"FATAL:  {SLOTS_RESERVED}"
    )
    chunks = (
        ("ERROR", _TB_CONNECT),
        ("ERROR", "psycopg2.OperationalError: " + _socket_error(SLOTS_RESERVED)),
        (None, "\nThe above exception was the direct cause of the following exception:\n"),
        ("ERROR", _TB_INIT),
        (
            "ERROR",
            "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) "
            f"{_socket_error(SLOTS_RESERVED)}\n{_SQLA_BACKGROUND}",
        ),
    )
    for k, (sev, chunk) in enumerate(chunks):
        p.text(t + k * p.s(0.0002), rev, "stderr", sev, chunk)

    # Socket failure 2 (retry), then the platform's own dial error from the Cloud SQL connector.
    t += p.s(6 + p.rng.random() * 2)
    if i % 2:
        p.json(
            t,
            rev,
            "ERROR",
            {
                "message": "Database connection attempt 2/3 failed: (psycopg2.OperationalError) "
                + _socket_error(TOO_MANY),
                "logger": "netra_backend.app.db.postgres_core",
                "labels": {
                    "function": "_create_engine",
                    "line": "188",
                    "module": "netra_backend.app.db.postgres_core",
                },
            },
        )
    else:
        p.text(t, rev, "stderr", "ERROR", "psycopg2.OperationalError: " + _socket_error(TOO_MANY))
    p.system(t + p.s(3.5), rev, "ERROR", CLOUDSQL_DIAL_FAILED)

    # The DB-init guard fires 20 s after phase 3 started.
    t = init_started + p.s(20.0) + p.s(0.003)
    msg = (
        "SMD phase 3 (DATABASE) failed: Database initialization timeout after 20.0s in staging "
        "environment. This may indicate Cloud SQL connection issues. Check POSTGRES_HOST "
        "configuration and Cloud SQL instance accessibility."
    )
    if i % 2:
        p.json(
            t,
            rev,
            "CRITICAL",
            {
                "message": msg,
                "logger": "netra_backend.app.smd",
                "labels": {
                    "function": "_phase3_database_setup",
                    "line": "412",
                    "module": "netra_backend.app.smd",
                },
            },
        )
    else:
        p.text(t, rev, "stderr", None, p.loguru(t, "ERROR", SMD, msg))
    t += p.s(0.002)
    p.text(
        t,
        rev,
        "stderr",
        "ERROR",
        "netra_backend.app.smd.DeterministicStartupError: CRITICAL STARTUP FAILURE: Phase 3 "
        "(DATABASE) failed - Database initialization timeout after 20.0s in staging environment",
    )
    t += p.s(0.002)
    p.text(
        t, rev, "stderr", None, p.gunicorn(t, 13, "ERROR", "Application startup failed. Exiting.")
    )
    t = p.gunicorn_exit_3(t + p.s(0.001), rev)
    p.failed_requests(t + p.s(0.05), rev, 5 + i % 3)


def plan_missing_module(p: Planner) -> None:
    """A deploy ships without a Python package: same exit-3 chain, different root cause."""
    start, end = incident_windows(p.tl)[KEY_MISSING]
    instances = incident_instances(KEY_MISSING, 4)
    gap = (end - start - p.s(60)) // len(instances)
    for i, inst in enumerate(instances):
        rev = (BACKEND, REV["backend-1"], inst)
        t = p.boot(start + p.s(1) + i * gap, rev, START_ROLLOUT, worker=14)
        t += p.s(0.9)
        for k, msg in enumerate(
            (
                "OpenTelemetry automatic instrumentation initialized successfully",
                "Starting enhanced middleware setup with WebSocket exclusion support...",
                "AuthServiceClient initialized - Service ID: netra-backend, "
                "Service Secret=REDACTED True",
            )
        ):
            p.json(t + k * p.s(0.01), rev, "INFO", _mm_payload(msg))
        t += p.s(0.06)
        p.json(
            t,
            rev,
            "ERROR",
            _mm_payload(f"CRITICAL: Enhanced middleware setup failed: No module named '{MISSING}'"),
        )
        p.json(
            t + p.s(0.002),
            rev,
            "ERROR",
            {
                "error": {
                    "traceback": None,
                    "type": "ModuleNotFoundError",
                    "value": f"No module named '{MISSING}'",
                },
                **_mm_payload(
                    f"Middleware setup failure details: ModuleNotFoundError: No module "
                    f"named '{MISSING}'"
                ),
            },
        )
        t += p.s(0.004)
        p.text(t, rev, "stderr", None, p.gunicorn(t, 14, "ERROR", "Exception in worker process"))
        for k, (sev, chunk) in enumerate(_mm_traceback()):
            p.text(t + (k + 1) * p.s(0.00002), rev, "stderr", sev, chunk)
        t = p.gunicorn_exit_3(t + p.s(0.001), rev, worker=14)
        p.failed_requests(t + p.s(0.05), rev, 4 + i % 2)


def _mm_payload(message: str) -> dict:
    return {
        "labels": {"function": "callHandlers", "line": "1706", "module": "logging"},
        "message": message,
    }


def _mm_traceback() -> list[tuple[str | None, str]]:
    app = "/app/netra_backend/app"
    setup = f"{app}/core/middleware_setup.py"
    return [
        (
            "ERROR",
            "Traceback (most recent call last):\n"
            f'  File "{setup}", line 852, in _add_websocket_exclusion_middleware\n'
            "    from netra_backend.app.middleware.uvicorn_protocol_enhancement import (\n"
            f'  File "{app}/middleware/__init__.py", line 3, in <module>\n'
            "    from .gcp_auth_context_middleware import (\n"
            f'  File "{app}/middleware/gcp_auth_context_middleware.py", line 23, in '
            "<module>\n"
            f"    from {MISSING}.gcp_error_reporter import GCPErrorReporter\n"
            f"ModuleNotFoundError: No module named '{MISSING}'",
        ),
        (None, "During handling of the above exception, another exception occurred:"),
        (
            "ERROR",
            "Traceback (most recent call last):\n"
            f'  File "{setup}", line 799, in setup_middleware\n'
            "    _add_websocket_exclusion_middleware(app)\n"
            f'  File "{setup}", line 860, in _add_websocket_exclusion_middleware\n'
            "    _create_enhanced_inline_websocket_exclusion_middleware(app)\n"
            f"RuntimeError: Failed to setup middleware: No module named '{MISSING}'",
        ),
        (None, "During handling of the above exception, another exception occurred:"),
        (
            "ERROR",
            "Traceback (most recent call last):\n"
            '  File "/usr/local/lib/python3.11/site-packages/gunicorn/arbiter.py", line '
            "608, in spawn_worker\n    worker.init_process()\n"
            '  File "/usr/local/lib/python3.11/site-packages/uvicorn/workers.py", line 75, '
            "in init_process\n    super().init_process()\n"
            f"RuntimeError: Failed to setup middleware: No module named '{MISSING}'",
        ),
    ]
