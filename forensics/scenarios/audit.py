"""Cloud Run audit entries of a rollout: the ReplaceService call and its "Ready condition" event.

Shapes from gcp-wire-facts.md §3.2 and the real system_event entries in the staging export:
the call is a v1 ``ReplaceService`` in ``cloudaudit.googleapis.com/activity`` (NOTICE) with
the service-level resource (empty revision and configuration names); the rollout ends with a
``system_event`` whose ``response`` is the Revision and whose status message says "Ready
condition status changed to True for Revision NAME.".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from forensics.scenarios.model import Deploy

__all__ = ["deploy_entries"]

_AUDIT = "type.googleapis.com/google.cloud.audit.AuditLog"


def _resource(project: str, service: str, revision: str, region: str) -> dict[str, Any]:
    return {
        "type": "cloud_run_revision",
        "labels": {
            "configuration_name": service if revision else "",
            "location": region,
            "project_id": project,
            "revision_name": revision,
            "service_name": service,
        },
    }


def _log(project: str, log_id: str) -> str:
    return f"projects/{project}/logs/{log_id.replace('/', '%2F')}"


def deploy_entries(project: str, d: Deploy, region: str) -> list[tuple[dict[str, Any], datetime]]:
    """The rollout's two audit entries (without timestamp and insertId) and their times."""
    template = {
        "metadata": {"name": d.revision},
        "spec": {"containers": [{"image": f"gcr.io/{project}/{d.service}:{d.revision}"}]},
    }
    call = {
        "logName": _log(project, "cloudaudit.googleapis.com/activity"),
        "resource": _resource(project, d.service, "", region),
        "severity": "NOTICE",
        "protoPayload": {
            "@type": _AUDIT,
            "serviceName": "run.googleapis.com",
            "methodName": "google.cloud.run.v1.Services.ReplaceService",
            "resourceName": f"namespaces/{project}/services/{d.service}",
            "authenticationInfo": {"principalEmail": d.principal},
            "request": {
                "@type": "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest",
                "service": {"metadata": {"name": d.service}, "spec": {"template": template}},
            },
        },
    }
    ready = {
        "logName": _log(project, "cloudaudit.googleapis.com/system_event"),
        "resource": _resource(project, d.service, d.revision, region),
        "severity": "INFO",
        "protoPayload": {
            "@type": _AUDIT,
            "serviceName": "run.googleapis.com",
            "methodName": "/Services.ReplaceService",
            "resourceName": f"namespaces/{project}/revisions/{d.revision}",
            "status": {
                "message": f"Ready condition status changed to True for Revision {d.revision}."
            },
            "response": {
                "@type": "type.googleapis.com/google.cloud.run.v1.Revision",
                "kind": "Revision",
                "metadata": {
                    "name": d.revision,
                    "labels": {"serving.knative.dev/service": d.service},
                },
                "spec": template["spec"],
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            },
        },
    }
    return [(call, d.at), (ready, d.ready_at)]
