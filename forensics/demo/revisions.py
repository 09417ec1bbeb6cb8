"""Revision templates of the demo services: image, env vars, limits, annotations.

These are what drifts between revisions; audit entries embed them so a tool can diff
one revision against the next.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from forensics.demo.model import (
    AUTH,
    BACKEND,
    CONNECTOR,
    DEMO_PROJECT,
    FRONTEND,
    PROJECT_NUMBER,
    REGION,
    REV,
    SQL_CONNECTION_NAME,
)

CONNECTOR_PATH = f"projects/{DEMO_PROJECT}/locations/{REGION}/connectors/{CONNECTOR}"


@dataclass(frozen=True)
class RevisionConfig:
    """The parts of a revision template that matter for drift."""

    service: str
    image: str
    env: tuple[tuple[str, str | None], ...]  # value None means a Secret Manager reference
    cpu: str
    memory: str
    port: int
    min_scale: str = "1"
    max_scale: str = "20"
    cpu_throttling: str = "false"
    cloudsql: bool = True
    concurrency: int = 80


def digest(tag: str) -> str:
    return hashlib.sha256(tag.encode()).hexdigest()


def _image(service: str, tag: str) -> str:
    return f"gcr.io/{DEMO_PROJECT}/{service}@sha256:{digest(tag)}"


_BACKEND_ENV: tuple[tuple[str, str | None], ...] = (
    ("ENVIRONMENT", "staging"),
    ("PYTHONUNBUFFERED", "1"),
    ("AUTH_SERVICE_URL", "https://auth.staging.netrasystems.ai"),
    ("FRONTEND_URL", "https://app.staging.netrasystems.ai"),
    ("POSTGRES_HOST", None),
    ("POSTGRES_PORT", None),
    ("POSTGRES_DB", None),
    ("POSTGRES_USER", None),
    ("POSTGRES_PASSWORD", None),
    ("REDIS_URL", None),
    ("JWT_SECRET_KEY", None),
    ("SERVICE_ID", "netra-backend"),
    ("SERVICE_SECRET", None),
    ("SENTRY_DSN", None),
    ("CLICKHOUSE_URL", None),
)
_BACKEND_ENV_NEW = (
    *(e for e in _BACKEND_ENV if e[0] != "SENTRY_DSN"),
    ("GCP_ERROR_REPORTING_ENABLED", "true"),
    ("GCP_ERROR_REPORTING_SERVICE", BACKEND),
)
_AUTH_ENV: tuple[tuple[str, str | None], ...] = (
    ("ENVIRONMENT", "staging"),
    ("PYTHONUNBUFFERED", "1"),
    ("FRONTEND_URL", "https://app.staging.netrasystems.ai"),
    ("AUTH_SERVICE_URL", "https://auth.staging.netrasystems.ai"),
    ("JWT_ALGORITHM", "HS256"),
    ("JWT_ACCESS_EXPIRY_MINUTES", "15"),
    ("POSTGRES_HOST", None),
    ("POSTGRES_DB", None),
    ("POSTGRES_PASSWORD", None),
    ("SERVICE_SECRET", None),
)
_FRONTEND_ENV: tuple[tuple[str, str | None], ...] = (
    ("NODE_ENV", "production"),
    ("NEXT_PUBLIC_API_URL", "https://api.staging.netrasystems.ai"),
    ("NEXT_PUBLIC_AUTH_URL", "https://auth.staging.netrasystems.ai"),
    ("NEXT_PUBLIC_WS_URL", "wss://api.staging.netrasystems.ai/ws"),
)

_BACKEND_0 = RevisionConfig(BACKEND, _image(BACKEND, "b0"), _BACKEND_ENV, "2", "512Mi", 8000)
_AUTH_0 = RevisionConfig(
    AUTH, _image(AUTH, "a0"), _AUTH_ENV, "1", "512Mi", 8080, min_scale="0", cpu_throttling="true"
)
_FRONTEND_0 = RevisionConfig(
    FRONTEND, _image(FRONTEND, "f0"), _FRONTEND_ENV, "1", "2Gi", 3000, cloudsql=False
)
CONFIGS = {
    REV["backend-0"]: _BACKEND_0,
    REV["backend-1"]: replace(_BACKEND_0, image=_image(BACKEND, "b1"), env=_BACKEND_ENV_NEW),
    REV["backend-2"]: replace(_BACKEND_0, image=_image(BACKEND, "b2"), env=_BACKEND_ENV_NEW),
    REV["auth-0"]: _AUTH_0,
    REV["auth-1"]: replace(
        _AUTH_0,
        image=_image(AUTH, "a1"),
        env=(*_AUTH_ENV, ("AUTH_WARMUP_ON_START", "true")),
        min_scale="1",
        cpu_throttling="false",
    ),
    REV["frontend-0"]: _FRONTEND_0,
    REV["frontend-1"]: replace(_FRONTEND_0, image=_image(FRONTEND, "f1")),
}


def container_name(service: str) -> str:
    return f"{service}-1"


def _env(cfg: RevisionConfig) -> list[dict]:
    out = []
    for name, value in cfg.env:
        if value is None:
            slug = name.lower().replace("_", "-") + "-staging"
            out.append(
                {"name": name, "valueFrom": {"secretKeyRef": {"key": "latest", "name": slug}}}
            )
        else:
            out.append({"name": name, "value": value})
    return out


def template(cfg: RevisionConfig, nonce: str) -> dict:
    annotations = {
        "autoscaling.knative.dev/maxScale": cfg.max_scale,
        "autoscaling.knative.dev/minScale": cfg.min_scale,
        "run.googleapis.com/client-name": "gcloud",
        "run.googleapis.com/client-version": "534.0.0",
        "run.googleapis.com/cpu-throttling": cfg.cpu_throttling,
        "run.googleapis.com/execution-environment": "gen2",
        "run.googleapis.com/startup-cpu-boost": "true",
        "run.googleapis.com/vpc-access-connector": CONNECTOR_PATH,
        "run.googleapis.com/vpc-access-egress": "private-ranges-only",
    }
    if cfg.cloudsql:
        annotations["run.googleapis.com/cloudsql-instances"] = SQL_CONNECTION_NAME
    return {
        "metadata": {
            "annotations": annotations,
            "labels": {
                "client.knative.dev/nonce": nonce,
                "run.googleapis.com/startupProbeType": "Default",
            },
        },
        "spec": {
            "containerConcurrency": cfg.concurrency,
            "containers": [
                {
                    "env": _env(cfg),
                    "image": cfg.image,
                    "name": container_name(cfg.service),
                    "ports": [{"containerPort": cfg.port, "name": "http1"}],
                    "resources": {"limits": {"cpu": cfg.cpu, "memory": cfg.memory}},
                    "startupProbe": {
                        "failureThreshold": 1,
                        "periodSeconds": 240,
                        "tcpSocket": {"port": cfg.port},
                        "timeoutSeconds": 240,
                    },
                }
            ],
            "serviceAccountName": f"{PROJECT_NUMBER}-compute@developer.gserviceaccount.com",
            "timeoutSeconds": 300,
        },
    }
