"""``collect --bigquery``: classify a window inside BigQuery and bring home only what matters.

Usage:
  1. ``request = BigQueryRequest(parse_source(text), window, billing_project, ...)``.
  2. ``explain_bigquery(client, request)`` returns both statements and their dry-run bytes;
     ``collect_bigquery(store, request, client=client)`` runs them.

Two query jobs per window, each over the mapping view (``forensics.bigquery.source``), their
text from ``forensics.bigquery.statements``:

* entries: the catalog's classification in BigQuery picks every matched entry, a bounded
  sample of the unknown-error candidates per template (the rest counted per minute into
  ``unexplained_counts``, which the miner adds) and their context lines, within ``Caps``. Each
  comes back whole and is rebuilt into its LogEntry JSON (``forensics.bigquery.rebuild``), then
  ingested like any other source, so the local stages (classification included: it has one
  owner) run on it unchanged. BigQuery's primary signature for each matched entry is kept to
  check that the local classification agrees.
* counts: entries per minute, service, severity, HTTP status, resource type and log, into
  ``minute_counts``.

The window is recorded in ``collect_checkpoints`` under the source's key: a window already
collected is skipped, and one that fails (cost guard, permissions, timeout) is a data gap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core.exceptions import GoogleAPIError

from forensics.bigquery.client import dry_run, run_query
from forensics.bigquery.rebuild import rebuild_entry
from forensics.bigquery.source import BigQuerySource, discover, entries_ctes
from forensics.bigquery.statements import Caps, counts_sql, entries_sql, window_params
from forensics.collectors.checkpoints import Checkpoints, Range, subtract
from forensics.collectors.filters import short_hash
from forensics.errors import CollectError, ForensicsError
from forensics.ingest import ingest_texts
from forensics.schema import column_names
from forensics.signatures.catalog import Catalog, load_catalog
from forensics.store import Store, transaction
from forensics.timeutil import Window

__all__ = [
    "BigQueryReport",
    "BigQueryRequest",
    "collect_bigquery",
    "explain_bigquery",
    "request_from_config",
]


@dataclass(frozen=True)
class BigQueryRequest:
    """One window of one BigQuery source."""

    source: BigQuerySource
    window: Window
    billing_project: str
    max_bytes_billed: int = 50 * 2**30
    caps: Caps = field(default_factory=Caps)
    settle_minutes: float = 5.0
    timeout_s: float = 600.0


@dataclass
class BigQueryReport:
    """How a BigQuery collection went."""

    source: str
    window: Window
    status: str = "complete"  # complete | skipped (already collected) | failed
    scanned_rows: int = 0  # rows in the window (from the counts)
    transferred: dict[str, int] = field(default_factory=dict)  # match / candidate / context
    counted_rows: int = 0  # unexplained_counts rows (template, service, minute) brought home
    counted_entries: int = 0  # the unknown errors they count, left in BigQuery
    stored: int = 0
    bytes_estimated: int = 0
    bytes_billed: int = 0
    disagreements: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def transfer_ratio(self) -> float:
        return sum(self.transferred.values()) / self.scanned_rows if self.scanned_rows else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "window": self.window.as_dict(),
            "status": self.status,
            "rows_in_window": self.scanned_rows,
            "transferred": self.transferred,
            "transfer_ratio": round(self.transfer_ratio, 6),
            "counted_rows": self.counted_rows,
            "counted_entries": self.counted_entries,
            "stored": self.stored,
            "bytes_estimated": self.bytes_estimated,
            "disagreements": self.disagreements,
            "error": self.error,
        }


def explain_bigquery(
    client: Any, request: BigQueryRequest, catalog: Catalog | None = None
) -> dict[str, Any]:
    """Both statements and what a dry run says they would scan; nothing is run."""
    catalog = catalog or load_catalog()
    try:
        tables = discover(client, request.source, request.window)
    except (GoogleAPIError, OSError) as err:
        raise CollectError(f"{request.source.key}: {_first_line(err)}") from err
    ctes = entries_ctes(tables)
    params = window_params(request.window)
    statements = {
        "entries": entries_sql(ctes, catalog, request.caps),
        "counts": counts_sql(ctes),
    }
    return {
        "source": request.source.key,
        "window": request.window.as_dict(),
        "tables": [t.table_id for t in tables],
        "max_bytes_billed": request.max_bytes_billed,
        "statements": [
            {"name": name, "sql": sql, "bytes_estimated": dry_run(client, sql, params)}
            for name, sql in statements.items()
        ],
    }


def _first_line(err: Exception) -> str:
    text = str(getattr(err, "message", None) or err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def collect_bigquery(
    store: Store,
    request: BigQueryRequest,
    *,
    client: Any,
    catalog: Catalog | None = None,
    now: datetime | None = None,
) -> BigQueryReport:
    """Collect the request's window into ``store`` (see the module docstring)."""
    catalog = catalog or load_catalog()
    key = request.source.key
    report = BigQueryReport(key, request.window)
    scope = short_hash(f"{key}|{catalog.version}|{request.caps.key()}")
    checkpoints = Checkpoints(store)
    wanted: list[Range] = [(request.window.since, request.window.until)]
    todo = subtract(wanted, checkpoints.covered(key, scope))
    if not todo:
        report.status = "skipped"
        return report
    settle = (now or datetime.now(UTC)) - timedelta(minutes=request.settle_minutes)
    for start, end in todo:
        window = Window(start, end)
        try:
            tables = discover(client, request.source, window)
        except (GoogleAPIError, OSError) as err:  # no such dataset, no permission, offline
            reason = _first_line(err)
            checkpoints.record_gap(key, [(start, end)], reason)
            report.status, report.error = "failed", reason
            continue
        # no table for these days: the sink wrote nothing then, which is an answer too
        ctes = entries_ctes(tables) if tables else ""
        text = entries_sql(ctes, catalog, request.caps) if ctes else ""
        ckpt = checkpoints.begin(
            source=key,
            project=request.billing_project,
            scope_hash=scope,
            query_hash=short_hash(f"{text}|{start.isoformat()}|{end.isoformat()}"),
            query=f"{key} {catalog.version} [{start.isoformat()}, {end.isoformat()})",
            ranges=[(start, end)],
        )
        try:
            _collect_range(store, request, client, ctes, text, window, report, ckpt, settle)
        except (ForensicsError, GoogleAPIError, OSError) as err:  # refused, denied, timed out
            reason = _first_line(err)
            checkpoints.fail(ckpt, reason)
            checkpoints.record_gap(key, [(start, end)], reason)
            report.status, report.error = "failed", reason
            continue
        checkpoints.clear_gaps(key, [(start, end)])
    from forensics.pipeline import classify_pending  # the pipeline owns classification

    classify_pending(store, catalog)
    report.disagreements = _disagreements(store, key, report)
    return report


