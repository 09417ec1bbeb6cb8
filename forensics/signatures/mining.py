"""Group the errors no signature explains into templates, so a new failure mode shows on day one.

Usage:
  1. ``mine_templates(store, since, until)`` takes the entries at ERROR or above (the entry's
     severity, or the level a DEFAULT line writes, as `[ERROR]`), the 5xx requests and the
     unlevelled lines that read as an error ("error", "exception", "failed", ...) that have no
     row in ``signature_matches``, so classify the window first.
     ``unexplained_template_ids(store)`` gives each such entry its template id.
  2. In SQL, each entry's text (a traceback's exception line, else its first line) is masked:
     /cloudsql/ paths, trace ids, UUIDs, revisions, instance ids, IPs, hex, identifiers with
     digits and numbers become placeholders (forensics.signatures.masking). Both are stored per
     ingest run (forensics.signatures.error_texts), so a window reads its error rows, drops the
     ones a signature matched and counts identical masked texts in one pass: O(error rows).
  3. In Python, the distinct masked texts are grouped into templates (forensics.signatures.
     grouping: a learned line header is dropped, texts are partitioned by token count and by the
     positions that hold a few words, variables spanning several tokens are merged), the
     varying tokens becoming ``<*>``; the work is over distinct texts only, not rows.
  4. Each template has a stable id (a hash of its text) that `forensics patterns new
     --from-template ID` turns into a signature file.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from forensics.signatures.error_texts import errors_sql, window_where
from forensics.signatures.grouping import group_masked
from forensics.signatures.masking import MASKS, error_sql, mask_sql, mask_texts
from forensics.store import Store

__all__ = [
    "MASKS",
    "Template",
    "error_sql",
    "mask_sql",
    "mask_texts",
    "merge_templates",
    "mine_templates",
    "template_id",
    "template_ids",
    "unexplained_template_ids",
]


@dataclass
class Template:
    """A group of unexplained errors with the same shape."""

    template: str
    count: int
    first_seen: datetime
    last_seen: datetime
    services: list[str]
    example_insert_id: str
    example_log_name: str
    example_timestamp: datetime
    example_message: str
    variants: int = 1  # distinct masked texts merged into it
    members: list[str] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return template_id(self.template)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "template": self.template,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "services": self.services,
            "example_insert_id": self.example_insert_id,
        }


def _unexplained_sql(store: Store, where: str) -> str:
    """The error rows in scope that no signature matched (``signature_matches`` as this
    connection reads it: a reader's in-memory shadow when it has one)."""
    # an ANTI join on the identity: NOT EXISTS is planned as a delim join, twice the work
    return f"""
SELECT e.* FROM ({errors_sql(store, where)}) AS e
ANTI JOIN signature_matches AS m
  ON m."timestamp" = e."timestamp" AND m.insert_id = e.insert_id AND m.log_name = e.log_name"""


def _candidates_sql(store: Store, where: str, counted: str) -> str:
    """The unexplained entries per masked text, plus those counted but not stored
    (``unexplained_counts``, from collect --bigquery: the stored sample holds each text's
    earliest entry, so the example is the one a whole store gives; a text seen in the window
    only through counts has no example)."""
    return f"""
WITH rows AS (
    SELECT masked, 1 AS n, "timestamp" AS first_seen, "timestamp" AS last_seen, service,
           insert_id, log_name, text, TRUE AS stored
    FROM ({_unexplained_sql(store, where)})
    UNION ALL
    SELECT masked, entries, first_seen, last_seen, service, NULL, NULL, NULL, FALSE
    FROM unexplained_counts AS c
    WHERE {counted}
)
SELECT masked,
       sum(n) AS n,
       min(first_seen) AS first_seen,
       max(last_seen) AS last_seen,
       list(DISTINCT service ORDER BY service) AS services,
       arg_min(insert_id, first_seen) FILTER (stored) AS example_insert_id,
       arg_min(log_name, first_seen) FILTER (stored) AS example_log_name,
       coalesce(min(first_seen) FILTER (stored), min(first_seen)) AS example_timestamp,
       arg_min(text, first_seen) FILTER (stored) AS example_message
FROM rows
GROUP BY masked
ORDER BY n DESC, masked
"""


def unexplained_template_ids(store: Store) -> dict[tuple[str, str, datetime], str]:
    """Each unexplained error's template id, keyed by (log_name, insert_id, timestamp).

    The same entries, texts and grouping as ``mine_templates`` over the whole store, so an id
    here is the id `forensics analyze` shows for that template. Classify the store first.
    """
    rows = store.conn.execute(
        f'SELECT log_name, insert_id, "timestamp", masked FROM ({_unexplained_sql(store, "TRUE")})'
    ).fetchall()
    masked = [text or "(no text)" for *_, text in rows]
    ids = _ids_of_masked(masked)
    return {(log, insert, ts): tid for (log, insert, ts, _), tid in zip(rows, ids, strict=True)}


def _combine(template: str, parts: list[Template]) -> Template:
    """One template holding the masked-text groups ``parts`` (the first seen gives the example)."""
    first = min(parts, key=lambda g: (g.first_seen, g.template))
    return replace(
        first,
        template=template,
        count=sum(g.count for g in parts),
        first_seen=first.first_seen,
        last_seen=max(g.last_seen for g in parts),
        services=sorted({s for g in parts for s in g.services}),
        variants=sum(g.variants for g in parts),
        members=sorted(m for g in parts for m in (g.members or [g.template])),
    )


def merge_templates(groups: list[Template]) -> list[Template]:
    """Merge masked texts that are one template (see forensics.signatures.grouping), top first.

    The result depends on the groups, never on their order: ids are stable.

    Example:
        >>> t = lambda text, n: Template(text, n, None, None, ["api"], "i", "l", None, text)
        >>> [m.template for m in merge_templates([t("GET /a/x done in <N> ms", 3),
        ...                                       t("POST /a/x done in <N> ms", 1)])]
        ['GET /a/x done in <N> ms', 'POST /a/x done in <N> ms']
    """
    by_text: dict[str, list[Template]] = {}
    for group in groups:
        by_text.setdefault(group.template, []).append(group)
    counts = [(text, sum(g.count for g in same)) for text, same in by_text.items()]
    merged = [
        _combine(found.template, [g for text in found.members for g in by_text[text]])
        for found in group_masked(counts)
    ]
    return sorted(merged, key=lambda g: (-g.count, g.template))


def template_ids(texts: Sequence[str]) -> list[str]:
    """The template id of each text, mined from these texts as `mine_templates` mines.

    For callers that hold lines rather than a store (benchmarks, a file being classified).
    """
    return _ids_of_masked(mask_texts(texts))


def _ids_of_masked(masked: list[str]) -> list[str]:
    """The template id of each masked text, grouped together (the mined set decides ids)."""
    owner = {
        text: template_id(found.template)
        for found in group_masked(Counter(masked).items())
        for text in found.members
    }
    return [owner[text] for text in masked]


def template_id(template: str) -> str:
    """The stable id of a template's text."""
    return "t-" + hashlib.sha1(template.encode()).hexdigest()[:10]


def mine_templates(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[Template]:
    """Unexplained ERROR+ entries and 5xx requests in [since, until), as templates, top first."""
    where, params = window_where(since, until)
    # a counted minute overlapping the window (exact for minute-aligned windows)
    counted = " AND ".join(
        test
        for test, bound in (("c.last_seen >= $since", since), ("c.first_seen < $until", until))
        if bound is not None
    )
    rows = store.conn.execute(_candidates_sql(store, where, counted or "TRUE"), params).fetchall()
    groups = [
        Template(
            template=masked or "(no text)",
            count=int(n),
            first_seen=first,
            last_seen=last,
            services=list(services),
            example_insert_id=ex_id or "",
            example_log_name=ex_log or "",
            example_timestamp=ex_ts,
            example_message=ex_msg or "",
        )
        for masked, n, first, last, services, ex_id, ex_log, ex_ts, ex_msg in rows
    ]
    merged = merge_templates(groups)
    return merged[:limit] if limit is not None else merged
