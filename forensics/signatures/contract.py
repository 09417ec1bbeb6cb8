"""The columns the compiled signature SQL reads from its source: the contract a source must meet.

Locally the source is the store's ``log_entries`` table, which has them all. In BigQuery it is
a mapping view over a Log Analytics ``_AllLogs`` view or a Log Router sink's tables, which must
yield exactly these names with these BigQuery types, each holding what the store's column of
the same name holds (its documentation, ``doc``, comes from ``forensics.schema``: e.g. how
``message`` is chosen, and that ``json_payload`` is JSON text, not a JSON value).
``classification_sql(..., source=...)`` then runs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from forensics.schema import LOG_ENTRY_COLUMNS

__all__ = ["SOURCE_CONTRACT", "SourceColumn"]

_DOCS = {c.name: c.doc for c in LOG_ENTRY_COLUMNS}


@dataclass(frozen=True)
class SourceColumn:
    """One column the signature SQL reads: its name and BigQuery type."""

    name: str
    bigquery_type: str

    @property
    def doc(self) -> str:
        """What the column holds (the store's column of the same name)."""
        return _DOCS[self.name]


SOURCE_CONTRACT: tuple[SourceColumn, ...] = tuple(
    SourceColumn(name, bigquery_type)
    for name, bigquery_type in (
        ("timestamp", "TIMESTAMP"),  # the partitioning column: filter it with @start/@end
        ("log_name", "STRING"),
        ("insert_id", "STRING"),
        ("service", "STRING"),
        ("revision", "STRING"),
        ("instance_id", "STRING"),
        ("trace", "STRING"),
        ("severity_number", "INT64"),  # never NULL: DEFAULT is 0
        ("resource_type", "STRING"),
        ("log_id", "STRING"),
        ("http_status", "INT64"),
        ("http_url", "STRING"),
        ("http_latency_ms", "FLOAT64"),
        ("message", "STRING"),
        ("json_payload", "STRING"),  # JSON text (TO_JSON_STRING), NULL when there is none
    )
)