def _collect_range(
    store: Store,
    request: BigQueryRequest,
    client: Any,
    ctes: str,
    text: str,
    window: Window,
    report: BigQueryReport,
    ckpt: Any,
    settle: datetime,
) -> None:
    if not ctes:
        with transaction(store.conn):
            Checkpoints(store).advance(
                store.conn,
                ckpt,
                next_token=None,
                last_timestamp=window.until,
                items=0,
                covered_until=min(window.until, settle),
            )
        return
    params = window_params(window)
    limit, timeout = request.max_bytes_billed, request.timeout_s
    report.bytes_estimated += dry_run(client, text, params)
    report.bytes_estimated += dry_run(client, counts_sql(ctes), params)
    if report.bytes_estimated > limit:
        raise CollectError(
            f"the queries would scan {report.bytes_estimated:,} bytes, more than "
            f"max_bytes_billed {limit:,}: narrow the window or raise --max-bytes-billed"
        )
    rows = run_query(client, text, params, limit, timeout)
    counts = run_query(client, counts_sql(ctes), params, limit, timeout)
    counted = [r for r in rows if r["kind"] == "counted"]
    rows = [r for r in rows if r["kind"] != "counted"]
    seen: set[tuple[Any, ...]] = set()
    texts = []
    for row in rows:
        identity = (row["timestamp"], row["log_name"], row["insert_id"])
        if identity in seen:
            continue
        seen.add(identity)
        report.transferred[row["kind"]] = report.transferred.get(row["kind"], 0) + 1
        texts.append(json.dumps(rebuild_entry(row), separators=(",", ":"), ensure_ascii=False))
    report.scanned_rows += sum(int(c["entries"]) for c in counts)
    report.counted_rows += len(counted)
    report.counted_entries += sum(int(c["entries"]) for c in counted)
    _remember_primaries(store, rows)
    checkpoints = Checkpoints(store)

    def commit(conn: Any) -> None:
        _replace_counts(conn, report.source, window, counts, counted)
        checkpoints.advance(
            conn,
            ckpt,
            next_token=None,
            last_timestamp=window.until,
            items=len(texts),
            covered_until=min(window.until, settle),
        )

    # Entries first, then counts and checkpoint in one transaction: a run killed in between
    # leaves the window unfinished, and the next run collects it again (the store keeps each
    # entry once), so nothing is ever recorded as collected without its entries.
    if texts:
        report.stored += ingest_texts(store, texts, report.source).accepted
    with transaction(store.conn):
        commit(store.conn)


