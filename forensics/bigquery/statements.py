"""The two GoogleSQL statements ``collect --bigquery`` runs per window, and their parameters.

* ``entries_sql``: what to bring home, bounded by ``Caps`` whatever the volume: every matched
  entry whole; the audit and Cloud Run system logs whole (``PLATFORM_LOGS``); per
  unknown-error template (the miner's masked text) and service a sample of
  whole entries, the rest as counts per minute; and the Cloud Run stdout/stderr lines of the
  same instance within ``context_seconds`` of those entries, deduplicated, at most
  ``context_per_minute`` per instance and minute and ``context_per_revision`` per revision.
* ``counts_sql``: entries per minute, service, severity, HTTP status, resource type and log
  (``minute_counts``).

Both read the ``log_entries`` CTE of ``forensics.bigquery.source.entries_ctes``, filtered on
``@since`` / ``@until`` (``window_params``). Kept apart from the collection (``collect``), which
runs them and stores what they return: the statements change with what the analysis needs, the
collection with how the store records a source.
"""

from __future__ import annotations

from dataclasses import dataclass

from forensics.bigquery.client import QueryParam
from forensics.bigquery.source import WIRE
from forensics.collectors.checkpoints import Range
from forensics.collectors.filters import AUDIT_LOGS
from forensics.signatures.catalog import Catalog
from forensics.signatures.dialect import BIGQUERY, Dialect
from forensics.signatures.splittrace import GAP_MS
from forensics.timeutil import Window

__all__ = ["PLATFORM_LOGS", "RUN_TEXT_LOGS", "Caps", "counts_sql", "entries_sql", "window_params"]

RUN_TEXT_LOGS = ("run.googleapis.com/stdout", "run.googleapis.com/stderr")
# Brought home whole, as the API collector pulls them whole even with pushdown: the audit logs
# (deploys and Ready-condition changes, which rollouts and fix status read) and Cloud Run's
# system log (instance starts, probes). They are a few lines per revision and instance, not
# per request, so they stay a tiny share of any busy day.
PLATFORM_LOGS = (*AUDIT_LOGS, "run.googleapis.com/varlog/system")


def window_params(window: Window | Range) -> list[QueryParam]:
    """The ``@since`` / ``@until`` query parameters of a window."""
    since, until = (window.since, window.until) if isinstance(window, Window) else window
    return [("since", "TIMESTAMP", since), ("until", "TIMESTAMP", until)]


@dataclass(frozen=True)
class Caps:
    """What ``entries_sql`` brings home besides the matched entries ([bigquery] settings)."""

    candidates_per_template: int = 20  # whole unknown errors per template and service
    context_seconds: float = 30.0  # context lines this close to a brought-home entry
    context_per_minute: int = 20  # context lines per instance and minute
    context_per_revision: int = 400  # context lines per service revision in the window

    def key(self) -> str:
        """The caps as text, part of the checkpoint scope (other caps: another collection)."""
        return (
            f"{self.candidates_per_template}|{self.context_seconds:g}|"
            f"{self.context_per_minute}|{self.context_per_revision}"
        )


