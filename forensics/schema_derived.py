"""The per-run tables derived from log_entries when a run is classified: declared once.

Each holds one ingest run's rows of something the analysis reads often (forensics.derived,
forensics.window_rows, forensics.minute_ledger), so a window's stages read these instead of
scanning the entries again. forensics.schema adds them to the store's tables.
"""

from __future__ import annotations

from forensics.schema_entry import LOG_ENTRY_COLUMNS, Column

__all__ = [
    "CLASSIFIED_RUN_COLUMNS",
    "DERIVED_RUN_COLUMNS",
    "ERROR_TEXT_COLUMNS",
    "HOUR_LEDGER_COLUMNS",
    "MINUTE_LEDGER_COLUMNS",
    "SIGNATURE_SPAN_COLUMNS",
    "WINDOW_ROW_COLUMNS",
]

# One row per (ingest run, catalog version) whose entries were classified with that catalog:
# forensics.pipeline classifies only the runs without a row for the current catalog, so an
# unchanged store classifies nothing and two catalog versions never mix in one answer.
CLASSIFIED_RUN_COLUMNS: tuple[Column, ...] = (
    Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row whose entries were classified."),
    Column("catalog_version", "VARCHAR NOT NULL", "The catalog version they were classified with."),
    Column("matches", "BIGINT NOT NULL", "signature_matches rows written for the run."),
    Column("classified_at", "TIMESTAMPTZ NOT NULL", "When."),
)

# The unknown-error miner's rows, written once per ingest run (forensics.signatures.error_texts):
# every entry the miner counts as an error, with the text a template is made of and its masked
# form, so mining a window reads these instead of testing and masking every entry again.
ERROR_TEXT_COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "TIMESTAMPTZ NOT NULL", "The entry's timestamp (its identity)."),
    Column("log_name", "VARCHAR NOT NULL", "The entry's log_name (its identity)."),
    Column("insert_id", "VARCHAR NOT NULL", "The entry's insert_id (its identity)."),
    Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row that added the entry."),
    Column("service", "VARCHAR NOT NULL", "service, else resource_type, else '(none)'."),
    Column("text", "VARCHAR", "A traceback's exception line, else the first line (300 chars)."),
    Column("masked", "VARCHAR", "The text with ids, numbers, paths masked (mining.MASKS)."),
)

# One row per (ingest run, derived table) holding that run's rows: the run's rows are current
# while the version (a hash of the SQL that made them) and the run's accepted count are today's;
# otherwise the readers compute that run's part from log_entries (see forensics/derived.py).
DERIVED_RUN_COLUMNS: tuple[Column, ...] = (
    Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row whose rows are stored."),
    Column("derived", "VARCHAR NOT NULL", "The derived table, e.g. error_texts."),
    Column("version", "VARCHAR NOT NULL", "Hash of the SQL that wrote the rows."),
    Column("entries", "BIGINT NOT NULL", "The run's accepted count when its rows were written."),
    Column("made_at", "TIMESTAMPTZ NOT NULL", "When."),
)

# The entries of each ingest run counted per minute (forensics.minute_ledger), written once per
# run, so minute_volume reads whole minutes of history from here instead of log_entries.
MINUTE_LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row whose entries are counted."),
    Column("minute", "TIMESTAMPTZ NOT NULL", "The UTC minute counted."),
    Column("source", "VARCHAR NOT NULL", "As log_entries.source."),
    Column("service", "VARCHAR", "As log_entries.service."),
    Column("resource_type", "VARCHAR", "As log_entries.resource_type."),
    Column("log_id", "VARCHAR", "As log_entries.log_id."),
    Column("severity", "VARCHAR", "As log_entries.severity."),
    Column("severity_number", "SMALLINT", "As log_entries.severity_number."),
    Column("http_status", "INTEGER", "As log_entries.http_status."),
    Column("instance_starts", "BIGINT NOT NULL", "Entries that say an instance started."),
    Column("entries", "BIGINT NOT NULL", "Entries of the run in that minute with those values."),
)