def _replace_counts(
    conn: Any,
    source: str,
    window: Window,
    counts: list[dict[str, Any]],
    counted: list[dict[str, Any]],
) -> None:
    """The window's ``minute_counts`` and ``unexplained_counts`` rows, replacing any before."""
    for table in ("minute_counts", "unexplained_counts"):
        conn.execute(
            f"DELETE FROM {table} WHERE source = ? AND minute >= ? AND minute < ?",
            [source, window.since, window.until],
        )
    if counts:
        fields = column_names("minute_counts")  # source first, then what counts_sql returns
        conn.executemany(
            f"INSERT INTO minute_counts ({', '.join(fields)}) "
            f"VALUES ({', '.join('?' for _ in fields)})",
            [[source, *(c[name] for name in fields[1:])] for c in counts],
        )
    if counted:
        conn.executemany(
            "INSERT INTO unexplained_counts VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    source,
                    c["timestamp"].replace(second=0, microsecond=0),
                    c["miner_service"],
                    c["masked"],
                    c["entries"],
                    c["timestamp"],
                    c["last_seen"],
                ]
                for c in counted
            ],
        )


# BigQuery's primary signature per entry brought home as a match, to compare with the local
# classification once it has run (a temp table: it is a check, not evidence).
def _remember_primaries(store: Store, rows: list[dict[str, Any]]) -> None:
    store.conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _bigquery_primaries (ts TIMESTAMPTZ, log_name VARCHAR, "
        "insert_id VARCHAR, signature VARCHAR)"
    )
    matched = [
        [r["timestamp"], r["log_name"], r["insert_id"], r["primary_signature"]]
        for r in rows
        if r["kind"] == "match"
    ]
    if matched:
        store.conn.executemany("INSERT INTO _bigquery_primaries VALUES (?, ?, ?, ?)", matched)


def _disagreements(store: Store, source: str, report: BigQueryReport) -> list[str]:
    """Entries whose primary signature in BigQuery differs from the local classification."""
    if "match" not in report.transferred:
        return []
    rows = store.conn.execute(
        "SELECT b.insert_id, b.signature, m.signature FROM _bigquery_primaries AS b "
        'LEFT JOIN signature_matches AS m ON m.is_primary AND m."timestamp" = b.ts '
        "AND m.log_name = b.log_name AND m.insert_id = b.insert_id "
        "WHERE m.signature IS DISTINCT FROM b.signature ORDER BY 1"
    ).fetchall()
    return [f"{i}: bigquery {a} != local {b}" for i, a, b in rows]


def request_from_config(config: Any, window: Window) -> BigQueryRequest:
    """The request [bigquery] (with flags applied) describes; jobs bill the configured project,
    else the source's."""
    from forensics.bigquery.source import parse_source

    settings = config.bigquery
    source = parse_source(settings.source, config.project)
    return BigQueryRequest(
        source,
        window,
        config.project or source.project,
        max_bytes_billed=settings.max_bytes_billed,
        caps=Caps(
            candidates_per_template=settings.candidates_per_template,
            context_seconds=config.collect.context_seconds,
            context_per_minute=settings.context_per_minute,
            context_per_revision=settings.context_per_revision,
        ),
        settle_minutes=config.collect.settle_minutes,
        timeout_s=settings.timeout_s,
    )