def entries_sql(
    ctes: str,
    catalog: Catalog,
    caps: Caps,
    dialect: Dialect = BIGQUERY,
    carried: tuple[str, ...] = WIRE,
) -> str:
    """The statement returning what to bring home, one row each (see the module docstring).

    Rows: ``kind`` (match, platform, candidate, context; ``counted`` for the unknown errors left
    where they are, one row per template, service and minute, with ``masked``, ``miner_service``,
    ``entries``, ``first_seen`` and ``last_seen``), BigQuery's primary signature, identity and
    the ``carried`` columns. ``ctes`` ends in ``log_entries`` (``source.entries_ctes``); empty
    for a ``log_entries`` table (``dialect`` DUCKDB: the benchmark at scale).

    Cost: one scan of the window; the classification is linear in rows x signatures; the
    context join is an equi-join on (service, time bucket of ``context_seconds``), so each line
    meets only the brought-home entries of its own service within three buckets.
    """
    from forensics.signatures.compile import classification_sql
    from forensics.signatures.masking import MASKS, error_sql, mask_sql, text_sql
    from forensics.signatures.matchtext import match_text_sql

    q, lit, eus = dialect.ident("timestamp"), dialect.literal, dialect.epoch_us
    hits = classification_sql(catalog, "TRUE", dialect=dialect, source="log_entries")
    pad = int(max(0.0, caps.context_seconds) * 1_000_000)
    width = max(pad, 1_000_000)  # the join's time bucket: a context line meets 3 buckets
    half = len(MASKS) // 2
    run_logs = ", ".join(lit(name) for name in RUN_TEXT_LOGS)
    platform_logs = ", ".join(lit(name) for name in PLATFORM_LOGS)
    minute = dialect.minute.format(expr=q)
    int_type = dialect.types["int"]

    def bucket(column: str, size: int) -> str:  # an integer: BigQuery partitions no FLOAT64
        return f"CAST(FLOOR({eus.format(expr=column)} / {size}) AS {int_type})"

    def cols(prefix: str = "") -> str:
        return "".join(f", {prefix}{c}" for c in carried)

    nulls = "".join(f", NULL AS {c}" for c in carried)
    extra_null = ", NULL AS masked, NULL AS miner_service, NULL AS entries, NULL AS last_seen"
    hour_c = bucket("c." + q, 3_600_000_000)
    mate_shifts = " UNION ALL ".join(
        f"SELECT service, instance_id, log_name, at_us, second + {d} AS second FROM match_times"
        for d in (-1, 0, 1)
    )
    shifts = " UNION ALL ".join(
        f"SELECT service, instance_id, {q}, bucket + {d} AS bucket FROM anchor_times"
        for d in (-1, 0, 1)
    )
    return f"""WITH {ctes + "," if ctes else ""}
hits AS ({hits}),
primaries AS (SELECT {q}, log_name, insert_id, signature FROM hits WHERE is_primary),
with_text AS (  -- the miner's match text, a step of its own: one expression is too deep
    SELECT *, {match_text_sql(dialect)} AS miner_match FROM log_entries  -- for the analyzer
),
flagged AS (
    SELECT e.*, p.signature AS primary_signature,
        CASE WHEN p.signature IS NOT NULL THEN 'match'
             WHEN {error_sql(dialect, "e.miner_match")} THEN 'candidate' END AS kind,
        e.log_id IN ({platform_logs}) AS platform
    FROM with_text AS e LEFT JOIN primaries AS p
        ON e.{q} = p.{q} AND e.log_name = p.log_name AND e.insert_id = p.insert_id
),
matched_texts AS (  -- the miner's service (forensics.signatures.mining)
    SELECT *, COALESCE(service, resource_type, '(none)') AS miner_service
    FROM flagged WHERE kind = 'candidate' AND NOT platform  -- platform lines come whole
),
texts AS (SELECT *, {text_sql(dialect, "miner_match")} AS miner_text FROM matched_texts),
half_masked AS (
    SELECT *, {mask_sql("miner_text", dialect, MASKS[:half])} AS masked_half FROM texts
),
candidates AS (
    SELECT *, {mask_sql("masked_half", dialect, MASKS[half:])} AS masked FROM half_masked
),
match_times AS (
    SELECT service, instance_id, log_name, {eus.format(expr=q)} AS at_us,
        {bucket(q, 1_000_000)} AS second
    FROM flagged WHERE kind = 'match' AND instance_id IS NOT NULL
),
match_seconds AS ({mate_shifts}),
trace_mates AS (  -- unknown errors printed with a match, as chunks of one split traceback
    SELECT DISTINCT c.{q}, c.log_name, c.insert_id
    FROM candidates AS c JOIN match_seconds AS m
        ON c.service = m.service AND c.instance_id = m.instance_id AND c.log_name = m.log_name
        AND {bucket("c." + q, 1_000_000)} = m.second
        AND ABS({eus.format(expr="c." + q)} - m.at_us) <= {GAP_MS * 1000}
),
sampled AS (  -- each template's first entries per service, its first in every hour, and
    -- every chunk of a matched traceback: a run cut short would match again in pieces
    SELECT c.*,
        ROW_NUMBER() OVER (PARTITION BY c.masked, c.miner_service ORDER BY c.{q}, c.insert_id)
            <= {int(caps.candidates_per_template)}
        OR ROW_NUMBER() OVER (PARTITION BY c.masked, {hour_c} ORDER BY c.{q}, c.insert_id) = 1
        OR t.insert_id IS NOT NULL AS kept
    FROM candidates AS c LEFT JOIN trace_mates AS t
        ON c.{q} = t.{q} AND c.log_name = t.log_name AND c.insert_id = t.insert_id
),
anchor_times AS (
    SELECT service, instance_id, {q}, {bucket(q, width)} AS bucket
    FROM flagged WHERE kind = 'match'
    UNION ALL
    SELECT service, instance_id, {q}, {bucket(q, width)} FROM sampled
    WHERE kept
),
anchors AS ({shifts}),
near AS (  -- deduplicated: a line near several anchors is one line
    SELECT DISTINCT f.{q}, f.log_name, f.insert_id, f.service, f.revision, f.instance_id
    FROM flagged AS f JOIN anchors AS k
        ON f.service = k.service AND {bucket("f." + q, width)} = k.bucket
        AND (k.instance_id IS NULL OR f.instance_id = k.instance_id)
        AND {eus.format(expr="f." + q)} BETWEEN {eus.format(expr="k." + q)} - {pad}
            AND {eus.format(expr="k." + q)} + {pad}
    WHERE f.kind IS NULL AND f.resource_type = 'cloud_run_revision'
        AND f.log_id IN ({run_logs})
),
near_ranked AS (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY service, instance_id, {dialect.minute.format(expr=q)}
        ORDER BY {q}, insert_id) AS in_minute
    FROM near
),
around AS (  -- the first lines of every instance-minute before the second of any
    SELECT * FROM near_ranked
    WHERE in_minute <= {int(caps.context_per_minute)}
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY service, revision ORDER BY in_minute, {q}, insert_id)
        <= {int(caps.context_per_revision)}
)
SELECT kind, primary_signature, {q}, log_name, insert_id{cols()}{extra_null}
FROM flagged WHERE kind = 'match'
UNION ALL
SELECT 'platform', NULL, {q}, log_name, insert_id{cols()}{extra_null}
FROM flagged WHERE platform AND kind IS DISTINCT FROM 'match'
UNION ALL
SELECT kind, NULL, {q}, log_name, insert_id{cols()}{extra_null}
FROM sampled WHERE kept
UNION ALL
SELECT 'context', NULL, f.{q}, f.log_name, f.insert_id{cols("f.")}{extra_null}
FROM flagged AS f JOIN around AS a
    ON f.{q} = a.{q} AND f.log_name = a.log_name AND f.insert_id = a.insert_id
UNION ALL
SELECT 'counted', NULL, MIN({q}), NULL, NULL{nulls}, masked, miner_service, COUNT(*), MAX({q})
FROM sampled WHERE NOT kept
GROUP BY masked, miner_service, {minute}"""


def counts_sql(ctes: str) -> str:
    """Entries per minute, service, severity, HTTP status, resource type and log for the
    window, with the Cloud Run instance starts among them (what the local volume, coverage and
    traffic readers count from ``log_entries`` otherwise)."""
    return f"""WITH {ctes}
SELECT TIMESTAMP_TRUNC(`timestamp`, MINUTE) AS minute, service, severity_name AS severity,
    http_status, resource_type, log_id, COUNT(*) AS entries,
    COUNTIF(log_id = 'run.googleapis.com/varlog/system'
        AND STARTS_WITH(COALESCE(message, ''), 'Starting new instance')) AS instance_starts
FROM log_entries
GROUP BY 1, 2, 3, 4, 5, 6"""
