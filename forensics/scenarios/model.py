"""Read a scenario file (YAML) into typed values; every mistake names the file and the key.

See ``tests/scenarios/README.md`` for the format. Times are RFC 3339 UTC; a time may also be
written relative to the window's end as ``end-90m`` / ``end-2h`` / ``end`` so that scenarios
read as a person tells them ("the crash loop started two hours before the end").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from forensics.errors import InputError
from forensics.timeutil import parse_time

__all__ = [
    "COLLECTIONS",
    "FAILURE_KINDS",
    "Deploy",
    "Failure",
    "Scenario",
    "Service",
    "load_scenario",
    "scenario_paths",
]

COLLECTIONS = ("export", "full", "pushdown")
FAILURE_KINDS = (
    "crash-loop",
    "memory-limit",
    "too-many-clients",
    "connector-scale-out",
    "auth-timeout",
)
CRASH_CAUSES = ("db-init-timeout", "db-validation-timeout", "missing-module")
_RELATIVE = re.compile(r"^end(?:\s*-\s*(\d+(?:\.\d+)?)\s*([smh]))?$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Service:
    """A Cloud Run service: its revision at the window's start and its steady traffic."""

    name: str
    revision: str
    requests_per_minute: int = 10
    health_every_s: int = 60
    instances: int = 2
    url: str = "https://api.staging.netrasystems.ai"


@dataclass(frozen=True)
class Deploy:
    """A new revision rolled out: the audit call at ``at``, Ready ``ready_after_s`` later."""

    service: str
    at: datetime
    revision: str
    ready_after_s: float = 45.0
    startup_s: float = 6.0
    principal: str = "netra-staging-deploy@netra-staging.iam.gserviceaccount.com"

    @property
    def ready_at(self) -> datetime:
        return self.at + timedelta(seconds=self.ready_after_s)


@dataclass(frozen=True)
class Failure:
    """One failure: what broke, where, from when to when, and how it shows."""

    id: str
    kind: str
    start: datetime
    end: datetime
    service: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any) -> Any:
        return self.params.get(key, default)


@dataclass(frozen=True)
class Scenario:
    """One scenario file: the world, how it was collected, and the expected answer."""

    name: str
    path: Path
    summary: str
    project: str
    since: datetime
    until: datetime
    collection: str
    services: tuple[Service, ...]
    deploys: tuple[Deploy, ...]
    failures: tuple[Failure, ...]
    sql_instance: str
    sql_backends: int
    connector: str
    connector_instances: int
    data_gaps: tuple[str, ...]
    late_collect_after_s: float
    request_count: bool  # False: Monitoring's request_count was not collected
    issues: dict[str, Any]
    expected: dict[str, Any]
    seed: int

    @property
    def hours(self) -> float:
        return (self.until - self.since).total_seconds() / 3600

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        raise InputError(f"{self.path}: no service named {name!r} under services")

    def at(self, text: Any, key: str) -> datetime:
        return _time(text, self.until, f"{self.path}: {key}")


