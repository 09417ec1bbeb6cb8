"""The rendering state of one scenario: ids, resources, entries emitted and metric tallies."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forensics.scenarios.model import Scenario, Service

__all__ = ["REGION", "Rendered", "Tally", "World", "iso", "minute_of", "minutes", "revision_at"]

REGION = "us-central1"


def iso(at: datetime) -> str:
    """RFC 3339 with microseconds and Z, as Cloud Logging returns it."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Rendered:
    """What a scenario produced: entries on time, entries that arrive late, metric series."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Tally:
    """Per-minute metric values gathered while rendering, turned into series at the end."""

    requests: dict[tuple[str, str, int], dict[datetime, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    instances: dict[tuple[str, str], dict[datetime, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    memory: dict[tuple[str, str], dict[datetime, float]] = field(
        default_factory=lambda: defaultdict(dict)
    )


class World:
    """Builds entries for one scenario: ids, resources, and the metric tallies."""

    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rng = random.Random(scenario.seed)
        self.out = Rendered()
        self.tally = Tally()
        self._serial = 0
        # service -> [(since, serving instances)]: rollouts and OOM replacements change it
        self.pools: dict[str, list[tuple[datetime, list[str]]]] = defaultdict(list)

    def pool_at(self, service: str, at: datetime) -> list[str]:
        current = self.pools[service][0][1]
        for since, pool in self.pools[service]:
            if since <= at:
                current = pool
        return current

    def set_pool(self, service: str, at: datetime, pool: list[str]) -> None:
        self.pools[service].append((at, pool))
        self.pools[service].sort(key=lambda p: p[0])

    # -- identities ---------------------------------------------------------------------
    def insert_id(self, at: datetime) -> str:
        self._serial += 1
        return f"{int(at.timestamp()):08x}{self._serial:06x}{self.rng.getrandbits(40):010x}"

    def instance_id(self) -> str:
        return "0069c7a988" + "".join(f"{self.rng.getrandbits(32):08x}" for _ in range(19))

    def trace(self) -> tuple[str, str]:
        trace = f"projects/{self.s.project}/traces/{self.rng.getrandbits(128):032x}"
        return trace, f"{self.rng.getrandbits(63) | 1:016x}"

    def log_name(self, log_id: str) -> str:
        return f"projects/{self.s.project}/logs/{log_id.replace('/', '%2F')}"

    # -- entries ------------------------------------------------------------------------
    def emit(self, entry: dict[str, Any], at: datetime, late_s: float = 0.0) -> None:
        delay = late_s or self.rng.uniform(0.02, 0.4)
        entry["timestamp"] = iso(at)
        entry["receiveTimestamp"] = iso(at + timedelta(seconds=delay))
        entry["insertId"] = self.insert_id(at)
        (self.out.late if late_s else self.out.entries).append(entry)

    def run_entry(
        self,
        service: str,
        revision: str,
        instance: str | None,
        log_id: str,
        severity: str,
        text: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "logName": self.log_name(log_id),
            "resource": {
                "type": "cloud_run_revision",
                "labels": {
                    "configuration_name": service,
                    "location": REGION,
                    "project_id": self.s.project,
                    "revision_name": revision,
                    "service_name": service,
                },
            },
            "severity": severity,
        }
        if instance:
            entry["labels"] = {"instanceId": instance}
        if payload is not None:
            entry["jsonPayload"] = payload
        elif text is not None:
            entry["textPayload"] = text
        return entry

    def line(
        self,
        svc: str,
        rev: str,
        inst: str,
        at: datetime,
        text: str,
        severity: str = "DEFAULT",
        log_id: str = "run.googleapis.com/stderr",
        late_s: float = 0.0,
    ) -> None:
        self.emit(self.run_entry(svc, rev, inst, log_id, severity, text), at, late_s)

    def system(
        self, svc: str, rev: str, inst: str, at: datetime, text: str, severity: str, late_s: float
    ) -> None:
        entry = self.run_entry(svc, rev, inst, "run.googleapis.com/varlog/system", severity, text)
        entry["labels"]["container_name"] = f"{svc}-1"
        self.emit(entry, at, late_s)


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def minutes(since: datetime, until: datetime) -> Iterator[datetime]:
    at = minute_of(since)
    while at < until:
        yield at
        at += timedelta(minutes=1)


def revision_at(s: Scenario, service: Service, at: datetime) -> str:
    current = service.revision
    for d in sorted(s.deploys, key=lambda d: d.ready_at):
        if d.service == service.name and d.ready_at <= at:
            current = d.revision
    return current
