"""Group the errors no signature explains into templates, so a new failure mode shows on day one.

Usage:
  1. ``mine_templates(store, since, until)`` takes the entries at ERROR or above (the entry's
     severity, or the level a DEFAULT line writes, as `[ERROR]`) and the 5xx requests that
     have no row in ``signature_matches``, so classify the window first.
  2. In SQL, each entry's text (a traceback's exception line, else its first line) is masked:
     /cloudsql/ paths, trace ids, UUIDs, revisions, instance ids, IPs, hex, identifiers with
     digits and numbers become placeholders, and identical masked texts are counted in one pass.
  3. In Python, masked texts of the same length that differ in a few tokens are merged, the
     differing tokens becoming ``<*>`` (Drain's idea, over distinct texts only, not rows).
  4. Each template has a stable id (a hash of its text) that `forensics patterns new
     --from-template ID` turns into a signature file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from forensics.signatures.compile import MATCH_TEXT_SQL, level_sql, literal
from forensics.store import Store

__all__ = ["MASKS", "Template", "mask_sql", "merge_templates", "mine_templates"]

# (RE2 pattern, placeholder), applied in this order: specific shapes before generic numbers.
MASKS: tuple[tuple[str, str], ...] = (
    (r"/cloudsql/[^\s\"',)]+", "/cloudsql/<PATH>"),
    (r"projects/[^/\s]+/traces/[0-9a-fA-F]+", "<TRACE>"),
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<UUID>"),
    (r"\b[a-z][a-z0-9-]*-\d{5}-[a-z0-9]{2,4}\b", "<REVISION>"),
    (r"\b[0-9a-f]{64,}\b", "<INSTANCE>"),
    (r"\b[0-9a-f]{32}\b", "<TRACE>"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<IP>"),
    (r"\b0x[0-9a-fA-F]+\b", "<HEX>"),
    (r"\b[A-Za-z_][\w-]*\d[\w-]*\b", "<ID>"),
    (r"\b[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b", "<HEX>"),
    (r"\d+(?:\.\d+)?", "<N>"),
)
MERGE_SIMILARITY = 0.6  # share of equal tokens for two masked texts to be one template
MERGE_MIN_TOKENS = 4  # shorter texts (a request line) carry meaning in every token
_MAX_TEXT = 300


def mask_sql(text: str) -> str:
    """SQL applying every mask to the expression ``text``."""
    for pattern, placeholder in MASKS:
        text = f"regexp_replace({text}, {literal(pattern)}, {literal(placeholder)}, 'g')"
    return text


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
        return "t-" + hashlib.sha1(self.template.encode()).hexdigest()[:10]

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


def _candidates_sql(where: str) -> str:
    text = (
        f"coalesce(nullif(split_part({MATCH_TEXT_SQL}, chr(10), 1), ''), "
        "split_part(coalesce(message, ''), chr(10), 1))"
    )
    return f"""
WITH unexplained AS (
    SELECT e."timestamp", e.log_name, e.insert_id,
           coalesce(e.service, e.resource_type, '(none)') AS service,
           left(trim({text}), {_MAX_TEXT}) AS text
    FROM log_entries AS e
    WHERE {where}
      AND (coalesce({level_sql("coalesce(e.message, '')")}, 0) >= 500 OR e.http_status >= 500)
      AND NOT EXISTS (
          SELECT 1 FROM signature_matches AS m
          WHERE m."timestamp" = e."timestamp" AND m.insert_id = e.insert_id
            AND m.log_name = e.log_name)
)
SELECT {mask_sql("text")} AS masked,
       count(*) AS n,
       min("timestamp") AS first_seen,
       max("timestamp") AS last_seen,
       list(DISTINCT service ORDER BY service) AS services,
       arg_min(insert_id, "timestamp") AS example_insert_id,
       arg_min(log_name, "timestamp") AS example_log_name,
       min("timestamp") AS example_timestamp,
       arg_min(text, "timestamp") AS example_message
FROM unexplained
GROUP BY masked
ORDER BY n DESC, masked
"""


def _similar(a: list[str], b: list[str]) -> bool:
    if len(a) != len(b) or len(a) < MERGE_MIN_TOKENS or a[0] != b[0]:
        return False
    same = sum(x == y for x, y in zip(a, b, strict=True))
    return same / len(a) >= MERGE_SIMILARITY


def _merge(into: Template, other: Template) -> Template:
    tokens = [
        x if x == y else "<*>"
        for x, y in zip(into.template.split(" "), other.template.split(" "), strict=True)
    ]
    first = into if into.first_seen <= other.first_seen else other
    return replace(
        into,
        template=" ".join(tokens),
        count=into.count + other.count,
        first_seen=first.first_seen,
        last_seen=max(into.last_seen, other.last_seen),
        services=sorted(set(into.services) | set(other.services)),
        example_insert_id=first.example_insert_id,
        example_log_name=first.example_log_name,
        example_timestamp=first.example_timestamp,
        example_message=first.example_message,
        variants=into.variants + other.variants,
        members=into.members + other.members,
    )


def merge_templates(groups: list[Template]) -> list[Template]:
    """Merge masked texts that differ in a few tokens (most frequent first: deterministic).

    Example:
        >>> t = lambda text, n: Template(text, n, None, None, ["api"], "i", "l", None, text)
        >>> [m.template for m in merge_templates([t("user alice not found", 3),
        ...                                       t("user bob not found", 1)])]
        ['user <*> not found']
    """
    merged: list[Template] = []
    for group in sorted(groups, key=lambda g: (-g.count, g.template)):
        group.members = group.members or [group.template]
        tokens = group.template.split(" ")
        for i, existing in enumerate(merged):
            if _similar(existing.template.split(" "), tokens):
                merged[i] = _merge(existing, group)
                break
        else:
            merged.append(group)
    return sorted(merged, key=lambda g: (-g.count, g.template))


def mine_templates(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[Template]:
    """Unexplained ERROR+ entries and 5xx requests in [since, until), as templates, top first."""
    tests, params = [], {}
    if since is not None:
        tests.append('e."timestamp" >= $since')
        params["since"] = since
    if until is not None:
        tests.append('e."timestamp" < $until')
        params["until"] = until
    rows = store.conn.execute(_candidates_sql(" AND ".join(tests) or "TRUE"), params).fetchall()
    groups = [
        Template(
            template=masked or "(no text)",
            count=int(n),
            first_seen=first,
            last_seen=last,
            services=list(services),
            example_insert_id=ex_id,
            example_log_name=ex_log,
            example_timestamp=ex_ts,
            example_message=ex_msg or "",
        )
        for masked, n, first, last, services, ex_id, ex_log, ex_ts, ex_msg in rows
    ]
    merged = merge_templates(groups)
    return merged[:limit] if limit is not None else merged
