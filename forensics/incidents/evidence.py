"""Which log lines are evidence for which tracked issue: direct matches and attributed symptoms.

Usage:
  1. ``load_matches(store, until, since)`` reads every signature match of the look-back
     [since, until) (forensics.incidents.lookback); ``attribute_symptoms(store, until,
     registry, since)`` runs queries/store_symptom_causes.sql over it, which
     pairs every symptom (exit 3, 503, ...) with the failure episode before it on the same
     instance, else revision, named by the episode's root (a DB-init timeout after a Cloud SQL
     socket failure is one cascade: the socket failure; a missing module's crash is its
     ModuleNotFoundError, not the RuntimeError wrapping it).
  2. ``issue_evidence(matches, symptoms, registry, ranks)`` gives one row per (issue, line):
     a line is direct evidence when one of its matches is among the issue's signatures, and a
     symptom counts only when its attributed cause is one of them. So an exit 3 after a
     ModuleNotFoundError is evidence for no issue, though it ends the same way as #1278.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from forensics.incidents.cause import error_text, exception_line
from forensics.incidents.registry import Registry
from forensics.sql import run_named
from forensics.store import Store

__all__ = [
    "BURST_GAP_S",
    "IDENTITY",
    "SPLIT_TRACEBACK_GAP_S",
    "attribute_symptoms",
    "attribution_params",
    "cause_texts",
    "fetch_lines",
    "issue_evidence",
    "load_matches",
]

IDENTITY = ["timestamp", "log_name", "insert_id"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # no lower bound: a caller that reads all history
_EVIDENCE_COLUMNS = [
    "issue",
    *IDENTITY,
    "signature",
    "service",
    "revision",
    "instance_id",
    "kind",
    "cause",
]


def load_matches(
    store: Store, until: datetime, since: datetime = EPOCH, facts_since: datetime | None = None
) -> pl.DataFrame:
    """Every signature match in [since, until), primary and secondary, with entry facts: the
    resource type and log of the matches from ``facts_since`` on (default ``since``: all) and
    of those without a service; NULL for the others (the look-back before the window, whose
    facts no stage reads: the window's incidents do), so the look-back's entries are not
    joined. Sorted by time, insert_id, signature (and log_name) here: polars sorts the
    look-back's matches for a tenth of what the statement's ORDER BY cost (0.06 CPU s over 3
    days of 1M entries/day)."""
    params = {"since": since, "until": until, "facts_since": facts_since or since}
    matches = run_named(store, "store_signature_matches", params)
    return matches.sort(["timestamp", "insert_id", "signature", "log_name"], nulls_last=True)


# The lines one failure writes at once (the error, its traceback chunks, gunicorn's exit) arrive
# within milliseconds on their instance (real export 2025-09-16: under 10 ms); the next boot of a
# crash loop logs 7 s or more later. Two seconds keeps one crash's lines together, not two boots.
BURST_GAP_S = 2.0


def attribution_params(
    until: datetime, registry: Registry, since: datetime = EPOCH
) -> dict[str, Any]:
    """The parameters of queries/store_symptom_causes.sql for ``registry`` over [since, until)."""
    settings = registry.settings
    causes = sorted({s for issue in registry.issues for s in issue.signatures})
    return {
        "since": since,
        "until": until,
        "symptoms": list(registry.symptoms()),
        "lookahead_s": settings.boot_lookahead_seconds,
        "window_s": settings.attribution_window_seconds,
        "burst_s": BURST_GAP_S,
        "cause_issues": [{"cause": c, "issues": registry.issues_of_cause(c)} for c in causes],
    }


def attribute_symptoms(
    store: Store, until: datetime, registry: Registry, since: datetime = EPOCH
) -> pl.DataFrame:
    """Every symptom match in [since, until) with its episode's root cause, kind and basis."""
    params = attribution_params(until, registry, since)
    return run_named(store, "store_symptom_causes", params)


def _pairs(rows: list[tuple[str, ...]], names: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")


def issue_evidence(
    matches: pl.DataFrame,
    symptoms: pl.DataFrame,
    registry: Registry,
    ranks: dict[str, int],
) -> pl.DataFrame:
    """One row per (issue, evidence line); ``kind`` is ``direct`` or ``symptom``.

    Args:
        matches: from ``load_matches``.
        symptoms: from ``attribute_symptoms``.
        registry: the tracked issues.
        ranks: signature id → catalog precedence (0 first); a line matching several of an
            issue's signatures is counted once, under the highest one.
    """
    direct_map = _pairs(
        [(i.id, s) for i in registry.issues for s in i.signatures], ["issue", "signature"]
    )
    cause_map = _pairs(
        [(i.id, sym, c) for i in registry.issues for sym in i.symptoms for c in i.signatures],
        ["issue", "signature", "cause"],
    )
    rank = pl.col("signature").replace_strict(ranks, default=len(ranks), return_dtype=pl.Int64)
    direct = (
        matches.join(direct_map, on="signature")
        .with_columns(
            rank.alias("_rank"),
            pl.lit("direct").alias("kind"),
            pl.lit(None, pl.String).alias("cause"),
        )
        .sort("_rank")
        .unique(subset=["issue", *IDENTITY], keep="first", maintain_order=True)
    )
    attributed = symptoms.filter(pl.col("cause_kind") == "signature").join(
        cause_map, on=["signature", "cause"]
    )
    attributed = attributed.with_columns(pl.lit("symptom").alias("kind"))
    frames = [f.select(_EVIDENCE_COLUMNS) for f in (direct, attributed) if not f.is_empty()]
    if not frames:
        return pl.DataFrame(schema=_empty_schema(matches))
    return pl.concat(frames, how="vertical_relaxed").sort("timestamp", "insert_id", "issue")


def _empty_schema(matches: pl.DataFrame) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = dict.fromkeys(_EVIDENCE_COLUMNS, pl.String())
    schema["timestamp"] = matches.schema.get("timestamp", pl.Datetime("us", "UTC"))
    return schema


# Identities handed to SQL as one JSON parameter, parsed into a TEMP table: registering a frame
# imports pyarrow's dataset and compute modules (0.15 CPU s), and list parameters are converted
# value by value (0.16 CPU s per 1,700 values); this takes milliseconds.
_WANTED = """
SELECT make_timestamptz(r.us) AS "timestamp", r.log_name, r.insert_id
FROM (
    SELECT unnest(from_json(
        $rows, '[{"us": "BIGINT", "log_name": "VARCHAR", "insert_id": "VARCHAR"}]'
    )) AS r
)"""


@contextmanager
def _wanted(store: Store, name: str, identities: pl.DataFrame) -> Iterator[None]:
    """These identities as the TEMP table ``name`` while the block runs."""
    rows = identities.select(
        pl.col("timestamp").dt.epoch("us").alias("us"), "log_name", "insert_id"
    ).write_json()
    store.conn.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {_WANTED}", {"rows": rows})
    try:
        yield
    finally:
        store.conn.execute(f"DROP TABLE IF EXISTS temp.{name}")


def fetch_lines(store: Store, identities: pl.DataFrame, max_chars: int = 500) -> pl.DataFrame:
    """Message, revision and instance of the entries with these identities (one SQL join).

    Messages are cut to ``max_chars``: they are cited, not reproduced.
    """
    wanted = identities.select(IDENTITY).unique()
    if wanted.is_empty():
        return wanted.with_columns(
            pl.lit(None, pl.String).alias(c) for c in ("message", "revision", "instance_id")
        )
    with _wanted(store, "_wanted_lines", wanted):
        return store.query(
            'SELECT e."timestamp", e.log_name, e.insert_id, left(e.message, $n) AS message, '
            "e.revision, e.instance_id FROM entries AS e JOIN _wanted_lines AS w "
            'ON e."timestamp" = w."timestamp" AND e.log_name = w.log_name '
            "AND e.insert_id = w.insert_id",
            {"n": max_chars},
        )


# Chunks of one traceback split by the logging agent arrive within milliseconds of each other
# on the same instance and stream; two seconds keeps a slow flush and leaves the next error out.
SPLIT_TRACEBACK_GAP_S = 2.0
_MAX_CHUNKS = 20
_GAP_US = round(SPLIT_TRACEBACK_GAP_S * 1_000_000)


# The entries sharing each cause's log and insert_id (the cause itself among them: one hash join
# on exact keys), then the chunks that follow each cause on its instance and stream (a second
# hash join on the stream and a gap-long time slot), both bounded in time: O(entries in the
# range + k). A cause that is not an entry of the range has no chunks.
_CAUSE_CHUNKS_SQL = """
WITH same_id AS MATERIALIZED (
    SELECT w.insert_id AS cause_id, w."timestamp" = e."timestamp" AS is_cause,
           e."timestamp", e.log_name, e.insert_id, e.instance_id, e.message
    FROM _wanted_causes AS w
    JOIN entries AS e ON e.log_name = w.log_name AND e.insert_id = w.insert_id
    WHERE e."timestamp" BETWEEN $lo AND $hi
),
c AS (
    SELECT cause_id, "timestamp", log_name, instance_id FROM same_id WHERE is_cause
),
slotted AS (
    -- Time cut into slots one gap long: what follows a cause within the gap lies in the
    -- cause's slot or the next, so the join is on exact keys (stream and slot), never every
    -- cause against its stream's whole range (quadratic in an error-dense stream).
    SELECT cause_id, "timestamp", log_name, instance_id,
           unnest([epoch_us("timestamp") // $gap_us, epoch_us("timestamp") // $gap_us + 1])
               AS slot
    FROM c
    WHERE coalesce(instance_id, '') <> ''
),
chunk AS (
    SELECT s.cause_id, s."timestamp", s.insert_id, s.message
    FROM same_id AS s
    SEMI JOIN c ON c.cause_id = s.cause_id AND c.log_name = s.log_name
    UNION
    SELECT c.cause_id, e."timestamp", e.insert_id, e.message
    FROM slotted AS c JOIN entries AS e
      ON e.log_name = c.log_name AND e.instance_id = c.instance_id
     AND epoch_us(e."timestamp") // $gap_us = c.slot
    WHERE e."timestamp" > c."timestamp" AND e."timestamp" <= c."timestamp" + $gap
      AND e."timestamp" BETWEEN $lo AND $hi
)
SELECT * FROM chunk
QUALIFY row_number() OVER (PARTITION BY cause_id ORDER BY "timestamp", insert_id) <= $n
"""


def cause_texts(store: Store, identities: pl.DataFrame) -> dict[str, str]:
    """insert_id → the text naming each error cause: its root exception line, read across the
    chunks of a split traceback (the entries that follow it on the same instance and stream
    within SPLIT_TRACEBACK_GAP_S), else its first line.

    Cost: hash joins on exact keys (the identity; log name, instance and a gap-long time
    slot) over the entries between the first cause and the last one's gap, so O(entries in
    that range + k) for k causes; call it once for every cause of an analysis, not once per
    incident.
    """
    wanted = identities.select(IDENTITY).unique()
    if wanted.is_empty():
        return {}
    gap = timedelta(seconds=SPLIT_TRACEBACK_GAP_S)
    times: list[datetime] = wanted["timestamp"].to_list()
    bounds = {"lo": min(times), "hi": max(times) + gap}
    with _wanted(store, "_wanted_causes", wanted):
        chunks = store.query(
            _CAUSE_CHUNKS_SQL,
            {**bounds, "gap": gap, "gap_us": _GAP_US, "n": _MAX_CHUNKS},
        )
    # each cause's chunk messages as one list (a DataFrame per group cost an error-dense day's
    # 8,000 causes a third of a second)
    grouped = (
        chunks.sort("timestamp", "insert_id")
        .group_by("cause_id", maintain_order=True)
        .agg(pl.col("message").fill_null(""))
    )
    out: dict[str, str] = {}
    for cause_id, messages in grouped.iter_rows():
        found = next((line for m in messages if (line := exception_line(m))), None)
        # no exception line in any chunk: the chunks' deepest frame, else the first line
        out[str(cause_id)] = found or error_text("\n".join(messages))
    return out
