"""Translate a signature into a Cloud Logging query clause for server-side pushdown.

The clause matches a *superset* of the signature's entries: exclusions (``not ...``) and tests
Cloud Logging cannot express (the derived ``level``, latency) are dropped, and regex anchors
are relaxed, because the server sees raw payloads (ANSI codes included) while we match the
normalized text. The collector fetches with the clause and the local pass decides. Two forms:
``signature_filter(sig)``, the regexes as written (the reports' Console links), and with
``bounded`` the collector's, in which a message clause too long for its share of a filter reads
keywords instead and an exclusion of lines stated below a level keeps that severity and worse
(and DEFAULT, whose level is read from its text).

A signature's message tests also read the structured error fields (``error``, ``err.message``,
...; ``matchtext.ERROR_FIELD_PATHS``). Repeating every regex on each of those fields would
make the clauses too long for the API, so ``error_fields_clause()`` covers them once for the
whole catalog: every entry that has one of those fields at a severity match text reads them
(DEFAULT, or WARNING and worse). The collector ORs it into its candidates
(``collectors.filters.run_candidates``); both read the one list in matchtext.
Query language: https://cloud.google.com/logging/docs/view/logging-query-language
"""

from __future__ import annotations

import re

from forensics.normalize import JSON_MESSAGE_KEYS
from forensics.signatures.condition import And, Name, Node, Not, Or
from forensics.signatures.keywords import keyword_chain, minimal, re_escape
from forensics.signatures.matchtext import ERROR_FIELD_MIN_SEVERITY, ERROR_FIELD_PATHS
from forensics.signatures.model import Predicate, Selection, Signature
from forensics.signatures.predicates import regex_for

__all__ = [
    "ERROR_FIELDS",
    "MESSAGE_FIELDS",
    "OTHER_TEXT_KEYS",
    "error_fields_clause",
    "other_text_clause",
    "signature_filter",
]

# Where the message text lives on the wire (normalize takes the same places first).
MESSAGE_FIELDS = ("textPayload", "jsonPayload.message", "protoPayload.status.message")
# The other keys normalize takes a JSON entry's text from (a structured logger's `msg`,
# structlog's `event`, ...), error keys aside (error_fields_clause covers those).
OTHER_TEXT_KEYS = tuple(
    k for k in JSON_MESSAGE_KEYS if k != "message" and f"$.{k}" not in ERROR_FIELD_PATHS
)


def _logging_path(json_path: str) -> str:
    """``$.err.message`` -> ``jsonPayload.err.message``; a quoted key stays one segment."""
    return "jsonPayload." + json_path.removeprefix("$.")


# The error fields match text appends to the message, as Logging field paths.
ERROR_FIELDS = tuple(_logging_path(p) for p in ERROR_FIELD_PATHS)


def _top_key(field: str) -> str:
    rest = field.removeprefix("jsonPayload.")
    return rest if rest.startswith('"') else rest.split(".")[0]


# Their top-level keys: a presence test on `jsonPayload.err` covers `jsonPayload.err.message`.
_ERROR_KEYS = tuple(dict.fromkeys(_top_key(f) for f in ERROR_FIELDS))
# a leading ^, also inside the group regex_for wraps a regex in, after its flags
_ANCHOR_START = re.compile(r"^((?:\(\?:)?(?:\(\?[a-zA-Z]+\))?)\^")
_SEVERITY_NAMES = {
    0: "DEFAULT",
    100: "DEBUG",
    200: "INFO",
    300: "NOTICE",
    400: "WARNING",
    500: "ERROR",
    600: "CRITICAL",
    700: "ALERT",
    800: "EMERGENCY",
}
_COMPARE = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_TEXT_FIELDS = {
    "resource_type": "resource.type",
    "service": "resource.labels.service_name",
    "http_url": "httpRequest.requestUrl",
}


def quote(text: str) -> str:
    """A Logging-query string literal (backslash and double quote escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def other_text_clause() -> str:
    """DEFAULT entries whose text is under another key than ``message`` (OTHER_TEXT_KEYS): one
    clause for the whole catalog, since the signatures' clauses test the usual message fields
    only (repeated for every key they would not fit the filter). A logger that writes no
    severity and its text under `msg` is pulled whole; one that writes a severity is pulled by
    the candidates' severity tests (WARNING and worse) like any other."""
    present = " OR ".join(f"jsonPayload.{key}:*" for key in OTHER_TEXT_KEYS)
    return f"(severity=DEFAULT AND NOT jsonPayload.message:* AND ({present}))"


