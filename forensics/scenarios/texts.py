"""The log texts scenarios render, copied in shape from the real staging export.

Sources: ``../shared/fixtures/real-staging/entries.jsonl`` (2025-09-16 crash loop: gunicorn
worker exit 3, "Container called exit(3).", the stderr traceback of a missing module, the Cloud
Run malformed-response 503; DB-init timeout wordings) and ``gcp-wire-facts.md`` §3.2 (platform
texts). ``{ts}`` is replaced by the entry's time in gunicorn's format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = [
    "AUTH_CACHED",
    "AUTH_REQUIRED",
    "BOOT_LINES",
    "CONNECTION_ERROR_503",
    "QUEUEPOOL",
    "SCALING_AUTOSCALING",
    "SCALING_ROLLOUT",
    "crash_lines",
    "gunicorn",
]

SCALING_AUTOSCALING = (
    "Starting new instance. Reason: AUTOSCALING - Instance started due to configured scaling "
    "factors (e.g. CPU utilization, request throughput, etc.) or no existing capacity for "
    "current traffic."
)
SCALING_ROLLOUT = (
    "Starting new instance. Reason: DEPLOYMENT_ROLLOUT - Instance started due to traffic "
    "shifting between revisions due to deployment, traffic split adjustment, or deployment "
    "health check."
)
CONNECTION_ERROR_503 = (
    "The request failed because either the HTTP response was malformed or connection to the "
    "instance had an error. Additional troubleshooting documentation can be found at: "
    "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error"
)
QUEUEPOOL = (
    "sqlalchemy.exc.TimeoutError: QueuePool limit of size 10 overflow 15 reached, connection "
    "timed out, timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)"
)

# PostgreSQL's wording for every version (two spaces after the level, as PostgreSQL writes it).
TOO_MANY_CLIENTS = "FATAL:  sorry, too many clients already"
HEALTHY_LINE = (
    "netra_backend.app.core.health - INFO - Health check passed: database, redis, auth_service"
)

# The backend's auth client when the auth service does not answer (real export, 2025-09-07).
AUTH_CACHED = (
    "netra_backend.app.clients.auth_client_core - WARNING - Using cached token validation "
    "due to auth service unavailability"
)
AUTH_REQUIRED = (
    "netra_backend.app.clients.auth_client_core - ERROR - Auth service is required for token "
    "validation - no fallback available"
)

# (seconds after the instance start, text) of a gunicorn + uvicorn worker booting.
BOOT_LINES: tuple[tuple[float, str], ...] = (
    (0.90, "[{ts}] [12] [INFO] Starting gunicorn 23.0.0"),
    (0.91, "[{ts}] [12] [INFO] Listening at: http://0.0.0.0:8000 (12)"),
    (0.92, "[{ts}] [12] [INFO] Using worker: uvicorn.workers.UvicornWorker"),
    (0.95, "[{ts}] [13] [INFO] Booting worker with pid: 13"),
)

_SITE = "/usr/local/lib/python3.11/site-packages"
_FRAMES_GUNICORN = (
    "Traceback (most recent call last):\n"
    f'  File "{_SITE}/gunicorn/arbiter.py", line 608, in spawn_worker\n'
    "    worker.init_process()\n"
    f'  File "{_SITE}/uvicorn/workers.py", line 75, in init_process\n'
    "    super().init_process()\n"
    f'  File "{_SITE}/gunicorn/workers/base.py", line 147, in load_wsgi\n'
    "    self.wsgi = self.app.wsgi()\n"
    "                ^^^^^^^^^^^^^^^"
)
_FRAMES_APP = (
    '  File "/app/netra_backend/app/main.py", line 49, in <module>\n'
    "    app = create_app()\n"
    "          ^^^^^^^^^^^^\n"
    '  File "/app/netra_backend/app/core/app_factory.py", line 170, in create_app\n'
    "    _configure_app_handlers(app)\n"
    '  File "/app/netra_backend/app/core/middleware_setup.py", line 852, in '
    "_add_websocket_exclusion_middleware\n"
    "    from {module} import MonitoringService"
)

Line = tuple[float, str, str, str | None, dict[str, Any] | None]
_STDERR = "run.googleapis.com/stderr"
_SYSTEM = "run.googleapis.com/varlog/system"


def gunicorn(at: datetime) -> str:
    """gunicorn's log time: ``2025-09-16 00:41:13 +0000``."""
    return at.strftime("%Y-%m-%d %H:%M:%S +0000")


