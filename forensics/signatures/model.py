"""A signature: one named failure as it shows up in logs, built from one YAML file in patterns/.

A file holds, in this key order (Sigma's habit): ``id, title, status, description, references,
level, match, extract, falsepositives, remediation, examples``. ``references`` (optional) lists
URLs of public material about the failure; which tracked issues a signature is evidence or a
symptom of is said once, in patterns/issues.yaml (``Registry.links``), never here. ``match``
maps selection names to ``{field|modifier: value}`` tests plus a ``condition``; see FIELDS for
the fields each test may use. Parsing checks every field and raises ConfigError naming the
file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensics.errors import ConfigError
from forensics.schema import SEVERITY_LEVELS
from forensics.signatures.condition import Node, parse_condition, referenced

__all__ = [
    "FIELDS",
    "KEY_ORDER",
    "LEVELS",
    "REQUIRED_KEYS",
    "STATUSES",
    "Extract",
    "FieldSpec",
    "Predicate",
    "Selection",
    "Signature",
    "parse_signature",
]

KEY_ORDER = (
    "id",
    "title",
    "status",
    "description",
    "references",
    "level",
    "match",
    "extract",
    "falsepositives",
    "remediation",
    "examples",
)
_OPTIONAL_KEYS = ("references", "extract", "remediation")
REQUIRED_KEYS = tuple(k for k in KEY_ORDER if k not in _OPTIONAL_KEYS)
STATUSES = ("experimental", "test", "stable", "deprecated")
LEVELS = ("informational", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class FieldSpec:
    """A field a selection may test: its kind decides the modifiers it accepts."""

    kind: str  # text | number | severity
    doc: str


# The LogEntry facts a signature may test. `message` is the match text: the normalized message
# and the error fields structured loggers write, a stack trace reduced to its exception lines
# (see matchtext.MATCH_TEXT_SQL).
FIELDS: dict[str, FieldSpec] = {
    "message": FieldSpec(
        "text", "Match text: message and error fields; a stack trace's exception lines."
    ),
    "severity": FieldSpec("severity", "The entry's LogSeverity (DEFAULT = 0)."),
    "level": FieldSpec(
        "severity", "Severity, or for DEFAULT entries the level written in the text (INFO, ...)."
    ),
    "resource_type": FieldSpec("text", "resource.type, e.g. cloud_run_revision."),
    "log_id": FieldSpec("text", "Log id, e.g. run.googleapis.com/requests."),
    "log_name": FieldSpec("text", "Full logName, URL-decoded."),
    "service": FieldSpec("text", "Cloud Run service, Cloud SQL database or connector."),
    "http_status": FieldSpec("number", "httpRequest.status."),
    "http_url": FieldSpec("text", "httpRequest.requestUrl."),
    "http_latency_ms": FieldSpec("number", "httpRequest.latency in milliseconds."),
}
MODIFIERS: dict[str, tuple[str, ...]] = {
    "text": ("eq", "contains", "startswith", "endswith", "re"),
    "number": ("eq", "gt", "gte", "lt", "lte"),
    "severity": ("eq", "gt", "gte", "lt", "lte"),
}
EXTRACT_TYPES = ("int", "float", "str")

Value = str | int | float


@dataclass(frozen=True)
class Predicate:
    """One test: ``field|modifier`` against one or more values (several values mean any)."""

    field: str
    modifier: str
    values: tuple[Value, ...]

    @property
    def kind(self) -> str:
        return FIELDS[self.field].kind


@dataclass(frozen=True)
class Selection:
    """Named tests that must all hold."""

    name: str
    predicates: tuple[Predicate, ...]


@dataclass(frozen=True)
class Extract:
    """A parameter pulled out of a matched entry: a regex's first group, or a column."""

    name: str
    field: str
    regex: str | None
    type: str


@dataclass(frozen=True)
class Signature:
    """One failure signature (see the module docstring for the file format)."""

    id: str
    title: str
    status: str
    description: str
    references: tuple[str, ...]
    level: str
    selections: Mapping[str, Selection]
    condition: str
    tree: Node
    extract: tuple[Extract, ...] = ()
    falsepositives: tuple[str, ...] = ()
    remediation: str | None = None
    examples_match: tuple[dict[str, Any], ...] = ()
    examples_no_match: tuple[dict[str, Any], ...] = ()
    path: Path | None = None
    keys: tuple[str, ...] = field(default=(), compare=False)

    def regexes(self) -> list[str]:
        """Every regex the signature uses (selections and extracts), for validation."""
        found = [
            str(v)
            for s in self.selections.values()
            for p in s.predicates
            if p.modifier == "re"
            for v in p.values
        ]
        return found + [e.regex for e in self.extract if e.regex]

    def logging_filter(self) -> str:
        """A Cloud Logging query clause matching a superset of this signature's entries."""
        from forensics.signatures.logfilter import signature_filter

        return signature_filter(self)

    def pushdown_filter(self, coarse: bool = False) -> str:
        """``logging_filter`` as the collector sends it: regexes too long to repeat for every
        message field become the keywords they need, the ones that do not fit (all of them
        with ``coarse``) (forensics.signatures.logfilter)."""
        from forensics.signatures.logfilter import signature_filter

        return signature_filter(self, bounded=True, coarse=coarse)


def _fail(path: Path | None, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{path or '<signature>'}: {key}: {problem}")


def _text(data: Mapping[str, Any], key: str, path: Path | None) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, "required, a non-empty string")
    return value.strip()


def _strings(data: Mapping[str, Any], key: str, path: Path | None) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise _fail(path, key, "expected a list of strings")
    return tuple(str(v) for v in value)


