"""Lay out the report's timeline chart as SVG primitives (the HTML template draws them).

One lane per service: stacked bars of signature matches per bucket, incident bands behind
them, dashed deploy markers, and overlay lines (5xx ratio, utilizations, Cloud SQL backends).
This module only computes numbers and labels; reports/sections/timeline.svg.j2 writes the
elements through jinja2's autoescaping, so no label (service names come from logs) can
become markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forensics.textclip import clip

__all__ = ["PALETTE", "Chart", "layout", "signature_colors"]

WIDTH = 1120
LEFT = 215
RIGHT = 40
TOP = 30
LANE_H = 88
LANE_GAP = 16
BOTTOM = 8
PLOT_W = WIDTH - LEFT - RIGHT
BAR_ROOM = LANE_H - 12

# Distinguishable colours, assigned in catalog precedence order so a signature keeps its colour.
PALETTE = (
    "#d62728", "#ff7f0e", "#8c564b", "#9467bd", "#1f77b4", "#e377c2", "#bcbd22",
    "#17becf", "#2ca02c", "#7f7f7f", "#393b79", "#ad494a", "#637939", "#843c39",
)  # fmt: skip
OTHER_COLOUR = "#b0b0b0"
OVERLAY_COLOURS = {"5xx ratio": "#c00000"}
METRIC_COLOURS = ("#005f99", "#6a3d9a", "#b15928", "#33a02c")


@dataclass
class Chart:
    """SVG primitives in drawing order; every text value is escaped by the template."""

    width: int
    height: int
    lanes: list[dict[str, Any]] = field(default_factory=list)
    grid: list[dict[str, Any]] = field(default_factory=list)
    bands: list[dict[str, Any]] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    deploys: list[dict[str, Any]] = field(default_factory=list)
    legend: list[dict[str, Any]] = field(default_factory=list)


def signature_colors(order: list[str]) -> dict[str, str]:
    """Signature id → colour, stable for a given catalog order."""
    return {sig: PALETTE[i % len(PALETTE)] for i, sig in enumerate(order)}


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value)


class _Scale:
    def __init__(self, since: datetime, until: datetime) -> None:
        self.since, self.span = since, max((until - since).total_seconds(), 1.0)

    def x(self, when: datetime) -> float:
        frac = (when - self.since).total_seconds() / self.span
        return round(LEFT + min(max(frac, 0.0), 1.0) * PLOT_W, 1)


def _tick_step(hours: float) -> timedelta:
    for step in (1, 2, 3, 6, 12, 24, 48, 168):
        if hours / step <= 12:
            return timedelta(hours=step)
    return timedelta(days=14)


def _grid(scale: _Scale, since: datetime, until: datetime, height: int) -> list[dict[str, Any]]:
    step = _tick_step((until - since).total_seconds() / 3600)
    tick = since.replace(minute=0, second=0, microsecond=0)
    while tick < since:
        tick += timedelta(hours=1)
    step_h = int(step.total_seconds() // 3600)
    while tick.hour % min(step_h, 24) and step_h <= 24:
        tick += timedelta(hours=1)
    out, last_day = [], None
    while tick <= until:
        day = tick.date()
        label = tick.strftime("%H:%M") if day == last_day else tick.strftime("%m-%d %H:%M")
        out.append({"x": scale.x(tick), "y1": TOP - 4, "y2": height - BOTTOM, "label": label})
        last_day = day
        tick += step
    return out


def _short(text: str, limit: int = 24) -> str:
    return clip(text, limit)


def _lane_bars(
    chart: dict[str, Any], lane: dict[str, Any], y0: float, scale: _Scale, colours: dict[str, str]
) -> tuple[list[dict[str, Any]], int]:
    bucket = timedelta(seconds=chart["bucket_s"])
    per_bucket: dict[str, list[tuple[str, int]]] = {}
    for row in chart["counts"]:
        if row["service"] == lane["service"]:
            per_bucket.setdefault(row["bucket"], []).append((row["signature"], row["n"]))
    peak = max((sum(n for _, n in rows) for rows in per_bucket.values()), default=0)
    order = list(colours)
    bars = []
    for start, rows in sorted(per_bucket.items()):
        x0, x1 = scale.x(_t(start)), scale.x(_t(start) + bucket)
        base = y0 + LANE_H
        for sig, n in sorted(rows, key=lambda r: order.index(r[0]) if r[0] in order else 99):
            h = max(n / peak * BAR_ROOM, 1.5) if peak else 0.0
            base -= h
            bars.append(
                {
                    "x": x0,
                    "y": round(base, 1),
                    "w": max(round(x1 - x0 - 0.6, 1), 1.0),
                    "h": round(h, 1),
                    "fill": colours.get(sig, OTHER_COLOUR),
                    "title": f"{start[11:16]} {lane['service']} · {sig}: {n}",
                }
            )
    return bars, peak


def _polyline(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _with_data(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a series at its gaps (None: no data in that bucket)."""
    parts: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if parts[-1]:
                parts.append([])
        else:
            parts[-1].append(point)
    return [p for p in parts if p]


