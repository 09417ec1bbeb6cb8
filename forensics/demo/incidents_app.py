"""Planted app incidents (#372 WebSocket race, #395 auth timeouts, #131 memory) and rollouts.

Message wording follows the real staging logs in shared/fixtures/real-staging; the platform
texts (OOM, signal 9, startup probe) follow the reference wire facts.
"""

from __future__ import annotations

from forensics.demo.model import (
    AUTH,
    BACKEND,
    FRONTEND,
    KEY_131,
    KEY_372,
    KEY_395,
    REV,
    ROLLOUT_S,
    deploy_times,
    incident_instances,
    incident_windows,
    instance_id,
    pool_instances,
)
from forensics.demo.planner import Planner, container
from forensics.demo.texts import (
    MEMORY_EXCEEDED,
    PROBE_FAILED,
    SIGNAL_9,
    START_AUTOSCALING,
    START_ROLLOUT,
    UPTIME_UA,
)

AUTH_CLIENT = "netra_backend.app.clients.auth_client_core"
STATE = "ApplicationConnectionState"
NOT_ACCEPTED = 'WebSocket is not connected. Need to call "accept" first.'


def _ws_id(p: Planner, at: int) -> str:
    user = 10_000_000 + int(p.rng.random() * 900_000)
    return f"ws_{user}_{at // 1_000_000}_{p.rng.getrandbits(32):08x}"


def plan_ws_race(p: Planner) -> None:
    """#372: connections arrive before a cold-started instance reaches the services phase."""
    start, end = incident_windows(p.tl)[KEY_372]
    instances = incident_instances(KEY_372, 5)
    gap = (end - start - p.s(120)) // len(instances)
    for i, inst in enumerate(instances):
        rev = (BACKEND, REV["backend-0"], inst)
        t = p.boot(start + p.s(1) + i * gap, rev) + p.s(0.3)
        p.json(
            t,
            rev,
            "ERROR",
            {
                "message": "[\U0001f534] RACE CONDITION DETECTED: Startup phase 'no_app_state' "
                "did not reach 'services' within 2.1s - this would cause WebSocket 1011 errors",
            },
        )
        for _ in range(2):
            t += p.s(0.4 + p.rng.random())
            ws = _ws_id(p, t)
            port = 20000 + int(p.rng.random() * 40000)
            p.text(
                t,
                rev,
                "stderr",
                None,
                p.gunicorn(t, 13, "INFO", f'169.254.169.126:{port} - "WebSocket /ws" [accepted]'),
            )
            steps = (
                (
                    "WARNING",
                    f"Invalid state transition for {ws}: {STATE}.CONNECTING -> "
                    f"{STATE}.SERVICES_READY",
                ),
                ("ERROR", f"Failed to transition to SERVICES_READY for {ws}"),
                (
                    "ERROR",
                    f"Connection {ws} state machine never reached ready state: {STATE}.CONNECTING",
                ),
                ("ERROR", f"WebSocket connection state error for {ws}: {NOT_ACCEPTED}"),
                ("ERROR", "This indicates a race condition between accept() and message handling"),
            )
            for k, (sev, msg) in enumerate(steps):
                p.text(t + (k + 1) * p.s(0.003), rev, "stderr", sev, msg)
            t += p.s(0.03)
            p.json(t, rev, "ERROR", {"message": f"[MAIN MODE] Message loop error: {NOT_ACCEPTED}"})
            t += p.s(0.01)
            p.text(t, rev, "stderr", None, p.gunicorn(t, 13, "INFO", "connection closed"))
            p.request(
                t + p.s(0.001),
                rev,
                "GET",
                "/ws",
                101,
                0.2 + p.rng.random(),
                ua="Python/3.12 websockets/15.0.1",
            )
            # A second client is turned away outright: Cloud Run logs a 503 upgrade.
            t += p.s(0.5 + p.rng.random())
            p.json(
                t,
                rev,
                "WARNING",
                {
                    "message": "[?] Rejecting WebSocket connection (Issue #449 protection) - "
                    "State: unknown, Failed services: [], Error: service_not_ready, Path: /ws",
                },
            )
            p.request(t + p.s(0.002), rev, "GET", "/ws", 503, 2.0 + 4 * p.rng.random())


