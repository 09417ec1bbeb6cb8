"""A Cloud Run revision's configuration as a flat dict, and what changed between two of them.

Read from audit-log bodies: the v1 Knative template (``ReplaceService`` requests, Revision
responses) and the v2 template (``UpdateService``/``CreateService``). Environment variables are
kept by NAME only: their values may be secrets and never leave this module.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["FIELD_KIND", "RevisionConfig", "config_changes", "describe_change", "run_config"]

RevisionConfig = dict[str, Any]
_DIGEST = re.compile(r"(sha256:[0-9a-f]{12})[0-9a-f]+")  # a person needs 12 digits, not 64
UNSET = "(unset)"  # a setting one configuration has and the other lacks
_BOOLS = ("true", "false")

# v1 annotation → flat key (the settings that drift matters for).
_ANNOTATIONS = {
    "autoscaling.knative.dev/minScale": "min_instances",
    "autoscaling.knative.dev/maxScale": "max_instances",
    "run.googleapis.com/cpu-throttling": "cpu_throttling",
    "run.googleapis.com/startup-cpu-boost": "startup_cpu_boost",
    "run.googleapis.com/execution-environment": "execution_environment",
    "run.googleapis.com/vpc-access-connector": "vpc_connector",
    "run.googleapis.com/vpc-access-egress": "vpc_egress",
    "run.googleapis.com/network-interfaces": "vpc_network_interfaces",
    "run.googleapis.com/cloudsql-instances": "cloudsql_instances",
}
# Flat key → the kind of change it is (drift evidence is counted per kind; image is a deploy).
FIELD_KIND = {
    "image": "image",
    "env": "env",
    "cpu": "resources",
    "memory": "resources",
    "concurrency": "resources",
    "timeout": "resources",
    "min_instances": "scaling",
    "max_instances": "scaling",
    "cpu_throttling": "resources",
    "startup_cpu_boost": "resources",
    "execution_environment": "resources",
    "vpc_connector": "vpc",
    "vpc_egress": "vpc",
    "vpc_network_interfaces": "vpc",
    "cloudsql_instances": "cloudsql",
    "service_account": "identity",
    "port": "network",
    "connector_machine_type": "vpc",
    "connector_min_instances": "vpc",
    "connector_max_instances": "vpc",
}


def _normed(config: RevisionConfig) -> RevisionConfig:
    """The settings a configuration has (no None, "" or [] one), as Cloud Run compares them:
    "True" and "true" are the same setting (a true/false read as a string), 80.0 is 80 (JSON
    writers disagree). O(settings); a wide fleet reads tens of thousands: types are tested
    once each, most values being strings."""
    out: RevisionConfig = {}
    for key, value in config.items():
        kind = type(value)
        if kind is str:
            if not value:
                continue
            # only a 4- or 5-letter one is lowered (images are long)
            if len(value) in (4, 5) and value.lower() in _BOOLS:
                value = value.lower()
        elif value is None or (kind is list and not value):
            continue
        elif kind is bool:
            value = "true" if value else "false"
        elif kind is float and value.is_integer():
            value = int(value)
        out[key] = value
    return out


def _container(containers: Any) -> dict[str, Any]:
    return containers[0] if isinstance(containers, list) and containers else {}


def _env_names(container: dict[str, Any]) -> list[str]:
    """The variables' names, sorted (a loop, not a generator: a wide fleet reads 20,000)."""
    names = []
    for e in container.get("env") or []:
        if isinstance(e, dict) and "name" in e:
            name = e["name"]
            names.append(name if type(name) is str else str(name))
    names.sort()
    return names


def _v1(template: dict[str, Any]) -> RevisionConfig:
    spec = template.get("spec") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    container = _container(spec.get("containers"))
    limits = (container.get("resources") or {}).get("limits") or {}
    ports = container.get("ports") or [{}]
    config: RevisionConfig = {
        "image": container.get("image"),
        "env": _env_names(container),
        "cpu": limits.get("cpu"),
        "memory": limits.get("memory"),
        "concurrency": spec.get("containerConcurrency"),
        "timeout": spec.get("timeoutSeconds"),
        "service_account": spec.get("serviceAccountName"),
        "port": (ports[0] or {}).get("containerPort"),
    }
    for annotation, key in _ANNOTATIONS.items():
        if annotation in annotations:
            config[key] = annotations[annotation]
    return config


