"""The LogEntry table's columns, one declared type and meaning per LogEntry field.

Split from forensics.schema (which lists every table and makes the DDL) so the derived per-run
tables (forensics.schema_derived) can reuse these declarations without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LOG_ENTRY_COLUMNS", "SEVERITY_LEVELS", "Column"]


@dataclass(frozen=True)
class Column:
    """One column of a store table: its name, DuckDB type, what it holds and, where the pick is
    known in advance, its compression."""

    name: str
    sql_type: str
    doc: str
    # Named, DuckDB writes the column without analysing it first: at each row group it would
    # otherwise build a dictionary and an FSST symbol table of every string column, to keep
    # one (a tenth of writing the log entries, benchmarks/bench_ingest.py). DuckDB stores a
    # segment the named method cannot hold uncompressed, so a wrong guess costs disk, not data.
    compression: str | None = None

    def ddl(self) -> str:
        using = f" USING COMPRESSION {self.compression}" if self.compression else ""
        return f'"{self.name}" {self.sql_type}{using}'


# LogSeverity as Cloud Logging numbers it (google.logging.type.LogSeverity); used for floors.
SEVERITY_LEVELS: dict[str, int] = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}

LOG_ENTRY_COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "TIMESTAMPTZ NOT NULL", "When the event happened (UTC, microseconds)."),
    Column("receive_timestamp", "TIMESTAMPTZ", "When Cloud Logging received the entry."),
    Column(
        "severity",
        "VARCHAR NOT NULL",
        "LogSeverity name; DEFAULT when the export omits it.",
        compression="dictionary",
    ),
    Column("severity_number", "SMALLINT NOT NULL", "LogSeverity number (ERROR = 500)."),
    Column(
        "log_name",
        "VARCHAR NOT NULL",
        "logName, URL-decoded: projects/P/logs/run.googleapis.com/stderr.",
        compression="dictionary",
    ),
    Column(
        "log_id",
        "VARCHAR",
        "The part of log_name after /logs/, e.g. run.googleapis.com/requests.",
        compression="dictionary",
    ),
    Column(
        "insert_id",
        "VARCHAR NOT NULL",
        "insertId; 'sha256:<hex>' of the entry when it had none.",
        compression="fsst",
    ),
    Column(
        "resource_type",
        "VARCHAR",
        "resource.type, e.g. cloud_run_revision, cloudsql_database.",
        compression="dictionary",
    ),
    Column(
        "project_id",
        "VARCHAR",
        "resource.labels.project_id, else the project in log_name.",
        compression="dictionary",
    ),
    Column(
        "service",
        "VARCHAR",
        "Cloud Run service_name, Cloud SQL database_id or connector_name.",
        compression="dictionary",
    ),
    Column("revision", "VARCHAR", "Cloud Run revision_name.", compression="dictionary"),
    Column("location", "VARCHAR", "resource.labels.location or region.", compression="dictionary"),
    Column(
        "instance_id",
        "VARCHAR",
        "labels.instanceId: the Cloud Run instance that wrote the entry.",
        compression="dictionary",
    ),
    Column("trace", "VARCHAR", "trace: projects/P/traces/<id>.", compression="fsst"),
    Column("span_id", "VARCHAR", "spanId.", compression="fsst"),
    Column("http_status", "INTEGER", "httpRequest.status."),
    Column("http_method", "VARCHAR", "httpRequest.requestMethod.", compression="dictionary"),
    Column("http_url", "VARCHAR", "httpRequest.requestUrl."),
    Column("http_latency_ms", "DOUBLE", "httpRequest.latency in milliseconds."),
    Column(
        "payload_kind", "VARCHAR NOT NULL", "text, json, proto, or none.", compression="dictionary"
    ),
    Column(
        "message",
        "VARCHAR",
        "The human text: textPayload; jsonPayload.message (or msg/text/error/event); a one-line "
        "summary for request logs; methodName and status message for audit logs. ANSI colour "
        "codes removed.",
        compression="fsst",
    ),
    # The three JSON columns are VARCHAR holding JSON text: every entry was validated on the
    # way in, and a JSON-typed column would parse each value again on insert (a third of the
    # ingest time). DuckDB's JSON functions and ->> work on them as they are.
    Column("json_payload", "VARCHAR", "jsonPayload or protoPayload, as JSON text."),
    Column("labels", "VARCHAR", "The entry's labels, as JSON text.", compression="dictionary"),
    # zstd: the largest column, written once and rarely read. Against FSST it writes in a third
    # of the time and takes a sixth of the disk (benchmarks/bench_ingest.py); naming it also
    # spares DuckDB from trying every string compression at each row group. zstd needs storage
    # version v1.2.0 (STORAGE_VERSION, which new stores get); a store made before keeps FSST.
    Column(
        "raw",
        "VARCHAR NOT NULL",
        "The whole entry as received (JSON text): nothing is lost.",
        compression="zstd",
    ),
    Column(
        "source",
        "VARCHAR NOT NULL",
        "Where the entry came from: a file path or an API source.",
        compression="dictionary",
    ),
    Column("ingest_id", "BIGINT NOT NULL", "The ingest_runs row that added the entry."),
)
