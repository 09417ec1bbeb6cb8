"""Each ingest run's error entries, found and masked once, so mining a window reads a small table.

Finding the errors (a level regex per entry, a text regex for unlevelled lines) and masking
their texts (eleven regexes) is the miner's whole per-entry cost, and neither depends on the
window or the signature catalog, so both are stored per ingest run in ``error_texts`` (a
derived table, see forensics.derived: written by the writers, current while the masks and the
run are unchanged). Which entries are *unexplained* (no signature match) is decided at read
time against ``signature_matches``, so a catalog change needs no new rows.

Usage:
  ``errors_sql(store, where)`` is the relation the miner reads: the stored rows of the runs
  whose rows are current, and the same rows computed from ``log_entries`` for every other
  entry. Cost: O(error rows in scope) for stored runs, O(entries in scope) for the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from forensics.derived import WHERE_MARK, Derived, pending_runs
from forensics.signatures.masking import ERROR_SQL, SERVICE_SQL, TEXT_SQL, mask_sql
from forensics.signatures.matchtext import HAS_ERROR_FIELDS_SQL
from forensics.store import Store

__all__ = ["ERROR_TEXTS", "errors_sql", "window_where"]

# One row per error entry of the scope: identity, run, service, text, masked text. Errors repeat
# their texts: each distinct input of the text (the message, the payload when it may hold error
# fields, the severity: matchtext) has its text built once, and each distinct text is masked
# once (eleven regexes), both joined back by hash. Cost: one scan of the scope's entries (the
# error test), O(errors) for the joins, the text O(distinct inputs), the masks O(distinct texts).
ERROR_TEXTS = Derived(
    "error_texts",
    f"""
WITH errors AS MATERIALIZED (
    SELECT e."timestamp", e.log_name, e.insert_id, e.ingest_id, {SERVICE_SQL} AS service,
           e.message, e.severity_number,
           CASE WHEN {HAS_ERROR_FIELDS_SQL} THEN e.json_payload END AS error_payload
    FROM log_entries AS e
    WHERE {WHERE_MARK} AND {ERROR_SQL}
), texts AS MATERIALIZED (
    SELECT message, error_payload, severity_number, {TEXT_SQL} AS text
    FROM (
        SELECT DISTINCT message, error_payload, error_payload AS json_payload, severity_number
        FROM errors
    )
), masks AS (
    SELECT text, {mask_sql("text")} AS masked FROM (SELECT DISTINCT text FROM texts)
)
SELECT e."timestamp", e.log_name, e.insert_id, e.ingest_id, e.service, t.text, m.masked
FROM errors AS e
JOIN texts AS t ON t.message IS NOT DISTINCT FROM e.message
    AND t.error_payload IS NOT DISTINCT FROM e.error_payload
    AND t.severity_number IS NOT DISTINCT FROM e.severity_number
LEFT JOIN masks AS m ON m.text IS NOT DISTINCT FROM t.text""",
)
_COLUMNS = '"timestamp", log_name, insert_id, service, text, masked'


def errors_sql(store: Store, where: str) -> str:
    """SQL of the error rows (``"timestamp"``, log_name, insert_id, service, text, masked) whose
    entries satisfy ``where`` (tests of ``e."timestamp"`` only: both tables have it): the
    stored rows of the current runs, computed rows of the others (``Derived.scoped``). When
    every run is current the computed part is left out: planning its regexes costs more than
    reading the stored rows (0.08 CPU s)."""
    if pending_runs(store, ERROR_TEXTS):
        return f"SELECT {_COLUMNS} FROM ({ERROR_TEXTS.scoped(where)})"
    current = ERROR_TEXTS.current_sql()
    return f"SELECT {_COLUMNS} FROM error_texts AS e WHERE {where} AND e.ingest_id IN ({current})"


def window_where(since: datetime | None, until: datetime | None) -> tuple[str, dict[str, Any]]:
    """The ``where`` of entries in [since, until) (either side may be None) and its params."""
    tests, params = [], {}
    if since is not None:
        tests.append('e."timestamp" >= $since')
        params["since"] = since
    if until is not None:
        tests.append('e."timestamp" < $until')
        params["until"] = until
    return " AND ".join(tests) or "TRUE", params
