"""What an ingest reports: counts per source, and each refused entry with its file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["IngestResult", "Rejection"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Rejection:
    """One entry that was refused, and why."""

    source: str
    line_no: int
    element: int | None
    problem: str

    def __str__(self) -> str:
        where = f"line {self.line_no}"
        if self.element is not None:
            where += f" (element {self.element})"
        # The problem may quote the entry's own text: control characters are shown escaped
        # so that one rejection is always one line.
        problem = _CONTROL.sub(lambda m: repr(m.group())[1:-1], self.problem)
        return f"{self.source}: {where}: {problem}"


@dataclass
class IngestResult:
    """Counts for one source (or the sum over several)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # whole-file problems (missing, not JSON)
    notes: list[str] = field(default_factory=list)  # entries kept but cut (forensics.limits)

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.rejections.extend(other.rejections)
        self.errors.extend(other.errors)
        self.notes.extend(other.notes)

    @property
    def clean(self) -> bool:
        return not self.rejected and not self.errors