def _v2(template: dict[str, Any]) -> RevisionConfig:
    container = _container(template.get("containers"))
    limits = (container.get("resources") or {}).get("limits") or {}
    scaling = template.get("scaling") or {}
    vpc = template.get("vpcAccess") or {}
    ports = container.get("ports") or [{}]
    volumes = template.get("volumes") or []
    cloudsql = [
        ",".join((v.get("cloudSqlInstance") or {}).get("instances") or [])
        for v in volumes
        if isinstance(v, dict) and v.get("cloudSqlInstance")
    ]
    config: RevisionConfig = {
        "image": container.get("image"),
        "env": _env_names(container),
        "cpu": limits.get("cpu"),
        "memory": limits.get("memory"),
        "concurrency": template.get("maxInstanceRequestConcurrency"),
        "timeout": template.get("timeout"),
        "service_account": template.get("serviceAccount"),
        "port": (ports[0] or {}).get("containerPort"),
        "min_instances": scaling.get("minInstanceCount"),
        "max_instances": scaling.get("maxInstanceCount"),
        "vpc_connector": vpc.get("connector"),
        "vpc_egress": vpc.get("egress"),
        "cloudsql_instances": ",".join(cloudsql) or None,
    }
    return config


def run_config(payload: dict[str, Any]) -> RevisionConfig | None:
    """The configuration an audit payload carries: a request's template or a Revision's spec."""
    request = payload.get("request") or {}
    service = request.get("service") or {}
    if isinstance(service.get("spec"), dict) and "template" in service["spec"]:
        config = _v1(service["spec"]["template"])
    elif isinstance(service.get("template"), dict):
        config = _v2(service["template"])
    else:
        response = payload.get("response") or {}
        if response.get("kind") != "Revision" or not isinstance(response.get("spec"), dict):
            return None
        config = _v1({"metadata": response.get("metadata") or {}, "spec": response["spec"]})
    return _normed(config)


def config_changes(before: RevisionConfig, after: RevisionConfig) -> list[dict[str, Any]]:
    """What changed: ``{field, kind, from, to}``, or for env ``{field, kind, added, removed}``."""
    changes: list[dict[str, Any]] = []
    # only the settings that differ are sorted (a handful of a configuration's dozen): O(s + c
    # log c) for s settings, c changed; a missing setting reads as None
    changed = [k for k, v in after.items() if before.get(k) != v]
    changed += [k for k, v in before.items() if k not in after and v is not None]
    for key in sorted(changed):
        old, new = before.get(key), after.get(key)
        kind = FIELD_KIND.get(key, "other")
        if key == "env":
            added = sorted(set(new or []) - set(old or []))
            removed = sorted(set(old or []) - set(new or []))
            changes.append({"field": key, "kind": kind, "added": added, "removed": removed})
        else:
            changes.append({"field": key, "kind": kind, "from": old, "to": new})
    return changes


def describe_change(change: dict[str, Any]) -> str:
    """One line for a person: "env added: A, B", "memory: 512Mi -> 1Gi"."""
    if change["field"] == "env":
        parts = []
        if change["added"]:
            parts.append("env added: " + ", ".join(change["added"]))
        if change["removed"]:
            parts.append("env removed: " + ", ".join(change["removed"]))
        return "; ".join(parts)
    return f"{change['field']}: {_shown(change['from'])} -> {_shown(change['to'])}"


def _shown(value: Any) -> str:
    """A configuration value for a person: digests shortened, a missing value "(unset)"."""
    if value is None:
        return UNSET
    text = str(value)
    # a wide fleet describes tens of thousands of changes: the regex only where a digest is
    return _short_digests(text) if "sha256:" in text else text


@lru_cache(maxsize=512)
def _short_digests(text: str) -> str:
    """``text`` with its digests shortened; kept for the next change of the service, whose
    "from" is this one's "to" (a wide fleet's image changes: each image shown twice)."""
    return _DIGEST.sub(_short_digest, text)


def _short_digest(match: re.Match[str]) -> str:
    return match.group(1) + "…"