_EXIT3 = (
    (0.0, "[{ts}] [13] [INFO] Worker exiting (pid: 13)"),
    (0.38, "[{ts}] [12] [ERROR] Worker (pid:13) exited with code 3"),
    (0.381, "[{ts}] [12] [ERROR] Shutting down: Master"),
    (0.382, "[{ts}] [12] [ERROR] Reason: Worker failed to boot."),
)


def _exit3(after: float) -> list[Line]:
    """gunicorn giving up on a worker that exited 3, then the platform's exit line."""
    lines: list[Line] = [(after + o, "DEFAULT", _STDERR, t, None) for o, t in _EXIT3]
    return [*lines, (after + 0.46, "WARNING", _SYSTEM, "Container called exit(3).", None)]


def _socket_failure(params: dict[str, Any], dial_s: float) -> str:
    name = str(params.get("connection", "netra-staging:us-central1:staging-shared-postgres"))
    return (
        "Cloud SQL connection failed. Please see https://cloud.google.com/sql/docs/mysql/"
        "connect-run, https://cloud.google.com/sql/docs/postgres/connect-run, or "
        "https://cloud.google.com/sql/docs/sqlserver/connect-run for additional details: dial "
        f'error: failed to dial (connection name = "{name}"): connection to Cloud SQL instance '
        f"at 10.45.0.3:3307 failed: timed out after {dial_s:g}s"
    )


def crash_lines(cause: str, params: dict[str, Any], timeout_s: float) -> list[Line]:
    """One crash-looping boot: (offset s, severity, log id, text, jsonPayload) in order."""
    lines: list[Line] = [(o, "DEFAULT", _STDERR, t, None) for o, t in BOOT_LINES]
    if cause == "db-validation-timeout":  # the auth service's own wording (real export)
        at = 1.0 + timeout_s
        message = (
            f"Failed to initialize auth database: Database connection validation timeout "
            f"exceeded ({timeout_s:g}s). This may indicate network connectivity issues or "
            "database overload."
        )
        lines.append((at, "ERROR", _STDERR, message, None))
        failed = "[ERROR] Application startup failed. Exiting."
        lines.append((at + 0.01, "ERROR", _STDERR, failed, None))
        return lines + _exit3(at + 0.02)
    if cause == "db-init-timeout":
        at = 1.0 + timeout_s
        if params.get("socket_failure", False):
            # Cloud Run's own line when the /cloudsql socket cannot dial (gcp-wire-facts §3):
            # the first link of the cascade, logged before the app's phase-3 timeout.
            dial_s = min(10.0, timeout_s / 2)
            lines.append((1.0 + dial_s, "ERROR", _SYSTEM, _socket_failure(params, dial_s), None))
        message = (
            f"CRITICAL STARTUP FAILURE: Phase 3 DATABASE: Database initialization timeout after "
            f"{timeout_s:.1f}s in staging environment. This may indicate Cloud SQL connection "
            "issues."
        )
        lines.append((at, "ERROR", _STDERR, None, {"message": message, "severity": "ERROR"}))
        failed = "[{ts}] [13] [ERROR] Application startup failed. Exiting."
        lines.append((at + 0.01, "DEFAULT", _STDERR, failed, None))
        return lines + _exit3(at + 0.02)
    module = str(params.get("module", "netra_backend.app.services.monitoring"))
    exception = f"ModuleNotFoundError: No module named '{module}'"
    at = 2.0
    if not params.get("split_traceback", False):
        details = f"Middleware setup failure details: {exception}"
        lines.append(
            (at - 0.002, "ERROR", _STDERR, None, {"message": details, "severity": "ERROR"})
        )
    lines.append((at, "DEFAULT", _STDERR, "[{ts}] [13] [ERROR] Exception in worker process", None))
    app = _FRAMES_APP.replace("{module}", module)
    if params.get("split_traceback", False):
        # Cloud Run writes each stderr chunk as its own entry: only the last names the error.
        lines.append((at + 0.0001, "ERROR", _STDERR, _FRAMES_GUNICORN, None))
        lines.append((at + 0.0002, "DEFAULT", _STDERR, app, None))
        lines.append((at + 0.0003, "DEFAULT", _STDERR, exception, None))
    else:
        lines.append(
            (at + 0.0001, "ERROR", _STDERR, f"{_FRAMES_GUNICORN}\n{app}\n{exception}", None)
        )
    return lines + _exit3(at + 0.001)
