"""A report's deploy markers, read from the analysis' DeployMarker objects (issue 11).

``Markers`` is the sequence in time order that the report facts and postmortems read: each made
into the dict a report shows (``marker``) only when read, so a wide fleet's 20,000 markers are
not all made into dicts to list 50 and the ten nearest each incident.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any, overload

from forensics.report import facts

if TYPE_CHECKING:
    from forensics.incidents.model import DeployMarker

__all__ = ["Markers", "marker"]


def marker(dep: DeployMarker) -> dict[str, Any]:
    """One deploy marker as forensics.report.model._deploys makes it from the marker's dict."""
    out = {**dep.as_dict(), "time": dep.time.astimezone(UTC), "revision": dep.revision or None}
    out["label"] = facts.deploy_label(out)
    return out


class Markers(Sequence[dict[str, Any]]):
    """Deploy markers in time order, each made into ``_deploys``' dict when read: a wide fleet
    has 20,000 and a report reads the few near each incident (by bisection) and the ones it
    lists. O(d log d) to sort, O(1) per marker read."""

    def __init__(self, deploys: Sequence[DeployMarker]) -> None:
        self.objects = sorted(deploys, key=lambda d: (d.time, str(d.service)))
        self.times = [d.time for d in self.objects]  # to bisect without making dicts
        self._made: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.objects)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.objects)))]
        index = range(len(self.objects))[index]  # negative indices; IndexError past the end
        made = self._made.get(index)
        if made is None:
            made = self._made[index] = marker(self.objects[index])
        return made