def _value(spec: FieldSpec, raw: Any, where: str, path: Path | None) -> Value:
    if spec.kind == "severity":
        if isinstance(raw, str) and raw.upper() in SEVERITY_LEVELS:
            return SEVERITY_LEVELS[raw.upper()]
        if isinstance(raw, int):
            return raw
        raise _fail(path, where, f"{raw!r} is not a LogSeverity name")
    if spec.kind == "number":
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return raw
        raise _fail(path, where, f"{raw!r} is not a number")
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        return str(raw)
    raise _fail(path, where, f"{raw!r} is not a string")


def _predicate(key: str, raw: Any, where: str, path: Path | None) -> Predicate:
    name, _, modifier = key.partition("|")
    modifier = modifier or "eq"
    spec = FIELDS.get(name)
    if spec is None:
        raise _fail(path, where, f"unknown field {name!r} (known: {', '.join(FIELDS)})")
    if modifier not in MODIFIERS[spec.kind]:
        allowed = ", ".join(MODIFIERS[spec.kind])
        raise _fail(path, where, f"modifier {modifier!r} does not apply to {name} ({allowed})")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise _fail(path, where, "needs at least one value")
    values = tuple(_value(spec, item, where, path) for item in items)
    if modifier in ("gt", "gte", "lt", "lte") and len(values) != 1:
        raise _fail(path, where, f"{modifier} takes exactly one value")
    return Predicate(name, modifier, values)


def _selections(match: Any, path: Path | None) -> tuple[dict[str, Selection], str, Node]:
    if not isinstance(match, dict) or "condition" not in match:
        raise _fail(path, "match", "needs named selections and a condition")
    selections: dict[str, Selection] = {}
    for name, body in match.items():
        if name == "condition":
            continue
        where = f"match.{name}"
        if not isinstance(body, dict) or not body:
            raise _fail(path, where, "a selection maps field|modifier to values")
        predicates = tuple(_predicate(str(k), v, f"{where}.{k}", path) for k, v in body.items())
        selections[str(name)] = Selection(str(name), predicates)
    condition = match["condition"]
    if not isinstance(condition, str):
        raise _fail(path, "match.condition", "expected a string")
    try:
        tree = parse_condition(condition, list(selections))
    except ValueError as err:
        raise _fail(path, "match.condition", str(err)) from None
    unused = set(selections) - referenced(tree)
    if unused:
        raise _fail(path, "match.condition", f"selections never used: {', '.join(sorted(unused))}")
    return selections, condition, tree


def _extracts(raw: Any, path: Path | None) -> tuple[Extract, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _fail(path, "extract", "maps a parameter name to a regex or {field, re, type}")
    found = []
    for name, spec in raw.items():
        where = f"extract.{name}"
        body = {"re": spec} if isinstance(spec, str) else spec
        if not isinstance(body, dict):
            raise _fail(path, where, "expected a regex or {field, re, type}")
        column = body.get("field", "message")
        regex = body.get("re")
        kind = body.get("type", "str")
        if column not in FIELDS or column in ("level", "severity"):
            raise _fail(path, where, f"unknown field {column!r}")
        if kind not in EXTRACT_TYPES:
            raise _fail(path, where, f"type must be one of {', '.join(EXTRACT_TYPES)}")
        if regex is None and FIELDS[column].kind == "text" and column == "message":
            raise _fail(path, where, "a message parameter needs a regex with one group")
        found.append(Extract(str(name), column, regex, kind))
    return tuple(found)


def _examples(raw: Any, path: Path | None) -> tuple[tuple[dict[str, Any], ...], ...]:
    if not isinstance(raw, dict):
        raise _fail(path, "examples", "expected {match: [...], no_match: [...]}")
    out = []
    for kind in ("match", "no_match"):
        items = raw.get(kind) or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _fail(path, f"examples.{kind}", "expected a list of partial LogEntries")
        out.append(tuple(items))
    return tuple(out)


def parse_signature(data: Any, path: Path | None = None) -> Signature:
    """Build a Signature from one parsed YAML document; ConfigError names the bad key.

    Example:
        >>> sig = parse_signature({"id": "demo/x", "title": "X", "status": "test",
        ...     "description": "Detects x.", "level": "low",
        ...     "match": {"selection": {"message|contains": "x"}, "condition": "selection"},
        ...     "falsepositives": ["Unknown"], "examples": {"match": [], "no_match": []}})
        >>> sig.id, sig.level
        ('demo/x', 'low')
    """
    if not isinstance(data, dict):
        raise _fail(path, "(file)", "a signature file holds one YAML mapping")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise _fail(path, missing[0], "required key is missing")
    unknown = [k for k in data if k not in KEY_ORDER]
    if unknown:
        raise _fail(path, str(unknown[0]), f"unknown key (allowed: {', '.join(KEY_ORDER)})")
    status = _text(data, "status", path)
    if status not in STATUSES:
        raise _fail(path, "status", f"one of {', '.join(STATUSES)}")
    level = _text(data, "level", path)
    if level not in LEVELS:
        raise _fail(path, "level", f"one of {', '.join(LEVELS)}")
    selections, condition, tree = _selections(data["match"], path)
    examples_match, examples_no_match = _examples(data["examples"], path)
    remediation = data.get("remediation")
    return Signature(
        id=_text(data, "id", path),
        title=_text(data, "title", path),
        status=status,
        description=_text(data, "description", path),
        references=_strings(data, "references", path),
        level=level,
        selections=selections,
        condition=condition,
        tree=tree,
        extract=_extracts(data.get("extract"), path),
        falsepositives=_strings(data, "falsepositives", path),
        remediation=str(remediation).strip() if remediation else None,
        examples_match=examples_match,
        examples_no_match=examples_no_match,
        path=path,
        keys=tuple(str(k) for k in data),
    )
