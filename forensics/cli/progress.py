"""The collection progress bar: one line per pull with items, pages, retries and an ETA.

Pulls come back oldest first, so how far the newest entry reached through the window is the
progress, and rich turns its rate into the ETA. Drawn on stderr so ``--json`` stays clean.
"""

from __future__ import annotations

from types import TracebackType

from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from forensics.console import err_console

__all__ = ["RichProgress"]


class RichProgress:
    """A ``forensics.collectors.pull.Progress`` drawn with rich."""

    def __init__(self, enabled: bool = True) -> None:
        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[items]:>9,} items · {task.fields[pages]:>4} pages"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}", markup=False),
            console=err_console,
            disable=not enabled,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def start(self, key: str, title: str) -> None:
        if key in self._tasks:
            self._bar.update(self._tasks[key], note="resumed")
            return
        self._tasks[key] = self._bar.add_task(title, total=1.0, items=0, pages=0, note="")

    def update(self, key: str, *, items: int, pages: int, fraction: float) -> None:
        self._bar.update(self._tasks[key], completed=fraction, items=items, pages=pages, note="")

    def retry(self, key: str, error: str, delay_s: float) -> None:
        self._bar.update(self._tasks[key], note=f"retry in {delay_s:.1f}s: {error[:60]}")

    def finish(self, key: str, status: str) -> None:
        task = self._tasks[key]
        if status == "complete":
            self._bar.update(task, completed=1.0, note="done")
        else:
            self._bar.update(task, note="FAILED: recorded as a data gap")
        self._bar.stop_task(task)