# Each ingest run's signature matches rolled up per signature (forensics.incidents.sightings),
# written once per run and catalog, so an issue's first sighting in the whole store costs
# O(runs x signatures), not a scan of every match or entry before the look-back.
SIGNATURE_SPAN_COLUMNS: tuple[Column, ...] = (
    Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row whose entries matched."),
    Column("signature", "VARCHAR NOT NULL", "The signature (current catalog's matches)."),
    Column("is_primary", "BOOLEAN NOT NULL", "Its primary matches, or its secondary ones."),
    Column("matches", "BIGINT NOT NULL", "The run's entries it matched."),
    Column("first_match", "TIMESTAMPTZ NOT NULL", "The first one's timestamp."),
    Column(
        "first_line",
        "STRUCT(insert_id VARCHAR, service VARCHAR, revision VARCHAR)",
        "The first one's insert_id, service (else resource type) and revision.",
    ),
    Column("last_match", "TIMESTAMPTZ NOT NULL", "The last one's timestamp."),
    Column(
        "last_line",
        "STRUCT(insert_id VARCHAR, service VARCHAR, revision VARCHAR)",
        "The last one's insert_id, service (else resource type) and revision.",
    ),
)


# The Cloud Run entries of each ingest run counted per hour (forensics.minute_ledger.HOUR_LEDGER),
# so the traffic since a claimed fix days back reads hours, not minutes.
HOUR_LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row whose entries are counted."),
    Column("timestamp", "TIMESTAMPTZ NOT NULL", "The UTC hour's start."),
    Column("source", "VARCHAR NOT NULL", "As log_entries.source."),
    Column("service", "VARCHAR", "As log_entries.service."),
    Column("http_status", "INTEGER", "As log_entries.http_status."),
    Column("instance_starts", "BIGINT NOT NULL", "Entries that say an instance started."),
    Column("entries", "BIGINT NOT NULL", "Cloud Run entries of the run in that hour."),
)


def _entry_columns(*names: str) -> tuple[Column, ...]:
    """log_entries columns by name, as they are declared there."""
    by_name = {c.name: c for c in LOG_ENTRY_COLUMNS}
    return tuple(by_name[name] for name in names)


# Per-run rows the window stages read (forensics.window_rows, derived like error_texts): the
# few entries each check, the top errors and the symptom attribution look at.
WINDOW_ROW_COLUMNS: dict[str, tuple[Column, ...]] = {
    "instance_events": (
        *_entry_columns("ingest_id", "timestamp", "instance_id", "service", "revision"),
        Column("kind", "VARCHAR NOT NULL", "start, app_ready, probe_ok or failed."),
    ),
    "db_timings": (
        *_entry_columns("ingest_id", "timestamp", "service", "revision", "insert_id"),
        Column("seconds", "DOUBLE NOT NULL", "The logged database connection time."),
    ),
    "health_requests": _entry_columns(
        "ingest_id", "timestamp", "service", "insert_id", "http_latency_ms", "http_status"
    ),
    "error_messages": (
        *_entry_columns("ingest_id", "timestamp", "insert_id"),
        Column("service", "VARCHAR NOT NULL", "service, else resource_type, else '(none)'."),
        Column("message", "VARCHAR", "The first 300 characters, numbers masked as N."),
    ),
    "error_causes": (
        *_entry_columns("ingest_id", "timestamp", "log_name", "insert_id", "service"),
        *_entry_columns("revision", "instance_id"),
        Column("cause", "VARCHAR NOT NULL", "'error:' and the error type, else unclassified."),
        Column("kind_rank", "INTEGER NOT NULL", "1: a typed error, 2: an untyped one."),
    ),
    "audit_entries": _entry_columns(
        "ingest_id", "timestamp", "insert_id", "log_id", "severity", "resource_type", "service"
    )
    + _entry_columns("revision", "json_payload"),
    # forensics.hour_spans: per run, hour, service, resource type and revision
    "hour_spans": (
        Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row whose entries are spanned."),
        Column("timestamp", "TIMESTAMPTZ NOT NULL", "The UTC hour's start."),
        *_entry_columns("service", "resource_type", "revision"),
        Column("entries", "BIGINT NOT NULL", "Entries of the run in that hour with those values."),
        Column("first_entry", "TIMESTAMPTZ NOT NULL", "The first one's timestamp."),
        Column("last_entry", "TIMESTAMPTZ NOT NULL", "The last one's timestamp."),
        Column("first_insert_id", "VARCHAR", "The first one's insert_id."),
    ),
}