def plan_auth_timeouts(p: Planner) -> None:
    """#395: backend -> auth validation calls time out at 0.5 s while auth scales from zero."""
    start, end = incident_windows(p.tl)[KEY_395]
    instances = incident_instances(KEY_395, 2)
    t, n = start + p.s(0.1 + 0.8 * p.rng.random()), 0
    while t < end - p.s(20):
        rev = (BACKEND, REV["backend-0"], instances[n % 2])
        lat = 0.50 + p.rng.random() * 0.04
        form = n % 3
        if form == 0:
            msg = (
                f"Auth service unreachable after {lat:.2f}s - https://auth.staging.netrasystems.ai"
            )
            p.text(t, rev, "stderr", None, p.pylog(t, AUTH_CLIENT, "WARNING", msg))
        elif form == 1:
            msg = (
                "Token validation request to https://auth.staging.netrasystems.ai/auth/validate"
                " timed out after 0.5s"
            )
            p.text(t, rev, "stderr", None, p.pylog(t, AUTH_CLIENT, "ERROR", msg))
        else:
            p.json(
                t,
                rev,
                "WARNING",
                {
                    "message": f"Auth service health check timed out after 0.5s (took {lat:.2f}s)",
                    "logger": AUTH_CLIENT,
                    "labels": {
                        "function": "_check_auth_health",
                        "line": "231",
                        "module": AUTH_CLIENT,
                    },
                },
            )
        t2 = t + p.s(0.002)
        if n % 6 == 5:
            msg = "Auth service is required for token validation - no fallback available"
            p.text(t2, rev, "stderr", None, p.pylog(t2, AUTH_CLIENT, "ERROR", msg))
        else:
            msg = "Using cached token validation due to auth service unavailability"
            p.text(t2, rev, "stderr", None, p.pylog(t2, AUTH_CLIENT, "WARNING", msg))
        n += 1
        t += p.s(30 + p.rng.random() * 30)

    # Meanwhile auth-service instances keep starting from zero (minScale 0): the real cause.
    cold = start + p.s(240)
    while cold < end - p.s(600):
        rev = (AUTH, REV["auth-0"], instance_id(f"auth-cold/{cold}"))
        t = p.boot(cold, rev)
        p.text(
            t + p.s(2.2),
            rev,
            "stdout",
            None,
            p.pylog(
                t + p.s(2.2),
                "netra-service - auth_service.main",
                "INFO",
                "Auth database initialized successfully",
            ),
        )
        cold += p.s(1500)


def plan_memory(p: Planner) -> None:
    """#131: the 512 MiB backend is OOM-killed; replacements fail their startup probe."""
    start, _end = incident_windows(p.tl)[KEY_131]
    instances = incident_instances(KEY_131, 5)
    for i, inst in enumerate(instances[:3]):
        rev = (BACKEND, REV["backend-2"], inst)
        oom = start + p.s(120 + i * 420 + p.rng.random())
        t = oom - p.s(100)
        for _ in range(4):
            t += p.s(12 + p.rng.random() * 8)
            p.request(t, rev, "GET", "/health/ready", 200, 3.0 + 6 * p.rng.random(), ua=UPTIME_UA)
        p.json(
            oom - p.s(8),
            rev,
            "WARNING",
            {
                "message": f"High memory usage detected: {488 + i * 4}.3 MiB RSS (limit 512 MiB)",
                "logger": "netra_backend.app.core.performance_optimization_manager",
            },
        )
        p.system(oom, rev, "ERROR", MEMORY_EXCEEDED.format(used=519 + 2 * i))
        p.system(oom + p.s(0.05), rev, "WARNING", SIGNAL_9)
        t = p.failed_requests(oom + p.s(0.06), rev, 3)
        for _ in range(2):
            t += p.s(1 + p.rng.random() * 3)
            p.request(t, rev, "GET", "/health/ready", 503, 10.0 + p.rng.random(), ua=UPTIME_UA)

    for j, inst in enumerate(instances[3:]):
        rev = (BACKEND, REV["backend-2"], inst)
        at = start + p.s(480 + j * 480 + p.rng.random())
        p.system(at, rev, "INFO", START_AUTOSCALING)
        p.text(
            at + p.s(3.1),
            rev,
            "stdout",
            None,
            "Backend Service: Running in staging - skipping .env file loading (using GSM)",
        )
        p.system(at + p.s(240), rev, "ERROR", PROBE_FAILED.format(c=container(BACKEND), p=8000))


def plan_rollouts(p: Planner) -> None:
    """New revisions start their instances just before they go Ready."""
    d = deploy_times(p.tl)
    for key, service, revision in (
        ("auth-fix", AUTH, REV["auth-1"]),
        ("backend-fix", BACKEND, REV["backend-2"]),
        ("frontend", FRONTEND, REV["frontend-1"]),
    ):
        live = d[key] + p.s(ROLLOUT_S)
        for k, inst in enumerate(pool_instances(service, revision)):
            rev = (service, revision, inst)
            at = live - p.s(45 - 5 * k)
            if service == FRONTEND:
                p.system(at, rev, "INFO", START_ROLLOUT)
                p.text(at + p.s(1.2), rev, "stdout", None, "   \u25b2 Next.js 15.5.0")
                p.text(at + p.s(1.9), rev, "stdout", None, f" \u2713 Ready in {600 + 40 * k}ms")
                p.system(
                    at + p.s(1.95),
                    rev,
                    "INFO",
                    f"Default STARTUP TCP probe succeeded after 1 attempt for container "
                    f'"{container(service)}" on port 3000.',
                )
                continue
            t = p.boot(at, rev, START_ROLLOUT) + p.s(6)
            p.text(
                t, rev, "stderr", None, p.gunicorn(t, 13, "INFO", "Application startup complete.")
            )


def plan_app_incidents(p: Planner) -> None:
    plan_ws_race(p)
    plan_auth_timeouts(p)
    plan_memory(p)
    plan_rollouts(p)
