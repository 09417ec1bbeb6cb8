"""Streaming generation of the demo log window and its export files (ndjson, gcloud json, .gz).

Planted entries (incidents, deploys) are few and planned up front; normal traffic is planned one
hour at a time as small tuples, merged with that hour's planted specs, sorted and materialised.
Peak memory is therefore one hour's plan, whatever `n_entries` is.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Literal, TextIO

from forensics.demo.audit import deploy_specs
from forensics.demo.entries import Factory
from forensics.demo.incidents_app import plan_app_incidents
from forensics.demo.incidents_db import plan_cascade, plan_missing_module
from forensics.demo.model import US, Timeline, timeline
from forensics.demo.normal import NormalTraffic
from forensics.demo.planner import Planner

HOUR_US = 3600 * US
DEFAULT_ENTRIES = 20_000


def planted_specs(tl: Timeline, seed: int) -> list[tuple]:
    """Every planted entry spec of the window, sorted by time (stable)."""
    p = Planner(tl, seed)
    plan_cascade(p)
    plan_missing_module(p)
    plan_app_incidents(p)
    specs = p.specs + deploy_specs(tl)
    specs.sort(key=itemgetter(0))
    if specs and not (tl.start_us <= specs[0][0] and specs[-1][0] < tl.end_us):
        raise AssertionError("planted entry outside the window")  # a planning bug, not input
    return specs


def planted_entry_count(end: datetime | None = None, hours: int = 24, seed: int = 1278) -> int:
    """How many entries the incidents and deploys take; `n_entries` must be at least this."""
    return len(planted_specs(timeline(end, hours), seed))


def _hour_quotas(tl: Timeline, total: int) -> list[int]:
    """Split `total` over the hours with a day/night curve (largest remainder, deterministic)."""
    weights = []
    for h in range(tl.hours):
        hour_of_day = ((tl.start_us + h * HOUR_US) // HOUR_US) % 24
        weights.append(1.0 + 0.6 * math.sin(2 * math.pi * (hour_of_day - 9) / 24))
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    quotas = [int(x) for x in exact]
    by_fraction = sorted(range(tl.hours), key=lambda h: (quotas[h] - exact[h], h))
    for h in by_fraction[: total - sum(quotas)]:
        quotas[h] += 1
    return quotas


def generate_entries(
    n_entries: int = DEFAULT_ENTRIES,
    end: datetime | None = None,
    hours: int = 24,
    seed: int = 1278,
) -> Iterator[dict]:
    """Yield LogEntry dicts (Cloud Logging v2 REST JSON), ascending, covering [end-hours, end).

    `end` defaults to now (UTC) truncated to the minute; naive datetimes are taken as UTC.
    Deterministic for the same arguments; exactly `n_entries` entries. Raises ValueError at call
    time (not at first iteration) if `n_entries` cannot hold the planted incidents.
    """
    tl = timeline(end, hours)
    planted = planted_specs(tl, seed)
    n_normal = n_entries - len(planted)
    if n_normal < 0:
        raise ValueError(f"n_entries must be >= {len(planted)} (the planted incident entries)")
    return _stream(tl, planted, _hour_quotas(tl, n_normal), seed)


def _stream(tl: Timeline, planted: list[tuple], quotas: list[int], seed: int) -> Iterator[dict]:
    normal = NormalTraffic(tl)
    plan_rng = random.Random(f"demo-normal/{seed}")
    f = Factory(seed)
    j, n_planted = 0, len(planted)
    by_time = itemgetter(0)
    for h in range(tl.hours):
        start = tl.start_us + h * HOUR_US
        stop = min(start + HOUR_US, tl.end_us)
        batch = normal.plan_hour(start, stop, quotas[h], plan_rng)
        while j < n_planted and planted[j][0] < stop:
            batch.append(planted[j])
            j += 1
        batch.sort(key=by_time)  # stable: equal timestamps keep their planned order
        for us, build, arg in batch:
            yield build(f, us, arg)
        del batch


@contextmanager
def _open_text(path: Path) -> Iterator[TextIO]:
    if path.suffix == ".gz":
        # mtime=0 and no file name in the header keep .gz output byte-for-byte reproducible.
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
            io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as text,
        ):
            yield text
    else:
        with path.open("w", encoding="utf-8", newline="\n") as text:
            yield text


def write_export(
    path: Path | str,
    n_entries: int = DEFAULT_ENTRIES,
    end: datetime | None = None,
    hours: int = 24,
    seed: int = 1278,
    fmt: Literal["ndjson", "json"] = "ndjson",
) -> int:
    """Write an export file and return the number of entries written.

    "ndjson": one compact entry per line, as a log sink writes them. "json": one pretty array
    with sorted keys and 2-space indent, as `gcloud logging read --format=json` prints it.
    A path ending in .gz is gzip-compressed. Streams: memory does not grow with `n_entries`.
    """
    if fmt not in ("ndjson", "json"):
        raise ValueError(f"fmt must be 'ndjson' or 'json', not {fmt!r}")
    entries = generate_entries(n_entries, end, hours, seed)
    count = 0
    with _open_text(Path(path)) as out:
        if fmt == "ndjson":
            encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
            buf: list[str] = []
            for entry in entries:
                buf.append(encode(entry))
                count += 1
                if len(buf) >= 2000:
                    buf.append("")
                    out.write("\n".join(buf))
                    buf.clear()
            if buf:
                buf.append("")
                out.write("\n".join(buf))
        else:
            pretty = json.JSONEncoder(ensure_ascii=False, indent=2, sort_keys=True).encode
            for entry in entries:
                # JSON strings escape newlines, so re-indenting line starts is safe.
                out.write(
                    ("[\n  " if count == 0 else ",\n  ") + pretty(entry).replace("\n", "\n  ")
                )
                count += 1
            out.write("\n]\n" if count else "[]\n")
    return count
