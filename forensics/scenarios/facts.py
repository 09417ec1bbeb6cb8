"""The vocabulary of a scenario check: one expected fact, its result, and a scenario's results.

Kept apart from the fact builders (check.py, incident_facts.py) because these types are what
the harness, the benchmark and the tests read, and they change for other reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forensics.timeutil import parse_time

__all__ = ["TOLERANCE", "Fact", "FactResult", "Judge", "ScenarioResult", "near", "parse_at"]

TOLERANCE = timedelta(minutes=1)
Judge = Callable[[dict[str, Any], dict[str, Any]], tuple[bool, Any]]


@dataclass(frozen=True)
class Fact:
    """One expected fact: a stable id, the expected value, and how to read the actual one."""

    id: str
    expected: Any
    judge: Judge


@dataclass(frozen=True)
class FactResult:
    """One fact checked: did the analysis say it, and what did it say instead."""

    id: str
    ok: bool
    expected: Any
    actual: Any


@dataclass(frozen=True)
class ScenarioResult:
    """Every fact of one scenario."""

    name: str
    facts: list[FactResult] = field(default_factory=list)
    entries: int = 0

    @property
    def matched(self) -> list[FactResult]:
        return [f for f in self.facts if f.ok]

    @property
    def mismatched(self) -> list[FactResult]:
        return [f for f in self.facts if not f.ok]

    def fact(self, fact_id: str) -> FactResult:
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(f"{self.name}: no fact {fact_id!r}")


def parse_at(value: Any) -> datetime | None:
    return parse_time(str(value)) if value else None


def near(a: datetime | None, b: datetime) -> bool:
    return a is not None and abs(a - b) <= TOLERANCE