def error_fields_clause() -> str:
    """Entries whose error fields match text reads: one clause for the whole catalog."""
    floor = _SEVERITY_NAMES[ERROR_FIELD_MIN_SEVERITY]
    present = " OR ".join(f"jsonPayload.{key}:*" for key in _ERROR_KEYS)
    return f"((severity=DEFAULT OR severity>={floor}) AND ({present}))"


def _relaxed(regex: str) -> str:
    return _ANCHOR_START.sub(r"\1", regex)


# A signature's message clause longer than this (its regexes written out once per message
# field) is pushed down coarser, as keywords one of which each text they match holds
# (forensics.signatures.keywords): still a superset. A fifth of the API's 20,000-character
# filter is each clause's share when the collector packs them (collectors.packing.pack);
# auth/timeout's regexes passed it. More entries come back, and the local pass decides.
MAX_PUSHDOWN_CLAUSE = 3900


def _coarse_pattern(tests: list[Predicate]) -> str:
    """A short pattern every text one of ``tests`` matches holds: of each regex's keyword
    chain one set (one another set's keywords already cover where there is one, else the
    shortest), all of them in one case-insensitive alternation of the keywords no other
    holds ("auth" covers "auth service"); a value without keywords adds its own regex."""
    chains: list[list[list[str]]] = []
    own: list[str] = []
    for test in tests:
        for value in test.values:
            chain = keyword_chain(str(value)) if test.modifier == "re" else None
            if chain:
                chains.append([minimal(need.keywords) for need in chain])
            else:
                own.append(_relaxed(regex_for(Predicate(test.field, test.modifier, (value,)))))
    shortest = [min(chain, key=lambda words: len("|".join(words))) for chain in chains]
    kept = minimal(frozenset(word for words in shortest for word in words))

    def covered(words: list[str]) -> bool:
        return all(any(k in word for k in kept) for word in words)

    chosen = [
        next((words for words in chain if covered(words)), pick)
        for chain, pick in zip(chains, shortest, strict=True)
    ]
    keywords = minimal(frozenset(word for words in chosen for word in words))
    parts = [*own, "(?i)" + "|".join(re_escape(k) for k in keywords)] if keywords else own
    return "|".join(f"(?:{part})" for part in parts)


def _fields_clause(pattern: str) -> str:
    quoted = quote(pattern)
    return "(" + " OR ".join(f"{f}=~{quoted}" for f in MESSAGE_FIELDS) + ")"


def _exact_pattern(tests: list[Predicate]) -> str:
    return "|".join(_relaxed(regex_for(test)) for test in tests)


def _message_clause(tests: list[Predicate], bounded: bool, coarse: bool = False) -> str:
    """The message fields matching one of the ``tests``' regexes; ``bounded``, when that is
    longer than MAX_PUSHDOWN_CLAUSE, as many of the regexes as fit (the shortest first) and
    the coarse keyword pattern of the others, so one long form added to a signature costs
    the collector its own keywords, not every regex's; with ``coarse`` too, the keyword
    pattern of all of them (shorter: the collector's packing falls back to it when the
    precise clauses would need one filter more). O(t^2) pattern joins for t tests."""
    exact = _fields_clause(_exact_pattern(tests))
    if not bounded or len(exact) <= MAX_PUSHDOWN_CLAUSE:
        return exact
    if coarse:
        return _fields_clause(_coarse_pattern(tests))
    kept: list[int] = []
    for index in sorted(range(len(tests)), key=lambda i: (len(regex_for(tests[i])), i)):
        trial = sorted([*kept, index])
        rest = [t for i, t in enumerate(tests) if i not in trial]
        pattern = "|".join(
            p for p in (_exact_pattern([tests[i] for i in trial]), _coarse_pattern(rest)) if p
        )
        if len(_fields_clause(pattern)) <= MAX_PUSHDOWN_CLAUSE:
            kept = trial
    rest = [t for i, t in enumerate(tests) if i not in kept]
    parts = (_exact_pattern([tests[i] for i in kept]), _coarse_pattern(rest))
    return _fields_clause("|".join(p for p in parts if p))