def _time(value: Any, until: datetime, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else parse_time(value.isoformat() + "Z", where)
    text = str(value).strip()
    rel = _RELATIVE.match(text)
    if rel:
        if rel.group(1) is None:
            return until
        return until - timedelta(seconds=float(rel.group(1)) * _UNIT_S[rel.group(2)])
    try:
        return parse_time(text, where)
    except InputError:
        raise InputError(
            f"{where}: expected an RFC 3339 time or end-N(s|m|h), got {text!r}"
        ) from None


def _need(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise InputError(f"{where}: missing key {key!r}")
    return data[key]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _services(raw: dict[str, Any], where: str) -> tuple[Service, ...]:
    out = []
    for name, body in _mapping(raw, where).items():
        body = _mapping(body, f"{where}.{name}")
        out.append(
            Service(
                name=str(name),
                revision=str(_need(body, "revision", f"{where}.{name}")),
                requests_per_minute=int(body.get("requests_per_minute", 10)),
                health_every_s=int(body.get("health_every_s", 60)),
                instances=int(body.get("instances", 2)),
                url=str(body.get("url", Service.url)),
            )
        )
    if not out:
        raise InputError(f"{where}: at least one service is needed")
    return tuple(out)


def _failure(i: int, body: Any, until: datetime, path: Path) -> Failure:
    where = f"{path}: failures[{i}]"
    body = dict(_mapping(body, where))
    kind = str(_need(body, "kind", where))
    if kind not in FAILURE_KINDS:
        raise InputError(f"{where}.kind: expected one of {', '.join(FAILURE_KINDS)}, got {kind!r}")
    if kind == "crash-loop" and body.get("cause") not in CRASH_CAUSES:
        raise InputError(f"{where}.cause: expected one of {', '.join(CRASH_CAUSES)}")
    start = _time(_need(body, "start", where), until, f"{where}.start")
    end = _time(body.get("end", "end"), until, f"{where}.end")
    if end <= start:
        raise InputError(f"{where}: end must be after start")
    fid = str(body.pop("id", f"f{i}"))
    service = body.pop("service", None)
    for key in ("kind", "start", "end"):
        body.pop(key, None)
    return Failure(fid, kind, start, end, str(service) if service else None, body)


def load_scenario(path: Path | str) -> Scenario:
    """Read one scenario file; raises InputError naming the file and key on any mistake."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise InputError(f"{path}: cannot read the scenario: {err}") from err
    data = _mapping(data, str(path))
    where = str(path)
    window = _mapping(_need(data, "window", where), f"{where}: window")
    until = _time(_need(window, "until", f"{where}: window"), datetime.min, f"{where}: window")
    hours = float(window.get("hours", 6))
    collection = str(data.get("collection", "export"))
    if collection not in COLLECTIONS:
        raise InputError(f"{where}: collection: expected one of {', '.join(COLLECTIONS)}")
    deploys = tuple(
        Deploy(
            service=str(_need(d, "service", f"{where}: deploys[{i}]")),
            at=_time(_need(d, "at", f"{where}: deploys[{i}]"), until, f"{where}: deploys[{i}]"),
            revision=str(_need(d, "revision", f"{where}: deploys[{i}]")),
            ready_after_s=float(d.get("ready_after_s", 45)),
            startup_s=float(d.get("startup_s", 6)),
        )
        for i, d in enumerate(data.get("deploys") or [])
    )
    sql = _mapping(data.get("cloudsql"), f"{where}: cloudsql")
    connector = _mapping(data.get("connector"), f"{where}: connector")
    name = str(data.get("name") or path.stem)
    return Scenario(
        name=name,
        path=path,
        summary=str(data.get("summary", "")).strip(),
        project=str(data.get("project", "netra-staging")),
        since=until - timedelta(hours=hours),
        until=until,
        collection=collection,
        services=_services(_need(data, "services", where), f"{where}: services"),
        deploys=deploys,
        failures=tuple(
            _failure(i, f, until, path) for i, f in enumerate(data.get("failures") or [])
        ),
        sql_instance=str(sql.get("instance", "staging-shared-postgres")),
        sql_backends=int(sql.get("backends", 25)),
        connector=str(connector.get("name", "staging-connector")),
        connector_instances=int(connector.get("instances", 2)),
        data_gaps=tuple(str(g) for g in data.get("data_gaps") or []),
        request_count=bool(data.get("request_count", True)),
        late_collect_after_s=float(data.get("late_collect_after_s", 900)),
        issues=_mapping(data.get("issues"), f"{where}: issues"),
        expected=_mapping(_need(data, "expected", where), f"{where}: expected"),
        seed=int(data.get("seed", sum(name.encode()))),
    )


def scenario_paths(directory: Path) -> list[Path]:
    """The scenario files of a directory, by name."""
    return sorted(directory.glob("*.yaml"))