def _nonzero_runs(
    points: list[tuple[float, float]], base: float
) -> list[list[tuple[float, float]]]:
    """Split a series into the stretches where it leaves the baseline (plus one point each
    side), so a mostly-zero ratio does not draw a red line along every lane's floor."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(points):
        near = any(points[j][1] < base for j in (i - 1, i, i + 1) if 0 <= j < len(points))
        if near:
            current.append((x, y))
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _lane_lines(
    chart: dict[str, Any], lane: dict[str, Any], y0: float, scale: _Scale
) -> list[dict[str, Any]]:
    bucket = timedelta(seconds=chart["bucket_s"])
    base = y0 + LANE_H
    lines = []
    ratios = [
        None
        if r.get("ratio") is None
        else (scale.x(_t(r["bucket"]) + bucket / 2), base - r["ratio"] * BAR_ROOM)
        for r in chart["requests"]
        if r["service"] == lane["service"]
    ]
    runs = [run for part in _with_data(ratios) for run in _nonzero_runs(part, base)]
    for run in runs:
        lines.append(
            {
                "points": _polyline(run),
                "stroke": OVERLAY_COLOURS["5xx ratio"],
                "dash": "",
                "title": f"{lane['service']}: 5xx ratio per bucket (0–100%, "
                f"from {chart['requests_source']})",
            }
        )
    metrics = [m for m in chart["metrics"] if m["service"] == lane["service"]]
    for i, metric in enumerate(metrics):
        scale_max = metric["scale_max"] or 1.0
        # buckets without a point are a gap: the line stops there instead of bridging it
        pts: list[tuple[float, float] | None] = []
        previous = None
        for t, v in metric["points"]:
            when = _t(t)
            if previous is not None and when - previous > bucket:
                pts.append(None)
            pts.append((scale.x(when + bucket / 2), base - min(v / scale_max, 1.0) * BAR_ROOM))
            previous = when
        for part in _with_data(pts):
            lines.append(
                {
                    "points": _polyline(part),
                    "stroke": METRIC_COLOURS[i % len(METRIC_COLOURS)],
                    "dash": "4 3",
                    "title": f"{lane['service']}: {metric['label']} (peak {metric['peak']:.3g}, "
                    f"scale 0–{scale_max:.3g})",
                }
            )
    return lines


def layout(
    chart: dict[str, Any],
    *,
    deploys: list[dict[str, Any]],
    incidents: list[dict[str, Any]],
    colours: dict[str, str],
) -> Chart:
    """Compute every element of the timeline for the report context's ``chart``."""
    since, until = _t(chart["since"]), _t(chart["until"])
    scale = _Scale(since, until)
    lanes = chart["lanes"]
    height = TOP + max(len(lanes), 1) * (LANE_H + LANE_GAP) + BOTTOM
    out = Chart(WIDTH, height, grid=_grid(scale, since, until, height))
    lane_y: dict[str, float] = {}
    for i, lane in enumerate(lanes):
        y0 = TOP + i * (LANE_H + LANE_GAP)
        lane_y[lane["service"]] = y0
        bars, peak = _lane_bars(chart, lane, y0, scale, colours)
        out.bars.extend(bars)
        out.lines.extend(_lane_lines(chart, lane, y0, scale))
        out.lanes.append(
            {
                "y": y0,
                "h": LANE_H,
                "x": LEFT,
                "w": PLOT_W,
                "label": _short(lane["service"]),
                "service": lane["service"],
                "sub": f"{lane['total']:,} matches · peak {peak}/bucket",
            }
        )
    for inc in incidents:
        services = {
            inc.get("service"),
            *(inc.get("related_services") or []),
            *(
                inc.get("postmortem", {}).get("impact", {}).get("affected", {}).get("services")
                or []
            ),
        }
        for service in sorted(s for s in services if s in lane_y):
            x0, x1 = scale.x(_t(inc["start"])), scale.x(_t(inc["end"]))
            out.bands.append(
                {
                    "x": x0,
                    "y": lane_y[service],
                    "w": max(x1 - x0, 3.0),
                    "h": LANE_H,
                    "label": str(inc.get("number") or inc.get("id")),
                    "title": f"incident {inc.get('number')} ({inc.get('id')}): "
                    f"{inc['start']} → {inc['end']} · " + " → ".join(inc.get("chain") or []),
                }
            )
    for dep in deploys:
        x = scale.x(_t(dep["time"]))
        y = lane_y.get(dep.get("service") or "")
        out.deploys.append(
            {
                "x": x,
                "y1": y if y is not None else TOP,
                "y2": (y + LANE_H) if y is not None else height - BOTTOM,
                "title": f"deploy {dep.get('revision') or '?'} ({dep.get('service')}) "
                f"at {dep['time']}",
            }
        )
    present = {r["signature"] for r in chart["counts"]}
    out.legend = [{"id": s, "fill": c} for s, c in colours.items() if s in present]
    out.legend += [{"id": s, "fill": OTHER_COLOUR} for s in sorted(present - set(colours))]
    return out
