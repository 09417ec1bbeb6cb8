"""One collection: every Logging source and Monitoring metric of a project for a window.

Usage:
  1. ``request_from_config(config, window)`` turns forensics.toml (plus flags) into a
     ``CollectRequest``; ``explain(request)`` lists the exact filters without calling anything.
  2. ``collect(store, request, clients=make_clients(request))`` pulls, resuming what a killed
     run left behind and skipping ranges already collected, then recomputes the signals.
     Each source that still fails after its retries becomes a data gap; the others go on.

Order matters for the quota: the Logging candidates first (they are what an investigation
reads), then the context around the errors they contain, then the metrics.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.clock import Clock, RealClock
from forensics.collectors.auth import endpoints
from forensics.collectors.checkpoints import (
    Checkpoints,
    Range,
    arrived_since,
    merge_ranges,
    subtract,
)
from forensics.collectors.filters import (
    HasLoggingFilter,
    LogSource,
    MetricQuery,
    catalog_signatures,
    context_source,
    log_sources,
    metric_queries,
    short_hash,
)
from forensics.collectors.logging_api import LoggingClient, LogPages
from forensics.collectors.monitoring_api import MetricPages, MonitoringClient
from forensics.collectors.pacing import CallStats, RetryPolicy, TokenBucket
from forensics.collectors.pull import NullProgress, Progress, PullContext, PullOutcome, run_pull
from forensics.collectors.signals import compute_signals
from forensics.config import CollectSettings, Config, Resources, Thresholds
from forensics.errors import InputError
from forensics.store import Store
from forensics.timeutil import Window

__all__ = [
    "Clients",
    "CollectReport",
    "CollectRequest",
    "collect",
    "explain",
    "make_clients",
    "request_from_config",
]


@dataclass(frozen=True)
class CollectRequest:
    """What to collect."""

    project: str
    window: Window
    resources: Resources = field(default_factory=Resources)
    settings: CollectSettings = field(default_factory=CollectSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    signatures: Sequence[HasLoggingFilter] | None = None


@dataclass
class Clients:
    """The two API clients (None when that half is turned off)."""

    logging: LoggingClient | None = None
    monitoring: MonitoringClient | None = None

    def close(self) -> None:
        if self.monitoring is not None:
            self.monitoring.close()


@dataclass
class CollectReport:
    """How a collection went."""

    project: str
    window: Window
    outcomes: list[PullOutcome] = field(default_factory=list)
    logging_calls: CallStats = field(default_factory=CallStats)
    monitoring_calls: CallStats = field(default_factory=CallStats)
    signals: int = 0
    elapsed_s: float = 0.0  # on the collection's clock

    @property
    def failed(self) -> list[PullOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "window": self.window.as_dict(),
            "elapsed_s": round(self.elapsed_s, 3),
            "logging_calls": vars(self.logging_calls),
            "monitoring_calls": vars(self.monitoring_calls),
            "signals": self.signals,
            "pulls": [
                {
                    "source": o.source,
                    "title": o.title,
                    "status": o.status,
                    "received": o.items,
                    "stored": o.stored,
                    "pages": o.pages,
                    "error": o.error,
                    "gaps": [[a, b] for a, b in o.gaps],
                }
                for o in self.outcomes
            ],
        }


def request_from_config(config: Config, window: Window) -> CollectRequest:
    """A request from the configuration; the signature catalog is used when installed."""
    if not config.project:
        raise InputError('no project: pass --project P or set project = "P" in forensics.toml')
    signatures = catalog_signatures() if config.collect.pushdown else None
    return CollectRequest(
        config.project, window, config.resources, config.collect, config.thresholds, signatures
    )


def make_clients(request: CollectRequest) -> Clients:
    """Clients for the configured endpoints (Google with ADC when none is set)."""
    s = request.settings
    where = endpoints(s.logging_endpoint, s.monitoring_endpoint)
    return Clients(
        LoggingClient(request.project, where.logging_url, s.timeout_s) if s.logs else None,
        MonitoringClient(request.project, where.monitoring, s.timeout_s) if s.metrics else None,
    )


def explain(request: CollectRequest) -> dict[str, Any]:
    """The filters a collection would send, for ``--explain``."""
    whole = [(request.window.since, request.window.until)]
    sources = log_sources(
        request.project,
        request.resources,
        pushdown=request.settings.pushdown,
        signatures=request.signatures,
    )
    logs = [{"source": s.key, "title": s.title, "filter": s.filter(whole)} for s in sources]
    if request.settings.pushdown and request.settings.context_seconds > 0:
        ctx = context_source(request.project, request.resources)
        logs.append(
            {
                "source": ctx.key,
                "title": ctx.title,
                "filter": ctx.base + " AND (around each "
                f"ERROR or 5xx, ±{request.settings.context_seconds:g}s)",
            }
        )
    return {
        "project": request.project,
        "window": request.window.as_dict(),
        "pushdown": request.settings.pushdown,
        "signatures": [s.id for s in request.signatures or ()],
        "logging": logs if request.settings.logs else [],
        # What a later run adds per source for entries received after this one (see _Run.logs).
        "late": {
            "late_minutes": request.settings.late_minutes,
            "clause": 'receiveTimestamp>="<this run\'s now - settle_minutes>"',
        }
        if request.settings.logs and request.settings.late_minutes > 0
        else None,
        "monitoring": [
            {"metric_type": q.metric_type, "filter": q.filter}
            for q in metric_queries(request.project, request.resources)
        ]
        if request.settings.metrics
        else [],
    }


def _late_title(src: LogSource) -> str:
    return f"{src.title}, received late"


def _overlaps(ranges: Sequence[Range], wanted: Sequence[Range]) -> bool:
    return any(a < d and c < b for a, b in ranges for c, d in wanted)


@dataclass
class _Run:
    store: Store
    request: CollectRequest
    checkpoints: Checkpoints
    covered_until: datetime  # timestamps before this count as collected (the settle point)
    received_until: datetime  # what Cloud Logging had received by then is in this run's answers
    report: CollectReport

    def logs(
        self, ctx: PullContext, client: LoggingClient, src: LogSource, wanted: list[Range]
    ) -> None:
        source_id = f"logging:{self.request.project}:{src.key}"
        page_size = self.request.settings.page_size

        def pages(query: str) -> LogPages:
            return LogPages(client, self.store, source_id, query, page_size)

        tried: list[Range] = []
        for ck in self.checkpoints.unfinished(source_id, src.scope_hash):
            if not _overlaps(ck.ranges, wanted):
                continue
            had_token = ck.page_token is not None
            title = _late_title(src) if "receiveTimestamp>=" in ck.query else src.title
            outcome = run_pull(
                ctx, ck, pages(ck.query), title=title, covered_until=self.covered_until
            )
            self.report.outcomes.append(outcome)
            if outcome.permanent and had_token and outcome.pages == 0:
                # The API refused the saved page token (they expire after 24 h): keep what was
                # committed and pull the rest below, starting at the last committed entry.
                self.checkpoints.close_at_last_entry(ck)
                outcome.status = "restarted"
                continue
            tried += ck.ranges
        todo = subtract(wanted, self.checkpoints.covered(source_id, src.scope_hash) + tried)
        if todo:
            self.pull(ctx, pages, src, src.title, todo)
        # Entries timestamped in what was already collected that reached Cloud Logging after
        # that collection: one more query, on receiveTimestamp, over the last late_minutes.
        late, since = arrived_since(
            self.checkpoints.received(source_id, src.scope_hash),
            wanted,
            self.received_until,
            timedelta(minutes=self.request.settings.late_minutes),
        )
        if late and since is not None:
            self.pull(ctx, pages, src, _late_title(src), late, since)
        elif not todo and not tried:  # collected by an earlier run: say so, not nothing
            self.report.outcomes.append(PullOutcome(source_id, src.title, "complete"))

    def pull(
        self,
        ctx: PullContext,
        pages: Callable[[str], LogPages],
        src: LogSource,
        title: str,
        ranges: list[Range],
        received_since: datetime | None = None,
    ) -> None:
        """One new checkpointed Logging pull of ``ranges``."""
        text = src.filter(ranges, received_since)
        ck = self.checkpoints.begin(
            source=f"logging:{self.request.project}:{src.key}",
            project=self.request.project,
            scope_hash=src.scope_hash,
            query_hash=short_hash(text),
            query=text,
            ranges=ranges,
            received_until=self.received_until,
        )
        self.report.outcomes.append(
            run_pull(ctx, ck, pages(text), title=title, covered_until=self.covered_until)
        )

    def metrics(self, ctx: PullContext, client: MonitoringClient, q: MetricQuery) -> None:
        source_id = f"monitoring:{self.request.project}:{q.metric_type}"
        scope = short_hash(q.filter)
        wanted = [(self.request.window.since, self.request.window.until)]
        size = self.request.settings.metrics_page_size

        def pull(ck: Any, start: datetime, end: datetime) -> None:
            pages = MetricPages(client, self.store, source_id, q.filter, start, end, size)
            self.report.outcomes.append(
                run_pull(ctx, ck, pages, title=q.metric_type, covered_until=self.covered_until)
            )

        tried: list[Range] = []
        for ck in self.checkpoints.unfinished(source_id, scope):
            if _overlaps(ck.ranges, wanted):
                pull(ck, *ck.ranges[0])
                tried += ck.ranges
        todo = subtract(wanted, self.checkpoints.covered(source_id, scope) + tried)
        if not todo and not tried:  # collected by an earlier run
            self.report.outcomes.append(PullOutcome(source_id, q.metric_type, "complete"))
        for start, end in todo:
            text = f"{q.filter} | interval [{start.isoformat()}, {end.isoformat()}]"
            ck = self.checkpoints.begin(
                source=source_id,
                project=self.request.project,
                scope_hash=scope,
                query_hash=short_hash(text),
                query=text,
                ranges=[(start, end)],
            )
            pull(ck, start, end)


def context_ranges(store: Store, request: CollectRequest) -> list[Range]:
    """±context_seconds around every stored Cloud Run error of the window, merged and capped."""
    pad = timedelta(seconds=request.settings.context_seconds)
    since, until = request.window.since, request.window.until
    services = list(request.resources.services)
    rows = store.conn.execute(
        'SELECT DISTINCT "timestamp" FROM log_entries '
        "WHERE resource_type = 'cloud_run_revision' AND project_id = ? "
        'AND "timestamp" >= ? AND "timestamp" < ? '
        "AND (severity_number >= 500 OR http_status >= 500) "
        "AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], service)) "
        'ORDER BY "timestamp"',
        [request.project, since, until, services, services],
    ).fetchall()
    ranges = merge_ranges([(max(since, t - pad), min(until, t + pad)) for (t,) in rows])
    cap = request.settings.max_context_ranges
    while len(ranges) > cap:  # merge across the smallest hole until few enough remain
        holes = [(ranges[i + 1][0] - ranges[i][1], i) for i in range(len(ranges) - 1)]
        _, i = min(holes)
        ranges[i : i + 2] = [(ranges[i][0], ranges[i + 1][1])]
    return ranges


def collect(
    store: Store,
    request: CollectRequest,
    *,
    clients: Clients,
    clock: Clock | None = None,
    progress: Progress | None = None,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> CollectReport:
    """Collect the request's logs and metrics into ``store``; see the module docstring."""
    clock = clock or RealClock()
    progress = progress or NullProgress()
    rng = rng or random.Random()
    s = request.settings
    settle = (now or datetime.now(UTC)) - timedelta(minutes=s.settle_minutes)
    report = CollectReport(request.project, request.window)
    until = min(request.window.until, settle)
    run = _Run(store, request, Checkpoints(store), until, settle, report)
    policy = RetryPolicy(s.max_attempts, s.backoff_base_s, s.backoff_cap_s)
    started = clock.now()
    if clients.logging is not None:
        ctx = PullContext(
            run.checkpoints,
            TokenBucket(s.calls_per_minute, clock, s.burst),
            policy,
            clock,
            rng,
            report.logging_calls,
            progress,
        )
        sources = log_sources(
            request.project, request.resources, pushdown=s.pushdown, signatures=request.signatures
        )
        whole = [(request.window.since, request.window.until)]
        for src in sources:
            run.logs(ctx, clients.logging, src, whole)
        if s.pushdown and s.context_seconds > 0:
            around = context_ranges(store, request)
            if around:
                ctx_src = context_source(request.project, request.resources)
                run.logs(ctx, clients.logging, ctx_src, around)
    if clients.monitoring is not None:
        ctx = PullContext(
            run.checkpoints,
            TokenBucket(s.metrics_calls_per_minute, clock, 10),
            policy,
            clock,
            rng,
            report.monitoring_calls,
            progress,
        )
        for query in metric_queries(request.project, request.resources):
            run.metrics(ctx, clients.monitoring, query)
        report.signals = compute_signals(store, request.thresholds)
    _classify_collected(store)
    report.elapsed_s = clock.now() - started
    return report


def _classify_collected(store: Store) -> None:
    """Classification happens on collect: every run not yet classified with the catalog."""
    from forensics.pipeline import classify_pending  # the pipeline owns classification
    from forensics.signatures.catalog import load_catalog

    classify_pending(store, load_catalog())
