"""The evidence store's fixed schema: every table and column, declared once.

Columns are never inferred from the data. DuckDB's and polars' JSON inference both sample the
first rows and silently drop a field that first appears later, and a rare field that appears
only during an incident is exactly the one an investigation needs. So the LogEntry columns are
declared (forensics.schema_entry), and the whole entry as received is kept in ``raw`` so
that no field is ever lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forensics.schema_derived import (
    CLASSIFIED_RUN_COLUMNS,
    DERIVED_RUN_COLUMNS,
    ERROR_TEXT_COLUMNS,
    HOUR_LEDGER_COLUMNS,
    MINUTE_LEDGER_COLUMNS,
    SIGNATURE_SPAN_COLUMNS,
    WINDOW_ROW_COLUMNS,
)
from forensics.schema_entry import LOG_ENTRY_COLUMNS, SEVERITY_LEVELS, Column

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "LOG_ENTRY_COLUMNS",
    "SEVERITY_LEVELS",
    "TABLES",
    "WINDOW_ROW_COLUMNS",
    "Column",
    "all_ddl",
    "column_names",
]


METRIC_POINT_COLUMNS: tuple[Column, ...] = (
    Column("metric_type", "VARCHAR NOT NULL", "e.g. run.googleapis.com/request_count."),
    Column("resource_type", "VARCHAR NOT NULL", "Monitored resource type."),
    Column("resource_labels", "JSON NOT NULL", "Monitored resource labels."),
    Column("metric_labels", "JSON NOT NULL", "Metric labels, e.g. response_code_class."),
    Column("service", "VARCHAR", "service_name, database_id or connector_name from the labels."),
    Column("start_time", "TIMESTAMPTZ", "Interval start (DELTA and CUMULATIVE points)."),
    Column("point_time", "TIMESTAMPTZ NOT NULL", "Interval end: the point's time."),
    Column("value", "DOUBLE", "int64/double/bool value, or a distribution's mean."),
    Column("value_count", "BIGINT", "A distribution's count; NULL for scalar points."),
    Column("value_kind", "VARCHAR NOT NULL", "int64, double, bool, distribution or string."),
    Column(
        "value_max",
        "DOUBLE",
        "A distribution's highest non-empty bucket, lower bound: at least one sample (e.g. one "
        "instance) was at or above it. NULL for scalar points.",
    ),
    Column("unit", "VARCHAR", "The metric's unit: '10^2.%' holds fractions, '%' percents."),
    Column("source", "VARCHAR NOT NULL", "Where the point came from."),
    Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row that added the point."),
)

INGEST_RUN_COLUMNS: tuple[Column, ...] = (
    Column("ingest_id", "BIGINT PRIMARY KEY", "Run number."),
    Column("source", "VARCHAR NOT NULL", "File path or API source."),
    Column("started", "TIMESTAMPTZ NOT NULL", "When the run started."),
    Column("finished", "TIMESTAMPTZ", "When it finished; NULL if it was interrupted."),
    Column("accepted", "BIGINT NOT NULL DEFAULT 0", "Entries added."),
    Column(
        "duplicates", "BIGINT NOT NULL DEFAULT 0", "Entries already in the store (or repeated)."
    ),
    Column("rejected", "BIGINT NOT NULL DEFAULT 0", "Entries refused as malformed."),
    Column(
        "status",
        "VARCHAR NOT NULL",
        "running, complete, failed, or interrupted (killed: found running on a later open).",
    ),
)

# One row per (entry, signature) that matched; written by the classification pass.
SIGNATURE_MATCH_COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "TIMESTAMPTZ NOT NULL", "The entry's timestamp (identity, part 1)."),
    Column("log_name", "VARCHAR NOT NULL", "The entry's log_name (identity, part 2)."),
    Column("insert_id", "VARCHAR NOT NULL", "The entry's insert_id (identity, part 3)."),
    Column("signature", "VARCHAR NOT NULL", "Signature id, e.g. startup/exit-code-3."),
    Column(
        "is_primary", "BOOLEAN NOT NULL", "True for the one match the catalog's precedence picks."
    ),
    Column("service", "VARCHAR", "Copied from the entry so incidents need no join."),
    Column("revision", "VARCHAR", "Copied from the entry."),
    Column("instance_id", "VARCHAR", "Copied from the entry."),
    Column("trace", "VARCHAR", "Copied from the entry."),
    Column("params", "JSON", "Extracted parameters: exit_code, timeout_s, port, instance, ..."),
    Column("catalog_version", "VARCHAR NOT NULL", "Hash of the pattern files that matched."),
)

# Metric-derived signals (threshold crossings) with a time range, joinable like signatures.
SIGNAL_COLUMNS: tuple[Column, ...] = (
    Column("signal", "VARCHAR NOT NULL", "e.g. capacity/cloudsql-connections-high."),
    Column("service", "VARCHAR", "Cloud Run service, Cloud SQL database_id or connector."),
    Column("resource_type", "VARCHAR NOT NULL", "Monitored resource type."),
    Column("metric_type", "VARCHAR NOT NULL", "The metric the signal was computed from."),
    Column("start", "TIMESTAMPTZ NOT NULL", "First point over the threshold."),
    Column("end", "TIMESTAMPTZ NOT NULL", "Last point over the threshold."),
    Column("peak", "DOUBLE", "Highest value seen in the range."),
    Column("threshold", "DOUBLE", "The threshold crossed."),
    Column("details", "JSON", "Labels and anything else worth citing."),
)

# Sources that could not be collected completely: shown as "incomplete data", never dropped.
DATA_GAP_COLUMNS: tuple[Column, ...] = (
    Column("source", "VARCHAR NOT NULL", "What could not be read, e.g. logging:netra-staging:run."),
    Column("start", "TIMESTAMPTZ NOT NULL", "Gap start."),
    Column("end", "TIMESTAMPTZ NOT NULL", "Gap end."),
    Column("reason", "VARCHAR NOT NULL", "The last error."),
    Column("recorded", "TIMESTAMPTZ NOT NULL", "When the gap was recorded."),
)

# One row per API pull: where a collection stands, so a killed run resumes and a re-run skips
# what is already collected. Written in the same transaction as the page it follows.
COLLECT_CHECKPOINT_COLUMNS: tuple[Column, ...] = (
    Column("source", "VARCHAR NOT NULL", "e.g. logging:netra-staging:run (as entries.source)."),
    Column("project", "VARCHAR NOT NULL", "GCP project id."),
    Column("scope_hash", "VARCHAR NOT NULL", "Hash of the query without its time bounds."),
    Column("query_hash", "VARCHAR NOT NULL", "Hash of the exact query: the pull's identity."),
    Column("query", "VARCHAR NOT NULL", "The filter sent (and the interval, for Monitoring)."),
    Column("ranges", "JSON NOT NULL", "[[start, end], ...]: the time ranges this pull covers."),
    Column("window_start", "TIMESTAMPTZ NOT NULL", "Earliest range start."),
    Column("window_end", "TIMESTAMPTZ NOT NULL", "Latest range end."),
    Column("page_token", "VARCHAR", "Token of the next page; NULL before the first page."),
    Column("last_timestamp", "TIMESTAMPTZ", "Newest entry committed (pages come oldest first)."),
    Column("pages", "BIGINT NOT NULL DEFAULT 0", "Pages committed."),
    Column("items", "BIGINT NOT NULL DEFAULT 0", "Entries or points received."),
    Column("status", "VARCHAR NOT NULL", "running, complete or failed."),
    Column(
        "covered_until",
        "TIMESTAMPTZ",
        "When complete: data before this counts as collected (entries arrive late near now).",
    ),
    Column("error", "VARCHAR", "The last error, when failed."),
    Column("started", "TIMESTAMPTZ NOT NULL", "When the pull started."),
    Column("updated", "TIMESTAMPTZ NOT NULL", "Last change."),
    Column(
        "received_until",
        "TIMESTAMPTZ",
        "Logging: entries Cloud Logging received before this (the run's now minus "
        "settle_minutes) were in the answer; a later run pulls what was received after.",
    ),
)

# One row per UTC day and item: what scheduled jobs compare (`forensics snapshot` / `diff`).
# A day is replaced as a whole in one transaction, so re-running a day's snapshot is idempotent.
SNAPSHOT_COLUMNS: tuple[Column, ...] = (
    Column("day", "DATE NOT NULL", "The UTC day the snapshot covers, [00:00, 24:00)."),
    Column(
        "kind",
        "VARCHAR NOT NULL",
        "day (one summary row), signature, template (unknown errors) or issue.",
    ),
    Column("key", "VARCHAR NOT NULL", "Signature id, template id, issue id; 'summary' for day."),
    Column("service", "VARCHAR", "Service the count belongs to; NULL for issue and day rows."),
    Column("count", "BIGINT NOT NULL", "Entries that day (matches, template entries, evidence)."),
    Column("status", "VARCHAR", "Issue status (ACTIVE, RESOLVED, ...); NULL for other kinds."),
    Column("details", "JSON", "First/last seen, example insert_id, claims, what was recorded."),
    Column("taken_at", "TIMESTAMPTZ NOT NULL", "When the snapshot was taken."),
)

# Per-minute entry counts computed where the entries stay (collect --bigquery): the volume the
# analysis would otherwise count from log_entries, for entries that were never brought home.
MINUTE_COUNT_COLUMNS: tuple[Column, ...] = (
    Column("source", "VARCHAR NOT NULL", "e.g. bigquery:proj.dataset (as entries.source)."),
    Column("minute", "TIMESTAMPTZ NOT NULL", "The UTC minute counted."),
    Column("service", "VARCHAR", "Service (as log_entries.service)."),
    Column("severity", "VARCHAR NOT NULL", "LogSeverity name."),
    Column("http_status", "INTEGER", "httpRequest.status; NULL for non-request entries."),
    Column("entries", "BIGINT NOT NULL", "Entries in that minute with those values."),
    # Added in 0.4: without them a counted minute could not say which logs it held, so the
    # run-audit coverage and the instance starts of a --bigquery window read as missing.
    Column("resource_type", "VARCHAR", "Monitored resource type (as log_entries)."),
    Column("log_id", "VARCHAR", "The log's short name (as log_entries.log_id)."),
    Column(
        "instance_starts",
        "BIGINT",
        "Of those, Cloud Run system lines 'Starting new instance' (NULL: not counted).",
    ),
)

# Unknown-error candidates counted where the entries stay (collect --bigquery) but not brought
# home: a bounded sample per template comes home whole, the rest only as these counts, which the
# miner adds to its templates (forensics.signatures.mining) so counts and spans stay exact.
UNEXPLAINED_COUNT_COLUMNS: tuple[Column, ...] = (
    Column("source", "VARCHAR NOT NULL", "e.g. bigquery:proj.dataset (as entries.source)."),
    Column("minute", "TIMESTAMPTZ NOT NULL", "The UTC minute counted."),
    Column("service", "VARCHAR NOT NULL", "Service, else resource type, else '(none)'."),
    Column("masked", "VARCHAR", "The miner's masked text of those entries."),
    Column("entries", "BIGINT NOT NULL", "Entries counted and not brought home."),
    Column("first_seen", "TIMESTAMPTZ NOT NULL", "The first of them."),
    Column("last_seen", "TIMESTAMPTZ NOT NULL", "The last of them."),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "log_entries": LOG_ENTRY_COLUMNS,
    "metric_points": METRIC_POINT_COLUMNS,
    "ingest_runs": INGEST_RUN_COLUMNS,
    "signature_matches": SIGNATURE_MATCH_COLUMNS,
    "signals": SIGNAL_COLUMNS,
    "data_gaps": DATA_GAP_COLUMNS,
    "collect_checkpoints": COLLECT_CHECKPOINT_COLUMNS,
    "snapshots": SNAPSHOT_COLUMNS,
    "classified_runs": CLASSIFIED_RUN_COLUMNS,
    "minute_counts": MINUTE_COUNT_COLUMNS,
    "error_texts": ERROR_TEXT_COLUMNS,
    "derived_runs": DERIVED_RUN_COLUMNS,
    "minute_ledger": MINUTE_LEDGER_COLUMNS,
    "signature_spans": SIGNATURE_SPAN_COLUMNS,
    "hour_ledger": HOUR_LEDGER_COLUMNS,
    "unexplained_counts": UNEXPLAINED_COUNT_COLUMNS,
    **WINDOW_ROW_COLUMNS,
}


# Tables of rows derived per ingest run from its entries (forensics.derived_tables writes them):
# whatever they hold can be computed again from the entries, so one of an older layout is
# rebuilt by a writer and read as empty by a reader (no run of its is current: its SQL, and so
# its version, changed with its columns).
PER_RUN_TABLES = frozenset(
    {"error_texts", "minute_ledger", "signature_spans", "hour_ledger", *WINDOW_ROW_COLUMNS}
)

# The documented view that users and named queries read; `raw` stays reachable for the rare field.
ENTRIES_VIEW = """
CREATE OR REPLACE VIEW entries AS
SELECT * EXCLUDE (ingest_id)
FROM log_entries
"""


def column_names(table: str = "log_entries") -> list[str]:
    """Return the column names of a store table, in declared order."""
    return [c.name for c in TABLES[table]]


# Columns added after their table first shipped: a store written before gets them (NULL) when
# it is next opened for writing. Only nullable columns belong here.
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("collect_checkpoints", "received_until"),
    ("minute_counts", "resource_type"),
    ("minute_counts", "log_id"),
    ("minute_counts", "instance_starts"),
)


def table_ddl(table: str) -> str:
    """The statement that creates one store table (idempotent)."""
    body = ",\n  ".join(c.ddl() for c in TABLES[table])
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n)"


def changed_layouts(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The per-run tables the store holds with other columns than today's (an older version
    wrote them): today's SQL cannot read their rows. One catalog query."""
    listed = ", ".join(f"'{table}'" for table in sorted(PER_RUN_TABLES))
    stored = conn.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        f"AND table_name IN ({listed}) GROUP BY table_name"
    ).fetchall()
    return sorted(
        str(table) for table, columns in stored if list(columns) != column_names(str(table))
    )


def rebuild_changed_layouts(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Drop the per-run tables of an older layout and their marks, and create them in today's
    (writers only: the next classification fills them again). Returns their names."""
    changed = changed_layouts(conn)
    if changed:
        conn.execute("BEGIN TRANSACTION")
        try:
            for table in changed:
                conn.execute(f"DROP TABLE main.{table}")
                conn.execute(table_ddl(table))
                conn.execute("DELETE FROM derived_runs WHERE derived = ?", [table])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return changed


def all_ddl() -> list[str]:
    """Return the statements that create every table and view (idempotent)."""
    statements = ["CREATE SEQUENCE IF NOT EXISTS ingest_id_seq START 1"]
    statements.extend(table_ddl(table) for table in TABLES)
    for table, name in ADDED_COLUMNS:
        (column,) = (c for c in TABLES[table] if c.name == name)
        statements.append(
            f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "{name}" {column.sql_type}'
        )
    statements.append(ENTRIES_VIEW)
    return statements
