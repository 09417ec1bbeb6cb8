"""Audit log entries for the demo: Cloud Run ReplaceService, Ready events, VPC connector update.

The request of each ReplaceService carries the whole service template (image, env var names,
resource limits, Cloud SQL and VPC annotations), so revision-to-revision drift can be diffed.
"""

from __future__ import annotations

from forensics.demo.entries import audit_entry, run_resource, service_resource
from forensics.demo.model import (
    AUTH,
    BACKEND,
    CASCADE,
    CONNECTOR,
    DEMO_PROJECT,
    FRONTEND,
    PROJECT_NUMBER,
    REGION,
    REV,
    ROLLOUT_S,
    Timeline,
    deploy_times,
)
from forensics.demo.revisions import CONFIGS, CONNECTOR_PATH, digest, template

DEPLOYER = f"netra-staging-deploy@{DEMO_PROJECT}.iam.gserviceaccount.com"
AUDIT_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"
CALLER_IP = "198.51.100.23"
GCLOUD_UA = (
    "google-cloud-sdk gcloud/534.0.0 command/gcloud.{cmd} invocation-id/{inv} environment/None "
    "environment-version/None client-os/LINUX interactive/False from-script/True python/3.12.10"
)

Spec = tuple  # (ts_us, builder, arg) as consumed by the stream


def _uuid(tag: str) -> str:
    h = digest(tag)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _replace_service(service: str, revision: str, tag: str, command: str) -> dict:
    cfg = CONFIGS[revision]
    name = f"namespaces/{DEMO_PROJECT}/services/{service}"
    op_id = _uuid("op/" + tag)
    return {
        "@type": AUDIT_TYPE,
        "authenticationInfo": {
            "principalEmail": DEPLOYER,
            "principalSubject": f"serviceAccount:{DEPLOYER}",
        },
        "authorizationInfo": [
            {
                "granted": True,
                "permission": "run.services.update",
                "permissionType": "ADMIN_WRITE",
                "resource": name,
                "resourceAttributes": {},
            }
        ],
        "methodName": "google.cloud.run.v1.Services.ReplaceService",
        "request": {
            "@type": "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest",
            "name": name,
            "service": {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "metadata": {
                    "annotations": {
                        "run.googleapis.com/ingress": "all",
                        "run.googleapis.com/operation-id": op_id,
                        "serving.knative.dev/lastModifier": DEPLOYER,
                    },
                    "labels": {"cloud.googleapis.com/location": REGION},
                    "name": service,
                    "namespace": PROJECT_NUMBER,
                },
                "spec": {
                    "template": template(cfg, digest("nonce/" + tag)[:10]),
                    "traffic": [{"latestRevision": True, "percent": 100}],
                },
            },
        },
        "requestMetadata": {
            "callerIp": CALLER_IP,
            "callerSuppliedUserAgent": GCLOUD_UA.format(cmd=command, inv=digest(tag)[:32]),
        },
        "resourceLocation": {"currentLocations": [REGION]},
        "resourceName": name,
        "serviceName": "run.googleapis.com",
    }


def _ready_event(service: str, revision: str, ok: bool, message: str, kind: str) -> dict:
    """system_event payload: 'Ready condition status changed to True/False for ...'."""
    status = "True" if ok else "False"
    if kind == "Revision":
        text = f"Ready condition status changed to {status} for Revision {revision}"
        resource_name = f"namespaces/{DEMO_PROJECT}/revisions/{revision}"
        response = {
            "@type": "type.googleapis.com/google.cloud.run.v1.Revision",
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Revision",
            "metadata": {
                "labels": {
                    "serving.knative.dev/configuration": service,
                    "serving.knative.dev/service": service,
                },
                "name": revision,
                "namespace": PROJECT_NUMBER,
            },
            "spec": template(CONFIGS[revision], digest("rev/" + revision)[:10])["spec"],
            "status": {"conditions": [{"status": status, "type": "Ready"}]},
        }
    else:
        text = f"Ready condition status changed to {status} for Service {service}"
        resource_name = f"namespaces/{DEMO_PROJECT}/services/{service}"
        response = {
            "@type": "type.googleapis.com/google.cloud.run.v1.Service",
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {"name": service, "namespace": PROJECT_NUMBER},
            "status": {
                "conditions": [{"status": status, "type": "Ready"}],
                "latestCreatedRevisionName": revision,
            },
        }
        if ok:
            response["status"]["latestReadyRevisionName"] = revision
    text += f" with message: {message}" if message else "."
    if not text.endswith("."):
        text += "."
    return {
        "@type": AUDIT_TYPE,
        "methodName": "/Services.ReplaceService",
        "resourceName": resource_name,
        "response": response,
        "status": {"message": text} if ok else {"code": 9, "message": text},
    }


_NOT_READY = (
    "The user-provided container failed to start and listen on the port defined provided by the "
    "PORT=8000 environment variable within the allocated timeout. This can happen when the "
    "container port is misconfigured or if the timeout is too short. The health check timeout "
    "can be extended. Logs for this revision might contain more information."
)


