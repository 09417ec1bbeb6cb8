"""Per-run hourly spans: what the store holds and where each revision's entries begin, unscanned.

``HOUR_SPANS`` is a per-run derived table (forensics.derived): per ingest run, UTC hour,
service, resource type and revision, the entries' count, first and last timestamp and the
first one's insert_id. Two stages read it instead of the entries:

  - queries/store_time_range.sql (what the whole store holds, per service) reads every row,
    ``hour_spans_all()``: O(runs x hours x groups), never the entries;
  - queries/store_revision_first_seen.sql (the deploy markers' first entry of each revision in
    the look-back) reads ``hour_spans_in(since, until)``: the rows of the hours wholly inside
    [since, until), and the entries of the hour ``since`` falls inside and of the one ``until``
    falls inside (each a timestamp-pruned scan of at most an hour): O(hours x groups) + O(an
    edge hour's entries), not the look-back's entries.

The stored ``"timestamp"`` is the hour's start (so one test of ``"timestamp"`` scopes both the
stored rows and the entries they are computed from: ``Derived.scoped``). Runs whose rows are
not current are computed from log_entries, so older stores answer the same. Cost of writing:
one scan and hash aggregate of the new runs' entries (four key columns, no message).
"""

from __future__ import annotations

from forensics.derived import WHERE_MARK, Derived

__all__ = ["HOUR_SPANS", "HOUR_SQL", "hour_span_macros", "whole_hours_sql"]

# A UTC hour by arithmetic on epoch microseconds (date_trunc goes through the ICU calendar).
HOUR_SQL = "make_timestamptz(epoch_us({ts}) // 3600000000 * 3600000000)"

# first_insert_id: of the first entry, the least insert_id among entries sharing its timestamp
HOUR_SPANS = Derived(
    "hour_spans",
    f"""
SELECT e.ingest_id, {HOUR_SQL.format(ts='e."timestamp"')} AS "timestamp",
       e.service, e.resource_type, e.revision,
       count(*) AS entries,
       min(e."timestamp") AS first_entry,
       max(e."timestamp") AS last_entry,
       arg_min(e.insert_id, (e."timestamp", e.insert_id)) AS first_insert_id
FROM log_entries AS e
WHERE {WHERE_MARK}
GROUP BY ALL""",
)


def _first_whole(since: str) -> str:
    """SQL of the first hour starting at or after ``since``."""
    hour = HOUR_SQL.format(ts=since)
    return f"{hour} + CASE WHEN {hour} < {since} THEN INTERVAL 1 HOUR ELSE INTERVAL 0 HOUR END"


def hour_span_macros() -> list[str]:
    """The TEMP table macros ``hour_spans_all()`` and ``hour_spans_in(since, until)``."""
    since, until = "CAST(since AS TIMESTAMPTZ)", "CAST(until AS TIMESTAMPTZ)"
    first_whole = _first_whole(since)
    last_start = HOUR_SQL.format(ts=until)  # the hours wholly inside end here
    whole = f'e."timestamp" >= {first_whole} AND e."timestamp" < {last_start}'
    # the partial hours, from the entries of every run: [since, first whole hour) and
    # [until's hour, until), the second starting after the first (one hour holds both ends)
    head = f'e."timestamp" >= {since} AND e."timestamp" < least({first_whole}, {until})'
    tail = f'e."timestamp" >= greatest({last_start}, {first_whole}) AND e."timestamp" < {until}'
    return [
        "CREATE OR REPLACE TEMP MACRO hour_spans_all() AS TABLE\n"
        f"SELECT * EXCLUDE (ingest_id) FROM ({HOUR_SPANS.scoped('true')})",
        "CREATE OR REPLACE TEMP MACRO hour_spans_in(since, until) AS TABLE\n"
        f"SELECT * EXCLUDE (ingest_id) FROM ({HOUR_SPANS.scoped(whole)})\n"
        f"UNION ALL\nSELECT * EXCLUDE (ingest_id) FROM ({HOUR_SPANS.rows(head)})\n"
        f"UNION ALL\nSELECT * EXCLUDE (ingest_id) FROM ({HOUR_SPANS.rows(tail)})",
    ]


def whole_hours_sql(on: str) -> str:
    """SQL of the hours an hourly traffic read takes whole from the hourly ledger
    (forensics.minute_ledger.HOUR_LEDGER), one column ``h``, when ``on`` holds (else none):
    the hours inside [since, until) (macro parameters) with no cut strictly inside them and
    no counted minute (minute_counts: its per-minute rule needs the minutes). O(hours of the
    range + its counted minutes)."""
    since, until = "CAST(since AS TIMESTAMPTZ)", "CAST(until AS TIMESTAMPTZ)"
    first = HOUR_SQL.format(ts=since)
    hours = f"range({_first_whole(since)}, {HOUR_SQL.format(ts=until)}, INTERVAL 1 HOUR)"
    return f"""
    SELECT h FROM (SELECT unnest({hours}) AS h)
    WHERE {on}
      AND len(list_filter(cuts, c -> c > h AND c < h + INTERVAL 1 HOUR)) = 0
      AND h NOT IN (
          SELECT DISTINCT {HOUR_SQL.format(ts="minute")} FROM minute_counts
          WHERE minute >= {first} AND minute < {until}
      )"""
