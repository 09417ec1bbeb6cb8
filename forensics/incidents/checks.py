"""The seeds' targets as checks measured from the logs: pass, fail or no_data, with the numbers.

  - db-connection: database connections under 10 s (DB-init and validation timeouts are
    failures that took at least their logged timeout; logged connection timings count too);
  - startup: instance start to ready under 30 s (the app's "startup complete", else the passing
    startup probe), paired only on the same instance, ready after start and within
    STARTUP_PAIR_SECONDS of it; an instance that exits or fails its probe before ready is a
    failed start;
  - health-latency: /health* requests answered under 10 s and not with a 5xx (a failed
    request is not a healthy answer, however fast), from the request logs;
  - 5xx-ratio: per service, from the request_count metric when collected, else request logs
    when they are a complete denominator (not pushdown, successful requests present).
Limits come from the registry's ``settings`` (check_*), so a team can tighten them.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from forensics.incidents.model import Check
from forensics.incidents.registry import Settings
from forensics.incidents.traffic import (
    TrafficLedger,
    log_denominator_gap,
    log_denominator_source,
)
from forensics.sql import run_named
from forensics.store import Store
from forensics.timeutil import Window

__all__ = ["STARTUP_PAIR_SECONDS", "run_checks"]

# A start and a ready line further apart than this are not one startup: Cloud Run gives up on
# an instance whose startup probe has not passed within minutes, so a later "Application
# startup complete." is a worker restarting inside a long-running instance.
STARTUP_PAIR_SECONDS = 15 * 60


def _seconds(value: Any) -> str:
    return "n/a" if value is None else f"{value:,.1f} s"


def _db_connection(store: Store, window: Window, limit: float) -> Check:
    rows = run_named(store, "window_db_connection_timings", window.params())
    check = Check(
        "db-connection",
        "Database connection",
        f"< {limit:g} s",
        "no_data",
        "no connection timing or DB timeout was logged in the window",
        "",
    )
    if rows.is_empty():
        return check
    slow = rows.filter(pl.col("seconds") >= limit)
    timeouts = rows.filter(pl.col("outcome") == "timeout")
    check.status = "fail" if slow.height else "pass"
    check.measured = (
        f"{rows.height:,} timed attempts, {slow.height:,} at or over {limit:g} s "
        f"({timeouts.height:,} timeouts); longest {_seconds(rows['seconds'].max())}"
    )
    check.source = "DB-init timeouts (startup/db-init-timeout) and logged connection timings"
    check.details = (
        rows.group_by("service", "outcome")
        .agg(
            pl.len().alias("count"),
            pl.col("seconds").max().alias("max_s"),
            pl.col("insert_id").first(),
        )
        .sort("service", "outcome")
        .to_dicts()
    )
    return check


def _startup(store: Store, window: Window, limit: float) -> Check:
    rows = run_named(
        store, "window_instance_startups", {**window.params(), "bound_s": STARTUP_PAIR_SECONDS}
    )
    check = Check(
        "startup",
        "Service startup",
        f"< {limit:g} s",
        "no_data",
        "no instance start was logged in the window",
        "",
    )
    if rows.is_empty():
        return check
    ready = pl.coalesce("app_ready", "probe_ok")
    failed = pl.col("failed").is_not_null() & (
        pl.col("app_ready").is_null() | (pl.col("failed") < pl.col("app_ready"))
    )
    rows = rows.with_columns(
        failed.alias("failed_start"),
        ((ready - pl.col("started")).dt.total_microseconds() / 1e6).alias("seconds"),
    )
    timed = rows.filter(~pl.col("failed_start") & pl.col("seconds").is_not_null())
    bad = rows.filter(pl.col("failed_start"))
    slow = timed.filter(pl.col("seconds") >= limit)
    check.status = "fail" if bad.height or slow.height else ("pass" if timed.height else "no_data")
    p50 = timed["seconds"].median() if timed.height else None
    p95 = timed["seconds"].quantile(0.95) if timed.height else None
    check.measured = (
        f"{rows.height:,} instance starts: {timed.height:,} ready (p50 {_seconds(p50)}, "
        f"p95 {_seconds(p95)}, max {_seconds(timed['seconds'].max() if timed.height else None)}), "
        f"{slow.height:,} at or over {limit:g} s, {bad.height:,} failed before ready"
    )
    check.source = (
        "varlog/system instance starts to the same instance's 'Application startup complete' "
        f"or probe success, within {STARTUP_PAIR_SECONDS // 60} min of the start"
    )
    check.details = (
        rows.group_by("service")
        .agg(
            pl.len().alias("starts"),
            pl.col("failed_start").sum().alias("failed"),
            pl.col("seconds").filter(~pl.col("failed_start")).max().alias("max_s"),
        )
        .sort("service")
        .to_dicts()
    )
    return check


def _health(store: Store, window: Window, limit: float) -> Check:
    rows = run_named(store, "window_health_latency", {**window.params(), "slow_s": limit})
    check = Check(
        "health-latency",
        "Health endpoints",
        f"< {limit:g} s",
        "no_data",
        "no /health* request was logged in the window",
        "",
    )
    if rows.is_empty():
        return check
    slow, total = int(rows["slow"].sum()), int(rows["requests"].sum())
    errors = int(rows["errors_5xx"].sum())
    check.status = "fail" if slow or errors else "pass"
    check.measured = (
        f"{total:,} /health* requests, {errors:,} answered 5xx, {slow:,} at or over {limit:g} s "
        f"(timeouts); slowest {_seconds(rows['max_s'].max())}"
    )
    check.source = "request logs (httpRequest.status and httpRequest.latency)"
    check.details = rows.to_dicts()
    return check


def _five_xx(ledger: TrafficLedger, window: Window, limit: float) -> Check:
    rows = ledger.service_traffic(window.since, window.until)
    check = Check(
        "5xx-ratio", "5xx ratio", f"< {limit:.1%}", "no_data", "no request in the window", ""
    )
    details: list[dict[str, Any]] = []
    for r in rows.to_dicts():
        metric = r["metric_requests"] is not None
        gap = None if metric else log_denominator_gap(r)
        requests = int(r["metric_requests"] if metric else r["log_requests"])
        errors = int(r["metric_5xx"] if metric else r["log_5xx"])
        if gap:  # failures only: counted, but no ratio can be formed over them
            details.append(
                {
                    "service": r["service"],
                    "requests": None,
                    "5xx": errors,
                    "ratio": None,
                    "source": f"request logs: {gap}",
                }
            )
        elif requests:
            details.append(
                {
                    "service": r["service"],
                    "requests": requests,
                    "5xx": errors,
                    "ratio": round(errors / requests, 5),
                    "source": "request_count metric"
                    if metric
                    else log_denominator_source(r) or "request logs",
                }
            )
    if not details:
        return check
    check.source = ", ".join(sorted({d["source"] for d in details}))
    check.details = details
    measured = [d for d in details if d["ratio"] is not None]
    if not measured:
        failed = sum(d["5xx"] for d in details)
        check.measured = (
            f"no complete request count: {failed:,} 5xx in request logs, but "
            f"{details[0]['source'].removeprefix('request logs: ')}; collect the request_count "
            "metric for a ratio"
        )
        return check
    worst = max(measured, key=lambda d: d["ratio"])
    over = [d for d in measured if d["ratio"] >= limit]
    check.status = "fail" if over else "pass"
    check.measured = (
        f"worst {worst['service']}: {worst['5xx']:,} of {worst['requests']:,} requests "
        f"({worst['ratio']:.2%}); {len(over)} of {len(measured)} services at or over {limit:.1%}"
    )
    return check


def run_checks(
    store: Store, window: Window, settings: Settings, ledger: TrafficLedger | None = None
) -> list[Check]:
    """The four checks for ``window``, in the seeds' order; the 5xx ratio from ``ledger``
    when the analysis read one (its traffic, once), else from the store."""
    ledger = ledger or TrafficLedger.read(store, window.since, window.until)
    return [
        _db_connection(store, window, settings.check_db_connection_seconds),
        _startup(store, window, settings.check_startup_seconds),
        _health(store, window, settings.check_health_seconds),
        _five_xx(ledger, window, settings.check_5xx_ratio),
    ]