def deploy_specs(tl: Timeline) -> list[Spec]:
    """All audit entries of the window: ReplaceService calls, Ready events, connector update."""
    d = deploy_times(tl)
    specs: list[Spec] = []

    def activity(at: int, service: str, revision: str, tag: str, command: str) -> None:
        proto = _replace_service(service, revision, tag, command)
        specs.append(
            (at, audit_entry, ("activity", service_resource(service), "NOTICE", proto, None))
        )

    def ready(at: int, service: str, revision: str, ok: bool, msg: str, kind: str) -> None:
        res = run_resource(service, revision) if kind == "Revision" else service_resource(service)
        proto = _ready_event(service, revision, ok, msg, kind)
        arg = ("system_event", res, "INFO" if ok else "ERROR", proto, None)
        specs.append((at, audit_entry, arg))

    for key, service, revision in (
        ("backend-traffic", BACKEND, REV["backend-0"]),
        ("auth-traffic", AUTH, REV["auth-0"]),
    ):
        activity(d[key], service, revision, key, "run.services.update-traffic")
        ready(d[key] + tl.span(6), service, revision, True, "", "Service")

    for key, service, revision, took in (
        ("auth-fix", AUTH, REV["auth-1"], "41.27s"),
        ("backend-fix", BACKEND, REV["backend-2"], "1m12.44s"),
        ("frontend", FRONTEND, REV["frontend-1"], "23.02s"),
    ):
        activity(d[key], service, revision, key, "run.deploy")
        live = d[key] + tl.span(ROLLOUT_S)
        msg = f"Deploying revision succeeded in {took}"
        ready(live - tl.span(2), service, revision, True, msg, "Revision")
        ready(live, service, revision, True, "", "Service")

    bad = d["backend-bad"]
    activity(bad, BACKEND, REV["backend-1"], "backend-bad", "run.deploy")
    ready(bad + tl.span(270), BACKEND, REV["backend-1"], False, _NOT_READY, "Revision")
    ready(
        bad + tl.span(272),
        BACKEND,
        REV["backend-1"],
        False,
        f"Revision '{REV['backend-1']}' is not ready and cannot serve traffic. " + _NOT_READY,
        "Service",
    )
    specs.extend(connector_specs(tl))
    return specs


def connector_specs(tl: Timeline) -> list[Spec]:
    """UpdateConnector after the #1278 cascade: a long-running operation logged first and last."""
    at = tl.at(CASCADE[0]) + tl.span(CASCADE[1]) + tl.span(300)
    op_id = f"projects/{DEMO_PROJECT}/locations/{REGION}/operations/{_uuid('vpc')}"
    first = _connector_call()
    first["authorizationInfo"] = [
        {
            "granted": True,
            "permission": "vpcaccess.connectors.update",
            "resource": CONNECTOR_PATH,
            "resourceAttributes": {},
        }
    ]
    first["request"] = {
        "@type": "type.googleapis.com/google.cloud.vpcaccess.v1.UpdateConnectorRequest",
        "connector": {
            "name": CONNECTOR_PATH,
            "machineType": "e2-standard-4",
            "minInstances": 2,
            "maxInstances": 10,
        },
        "updateMask": "machineType,maxInstances",
    }
    last = _connector_call()
    last["response"] = {
        "@type": "type.googleapis.com/google.cloud.vpcaccess.v1.Connector",
        "name": CONNECTOR_PATH,
        "machineType": "e2-standard-4",
        "minInstances": 2,
        "maxInstances": 10,
        "network": "staging-vpc",
        "ipCidrRange": "10.8.0.0/28",
        "state": "READY",
    }
    producer = "vpcaccess.googleapis.com"
    return [
        (
            at + offset,
            audit_entry,
            (
                "activity",
                _connector_resource(),
                "NOTICE",
                proto,
                {"id": op_id, "producer": producer, **flag},
            ),
        )
        for offset, proto, flag in (
            (0, first, {"first": True}),
            (tl.span(95), last, {"last": True}),
        )
    ]


def _connector_resource() -> dict:
    labels = {"project_id": DEMO_PROJECT, "connector_name": CONNECTOR, "location": REGION}
    return {"type": "vpc_access_connector", "labels": labels}


def _connector_call() -> dict[str, object]:
    return {
        "@type": AUDIT_TYPE,
        "authenticationInfo": {"principalEmail": DEPLOYER},
        "requestMetadata": {
            "callerIp": CALLER_IP,
            "callerSuppliedUserAgent": GCLOUD_UA.format(
                cmd="compute.networks.vpc-access.connectors.update", inv=digest("vpc")[:32]
            ),
        },
        "serviceName": "vpcaccess.googleapis.com",
        "methodName": "google.cloud.vpcaccess.v1.VpcAccessService.UpdateConnector",
        "resourceName": CONNECTOR_PATH,
        "resourceLocation": {"currentLocations": [REGION]},
    }
