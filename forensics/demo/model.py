"""Ground truth for the demo data set: the staging topology, the deploys and the planted incidents.

Everything here is a pure function of the window (end, hours); the random seed only changes
jitter inside the log entries, never what is planted or when, so tests of later stages can rely
on `scenario()` alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DEMO_PROJECT = "netra-staging"
PROJECT_NUMBER = "701982941522"
REGION = "us-central1"
BACKEND = "netra-backend-staging"
AUTH = "netra-auth-service"
FRONTEND = "netra-frontend-staging"
SERVICES = (BACKEND, AUTH, FRONTEND)
SQL_INSTANCE = "staging-shared-postgres"
SQL_DATABASE_ID = f"{DEMO_PROJECT}:{SQL_INSTANCE}"
SQL_CONNECTION_NAME = f"{DEMO_PROJECT}:{REGION}:{SQL_INSTANCE}"
SQL_SOCKET = f"/cloudsql/{SQL_CONNECTION_NAME}/.s.PGSQL.5432"
CONNECTOR = "staging-connector"

# Revisions in service order; the first one of each service is live when the window opens.
REV = {
    "backend-0": f"{BACKEND}-00410-k2m",
    "backend-1": f"{BACKEND}-00411-q7d",  # ships without netra_backend.app.services.monitoring
    "backend-2": f"{BACKEND}-00412-abc",
    "auth-0": f"{AUTH}-00087-xq4",
    "auth-1": f"{AUTH}-00088-w5t",
    "frontend-0": f"{FRONTEND}-00131-p7v",
    "frontend-1": f"{FRONTEND}-00132-hn2",
}

US = 1_000_000
MINUTE_US = 60 * US


@dataclass(frozen=True)
class PlantedDeploy:
    """One `ReplaceService` call in the window (a traffic-only update keeps the same revision)."""

    time: datetime
    service: str
    old_revision: str
    new_revision: str
    changes: list[str]
    fixes: str | None = None  # tracked issue the deploy fixes, e.g. "#395"
    fixes_incident: str | None = None  # key of the incident it ends, also for untracked ones
    kind: str = "revision"  # "revision" (new revision rolled out) or "traffic" (same revision)


@dataclass(frozen=True)
class PlantedIncident:
    """One incident planted in the window, with its causal chain of signature ids."""

    key: str
    issue: str | None
    service: str
    revision: str
    instance_ids: list[str]
    start: datetime
    end: datetime
    chain: list[str]
    summary: str = ""


@dataclass(frozen=True)
class Scenario:
    """What `generate_entries` planted in [window_start, window_end)."""

    project: str
    region: str
    window_start: datetime
    window_end: datetime
    incidents: list[PlantedIncident]
    deploys: list[PlantedDeploy] = field(default_factory=list)

    def incident(self, key: str) -> PlantedIncident:
        for inc in self.incidents:
            if inc.key == key:
                return inc
        raise KeyError(key)


def instance_id(tag: str) -> str:
    """A Cloud Run style instance id (156 hex chars, fixed prefix) derived from a name."""
    raw = tag.encode()
    return "0069c7a988" + hashlib.sha512(raw).hexdigest() + hashlib.sha256(raw).hexdigest()[:18]


def incident_instances(key: str, count: int) -> list[str]:
    return [instance_id(f"{key}/{i}") for i in range(count)]


POOL_SIZE = {BACKEND: 4, AUTH: 2, FRONTEND: 2}


def pool_instances(service: str, revision: str) -> list[str]:
    """Long-lived instances that serve normal traffic for a revision."""
    return [instance_id(f"pool/{revision}/{i}") for i in range(POOL_SIZE[service])]


def resolve_end(end: datetime | None) -> datetime:
    """Window end as aware UTC; `None` means now, truncated to the minute."""
    if end is None:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    if end.tzinfo is None:
        return end.replace(tzinfo=UTC)
    return end.astimezone(UTC)


def to_us(dt: datetime) -> int:
    # Integer arithmetic keeps microseconds exact, unlike dt.timestamp() floats.
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


@dataclass(frozen=True)
class Timeline:
    """Where things happen in a window: positions scale with the window, durations shrink with it.

    The plan is written for a 24 h window (minutes since window start). A longer window keeps
    the real durations; a shorter one scales them down so every incident still fits.
    """

    start_us: int
    end_us: int
    hours: int

    @property
    def k(self) -> float:
        return min(1.0, self.hours / 24)

    def at(self, minute: float) -> int:
        return self.start_us + int((self.end_us - self.start_us) * minute / 1440)

    def span(self, seconds: float) -> int:
        return int(seconds * US * self.k)


def timeline(end: datetime | None, hours: int) -> Timeline:
    if hours < 1:
        raise ValueError("hours must be >= 1")
    end_us = to_us(resolve_end(end))
    return Timeline(end_us - hours * 3600 * US, end_us, hours)


# Incident anchors, minutes into a 24 h window, and durations in seconds.
WS_RACE = (190, 20 * 60)
AUTH_TIMEOUTS = (360, 200 * 60)
MISSING_MODULE_DEPLOY = 640
MISSING_MODULE = 10 * 60
CASCADE = (840, 50 * 60)
MEMORY = (1110, 25 * 60)
FRONTEND_DEPLOY = 1260
TRAFFIC_UPDATES = ((20, BACKEND), (35, AUTH))
ROLLOUT_S = 70  # ReplaceService call -> new revision Ready and serving

KEY_1278 = "issue-1278-cascade"
KEY_MISSING = "missing-module-crashloop"
KEY_372 = "issue-372-websocket-race"
KEY_395 = "issue-395-auth-timeout"
KEY_131 = "issue-131-memory"

# Instances that each incident's entries are written from (fresh ids, never shared).
INCIDENT_INSTANCES = {KEY_1278: 8, KEY_MISSING: 4, KEY_372: 5, KEY_395: 2, KEY_131: 5}


def deploy_times(tl: Timeline) -> dict[str, int]:
    """Times (µs) of every ReplaceService call, keyed by a short name."""
    auth_fix = tl.at(AUTH_TIMEOUTS[0]) + tl.span(AUTH_TIMEOUTS[1])
    bad = tl.at(MISSING_MODULE_DEPLOY)
    return {
        "backend-traffic": tl.at(TRAFFIC_UPDATES[0][0]),
        "auth-traffic": tl.at(TRAFFIC_UPDATES[1][0]),
        "auth-fix": auth_fix,
        "backend-bad": bad,
        "backend-fix": bad + tl.span(60) * 2 + tl.span(MISSING_MODULE),
        "frontend": tl.at(FRONTEND_DEPLOY),
    }


def incident_windows(tl: Timeline) -> dict[str, tuple[int, int]]:
    """[start, end) in µs of every planted incident."""
    d = deploy_times(tl)
    mm_start = d["backend-bad"] + tl.span(60)
    return {
        KEY_372: (tl.at(WS_RACE[0]), tl.at(WS_RACE[0]) + tl.span(WS_RACE[1])),
        KEY_395: (tl.at(AUTH_TIMEOUTS[0]), d["auth-fix"]),
        KEY_MISSING: (mm_start, mm_start + tl.span(MISSING_MODULE)),
        KEY_1278: (tl.at(CASCADE[0]), tl.at(CASCADE[0]) + tl.span(CASCADE[1])),
        KEY_131: (tl.at(MEMORY[0]), tl.at(MEMORY[0]) + tl.span(MEMORY[1])),
    }


def revision_schedule(tl: Timeline) -> dict[str, list[tuple[int, str]]]:
    """Per service, (from_us, revision) serving normal traffic, ascending.

    A new revision serves once Ready (ROLLOUT_S after the call). 00411 never becomes Ready, so
    normal traffic stays on 00410 until 00412 is live.
    """
    d = deploy_times(tl)
    live = {k: v + tl.span(ROLLOUT_S) for k, v in d.items()}
    return {
        BACKEND: [(tl.start_us, REV["backend-0"]), (live["backend-fix"], REV["backend-2"])],
        AUTH: [(tl.start_us, REV["auth-0"]), (live["auth-fix"], REV["auth-1"])],
        FRONTEND: [(tl.start_us, REV["frontend-0"]), (live["frontend"], REV["frontend-1"])],
    }


def _deploys(tl: Timeline) -> list[PlantedDeploy]:
    d = deploy_times(tl)
    t = from_us
    return [
        PlantedDeploy(
            t(d["backend-traffic"]),
            BACKEND,
            REV["backend-0"],
            REV["backend-0"],
            ["traffic: 100% to latest revision, tag 'canary' removed"],
            kind="traffic",
        ),
        PlantedDeploy(
            t(d["auth-traffic"]),
            AUTH,
            REV["auth-0"],
            REV["auth-0"],
            ["traffic: 100% to latest revision"],
            kind="traffic",
        ),
        PlantedDeploy(
            t(d["auth-fix"]),
            AUTH,
            REV["auth-0"],
            REV["auth-1"],
            [
                "annotation autoscaling.knative.dev/minScale: 0 -> 1",
                "annotation run.googleapis.com/cpu-throttling: true -> false",
                "env added: AUTH_WARMUP_ON_START",
                "image: netra-auth-service@sha256:3b1f… -> @sha256:9e44…",
            ],
            fixes="#395",
            fixes_incident=KEY_395,
        ),
        PlantedDeploy(
            t(d["backend-bad"]),
            BACKEND,
            REV["backend-0"],
            REV["backend-1"],
            [
                "image: netra-backend-staging@sha256:5d0c… -> @sha256:a71e…",
                "env added: GCP_ERROR_REPORTING_ENABLED, GCP_ERROR_REPORTING_SERVICE",
                "env removed: SENTRY_DSN",
            ],
        ),
        PlantedDeploy(
            t(d["backend-fix"]),
            BACKEND,
            REV["backend-1"],
            REV["backend-2"],
            [
                "image: netra-backend-staging@sha256:a71e… -> @sha256:c2f9…",
                "netra_backend.app.services.monitoring package restored",
            ],
            fixes_incident=KEY_MISSING,
        ),
        PlantedDeploy(
            t(d["frontend"]),
            FRONTEND,
            REV["frontend-0"],
            REV["frontend-1"],
            ["image: netra-frontend-staging@sha256:12ce… -> @sha256:7f30…"],
        ),
    ]


CHAINS = {
    KEY_1278: [
        "cloudsql/too-many-clients",
        "cloudsql/socket-failure",
        "startup/db-init-timeout",
        "startup/exit-code-3",
        "cloudrun/http-503",
    ],
    KEY_MISSING: ["startup/exit-code-3", "cloudrun/http-503"],
    KEY_372: ["websocket/handshake-race", "cloudrun/http-503"],
    KEY_395: ["auth/timeout"],
    KEY_131: [
        "cloudrun/memory-limit-exceeded",
        "cloudrun/http-503",
        "cloudrun/startup-probe-failed",
    ],
}

_INCIDENT_META = {
    KEY_1278: ("#1278", REV["backend-2"], "Cloud SQL connections exhausted; cold starts time out"),
    KEY_MISSING: (None, REV["backend-1"], "ModuleNotFoundError at boot; same exit-3 symptoms"),
    KEY_372: ("#372", REV["backend-0"], "WebSocket accept() races on cold-started instances"),
    KEY_395: ("#395", REV["backend-0"], "backend -> auth calls time out at 0.5s; cached fallback"),
    KEY_131: ("#131", REV["backend-2"], "512 MiB limit exceeded; OOM kills and probe failures"),
}


def scenario(end: datetime | None = None, hours: int = 24) -> Scenario:
    """Ground truth: the incidents and deploys planted in the window."""
    tl = timeline(end, hours)
    windows = incident_windows(tl)
    incidents = []
    for key in (KEY_372, KEY_395, KEY_MISSING, KEY_1278, KEY_131):
        issue, revision, summary = _INCIDENT_META[key]
        start, stop = windows[key]
        incidents.append(
            PlantedIncident(
                key=key,
                issue=issue,
                service=BACKEND,
                revision=revision,
                instance_ids=incident_instances(key, INCIDENT_INSTANCES[key]),
                start=from_us(start),
                end=from_us(stop),
                chain=list(CHAINS[key]),
                summary=summary,
            )
        )
    return Scenario(
        project=DEMO_PROJECT,
        region=REGION,
        window_start=from_us(tl.start_us),
        window_end=from_us(tl.end_us),
        incidents=incidents,
        deploys=sorted(_deploys(tl), key=lambda d: d.time),
    )