def _predicate(pred: Predicate) -> str | None:
    """Clause for one test, or None when it cannot narrow the query (treated as true)."""
    if pred.field in ("message", "level", "http_latency_ms", "log_name"):
        return None  # message tests are merged per selection; the rest only widen
    if pred.field == "log_id":
        if pred.modifier != "eq":
            return None
        return "(" + " OR ".join(f"log_id({quote(str(v))})" for v in pred.values) + ")"
    if pred.field == "severity":
        op = _COMPARE[pred.modifier]
        names = [_SEVERITY_NAMES.get(int(v), str(v)) for v in pred.values]
        return "(" + " OR ".join(f"severity{op}{n}" for n in names) + ")"
    if pred.field == "http_status":
        op = _COMPARE[pred.modifier]
        return "(" + " OR ".join(f"httpRequest.status{op}{v}" for v in pred.values) + ")"
    path = _TEXT_FIELDS[pred.field]
    if pred.modifier == "eq":
        return "(" + " OR ".join(f"{path}={quote(str(v))}" for v in pred.values) + ")"
    return f"{path}=~{quote(_relaxed(regex_for(pred)))}"


def _selection(sel: Selection, bounded: bool, coarse: bool = False) -> str | None:
    clauses = [c for p in sel.predicates if (c := _predicate(p))]
    messages = [p for p in sel.predicates if p.field == "message"]
    if messages:
        clauses.insert(0, _message_clause(messages[:1], bounded, coarse))
    if len(clauses) > 1:
        # in the Logging query language OR binds tighter than AND: unbracketed, a selection's
        # "A AND B" inside the signature's OR read as "(... OR A) AND B"
        return "(" + " AND ".join(clauses) + ")"
    return clauses[0] if clauses else None


def _message_only(sel: Selection) -> Predicate | None:
    """The selection's test when the selection is a single message test (mergeable)."""
    if len(sel.predicates) == 1 and sel.predicates[0].field == "message":
        return sel.predicates[0]
    return None


def _node(sig: Signature, node: Node, bounded: bool, coarse: bool = False) -> str | None:
    if isinstance(node, Name):
        return _selection(sig.selections[node.name], bounded, coarse)
    if isinstance(node, Not):
        return _not_below(sig, node.child) if bounded else None
    if isinstance(node, And):
        parts = [c for child in node.children if (c := _node(sig, child, bounded, coarse))]
        return "(" + " AND ".join(parts) + ")" if parts else None
    merged: list[Predicate] = []
    parts = []
    for child in node.children:
        if isinstance(child, Name) and (test := _message_only(sig.selections[child.name])):
            merged.append(test)
            continue
        clause = _node(sig, child, bounded, coarse)
        if clause is None:
            return None  # one unbounded branch makes the whole OR unbounded
        parts.append(clause)
    if merged:
        parts.insert(0, _message_clause(merged, bounded, coarse))
    return "(" + " OR ".join(parts) + ")"


def _not_below(sig: Signature, node: Node) -> str | None:
    """What ``not node`` implies that Logging can test: a stated level below a severity
    (``level|lt: WARNING``, one of an OR of exclusions) leaves that severity and worse, and
    DEFAULT (whose level is read from its text: forensics.signatures.levels). None: nothing."""
    names = node.children if isinstance(node, Or) else (node,)
    clauses = []
    for name in names:
        if not isinstance(name, Name):
            continue
        preds = sig.selections[name.name].predicates
        if len(preds) == 1 and preds[0].field == "level" and len(preds[0].values) == 1:
            floor = _SEVERITY_NAMES.get(int(preds[0].values[0]))
            op = {"lt": ">=", "lte": ">"}.get(preds[0].modifier)
            if floor and op:
                clauses.append(f"(severity{op}{floor} OR severity=DEFAULT)")
    return " AND ".join(clauses) if clauses else None


def signature_filter(sig: Signature, *, bounded: bool = False, coarse: bool = False) -> str:
    """The clause for ``sig``; empty when nothing in it can narrow the query. ``bounded``: the
    collector's, whose message clauses over MAX_PUSHDOWN_CLAUSE keep the regexes that fit and
    read keywords for the others (all of them with ``coarse``); unbounded, the one a person
    reads and runs in the Console (reports' query links), the regexes as written."""
    return _node(sig, sig.tree, bounded, coarse) or ""
