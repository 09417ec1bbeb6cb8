"""Parse times and build analysis windows; every time is UTC."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from forensics.errors import InputError

__all__ = [
    "Window",
    "day_window",
    "parse_day",
    "parse_duration",
    "parse_rfc3339",
    "parse_time",
    "utcnow",
    "window_ending",
]


def utcnow() -> datetime:
    """Now, in UTC, truncated to the second (reports should not flicker in microseconds)."""
    return datetime.now(UTC).replace(microsecond=0)


def parse_time(text: str, field: str = "time") -> datetime:
    """Parse an ISO 8601 / RFC 3339 time ('2025-09-16T10:00:00Z', '+00:00', or a bare date).

    A time without an offset is taken as UTC.
    """
    value = text.strip()
    if value.lower() == "now":
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{field}: {text!r} is not a time; use ISO 8601, e.g. 2025-09-16T10:00:00Z"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_rfc3339(text: str) -> datetime:
    """An API timestamp (RFC 3339, up to nanoseconds, Z or an offset) as an aware datetime.

    Nanoseconds are cut to microseconds, as the client libraries do. Raises ValueError.
    """
    value = text.strip().replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if "." in value:
        head, _, rest = value.partition(".")
        digits = "".join(itertools.takewhile(str.isdigit, rest))
        value = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no zone (Z or +00:00)")
    return parsed


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, field: str = "duration") -> timedelta:
    """Parse '30m', '1h', '7d', '90s', '2w'."""
    match = _DURATION.match(text)
    if not match:
        raise InputError(f"{field}: {text!r} is not a duration; use e.g. 30m, 1h, 7d")
    try:
        return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    except OverflowError:
        raise InputError(f"{field}: {text!r} is too long (at most 999,999,999 days)") from None


@dataclass(frozen=True)
class Window:
    """A half-open time window [since, until)."""

    since: datetime
    until: datetime

    @property
    def hours(self) -> float:
        return (self.until - self.since).total_seconds() / 3600

    def params(self) -> dict[str, datetime]:
        return {"since": self.since, "until": self.until}

    def as_dict(self) -> dict[str, str | float]:
        return {
            "since": self.since.isoformat().replace("+00:00", "Z"),
            "until": self.until.isoformat().replace("+00:00", "Z"),
            "hours": round(self.hours, 3),
        }


def window_ending(hours: float, until: str | datetime | None = None) -> Window:
    """The window of ``hours`` ending at ``until`` (default now).

    A window that would start before year 1 is an InputError (one line), not an OverflowError;
    forensics.store.clamp_window then bounds a long window by what the store holds.
    """
    if not math.isfinite(hours) or hours <= 0:
        raise InputError(f"--hours must be a positive number, got {hours}")
    end = until if isinstance(until, datetime) else parse_time(until) if until else utcnow()
    try:
        return Window(end - timedelta(hours=hours), end)
    except OverflowError:
        raise InputError(
            f"--hours {hours:g}: the window would start before year 1; use a smaller number"
        ) from None


def parse_day(text: str, field: str = "--date") -> date:
    """Parse a UTC day: 'YYYY-MM-DD', 'today' or 'yesterday' (UTC)."""
    value = text.strip().lower()
    today = utcnow().date()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{field}: {text!r} is not a day; use YYYY-MM-DD, 'today' or 'yesterday' (UTC)"
        ) from None


def day_window(day: date) -> Window:
    """The UTC day as a window [00:00, next 00:00)."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return Window(start, start + timedelta(days=1))
