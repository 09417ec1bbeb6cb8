"""The tracked-issue registry as data: each issue's evidence, sources and claims.

Usage:
  1. ``patterns/issues.yaml`` ships the issues this toolkit was commissioned for.
  2. A user file overrides entries by id, key by key (``null`` clears a key), adds new issues and
     changes ``settings``: the file given, else $FORENSICS_ISSUES_FILE, else
     ./forensics-issues.yaml when it exists.
  3. ``load_registry(user_file=None)`` returns a checked Registry; every problem is a
     ConfigError naming the file and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from forensics.errors import ConfigError
from forensics.paths import patterns_dir
from forensics.timeutil import parse_time

__all__ = [
    "CLAIMED_STATUSES",
    "DEFAULT_USER_FILE",
    "SOURCES",
    "FixClaim",
    "IssueLinks",
    "Registry",
    "Settings",
    "TrackedIssue",
    "load_registry",
    "user_registry_path",
]

REGISTRY_FILE = "issues.yaml"
DEFAULT_USER_FILE = "forensics-issues.yaml"
CLAIMED_STATUSES = ("open", "resolved")
_CLAIM_ALIASES = {"fixed": "resolved", "closed": "resolved", "active": "open", "reopened": "open"}
# Where evidence comes from; the same keys name the collectors' sources (logging:<project>:<key>).
SOURCES = ("run", "run-audit", "cloudsql", "connector")
_ISSUE_KEYS = (
    "id",
    "title",
    "url",
    "summary",
    "signatures",
    "symptoms",
    "signals",
    "drift",
    "meta",
    "sources",
    "claimed_status",
    "claimed_resolved_at",
    "fixed_in",
    "claim_source",
    "min_requests_after_fix",
    "min_starts_after_fix",
)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Settings:
    """Thresholds shared by every issue (``settings:`` in the registry files)."""

    min_requests_after_fix: int = 1000
    min_starts_after_fix: int = 10
    incident_gap_minutes: float = 10.0
    attribution_window_seconds: float = 300.0
    boot_lookahead_seconds: float = 60.0
    check_db_connection_seconds: float = 10.0
    check_startup_seconds: float = 30.0
    check_health_seconds: float = 10.0
    check_5xx_ratio: float = 0.01
    # How far before the window the store-wide stages read (forensics.incidents.lookback).
    lookback_days: float = 2.0
    fix_lookback_days: float = 14.0


@dataclass(frozen=True)
class FixClaim:
    """The revision claimed to fix an issue (service may be omitted)."""

    revision: str
    service: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"service": self.service, "revision": self.revision}


@dataclass(frozen=True)
class TrackedIssue:
    """One tracked issue: its evidence, where that evidence comes from, and the claims."""

    id: str
    title: str
    url: str
    summary: str = ""
    signatures: tuple[str, ...] = ()
    symptoms: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    drift: bool = False
    meta: str | None = None
    sources: tuple[str, ...] = ("run",)
    claimed_status: str = "open"
    claimed_resolved_at: datetime | None = None
    fixed_in: FixClaim | None = None
    claim_source: str = ""
    min_requests_after_fix: int = 1000
    min_starts_after_fix: int = 10

    @property
    def claims_resolved(self) -> bool:
        return self.claimed_status == "resolved"


@dataclass(frozen=True)
class IssueLinks:
    """The tracked issues one signature (or signal) belongs to, as the registry says.

    ``evidence_of``: issues it is direct evidence of (``signatures:``/``signals:``);
    ``symptom_of``: issues it counts for only when attributed to one of their causes
    (``symptoms:``). This is the one signature -> issue mapping; signature files hold none.
    """

    evidence_of: tuple[str, ...] = ()
    symptom_of: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {"evidence_of": list(self.evidence_of), "symptom_of": list(self.symptom_of)}


@dataclass(frozen=True)
class Registry:
    """Every tracked issue in file order, and the shared settings."""

    issues: tuple[TrackedIssue, ...]
    settings: Settings
    files: tuple[str, ...]

    def get(self, issue_id: str) -> TrackedIssue:
        for issue in self.issues:
            if issue.id == issue_id:
                return issue
        known = ", ".join(i.id for i in self.issues)
        raise ConfigError(f"no tracked issue {issue_id!r} (known: {known})")

    def symptoms(self) -> tuple[str, ...]:
        """Every signature that some issue counts only with an attributed cause."""
        return tuple(sorted({s for i in self.issues for s in i.symptoms}))

    def issues_of_cause(self, signature: str) -> list[str]:
        """The issues whose direct evidence includes ``signature``."""
        return [i.id for i in self.issues if signature in i.signatures]

    def links(self, signature: str) -> IssueLinks:
        """Which issues ``signature`` (or a metric signal) is evidence or a symptom of."""
        return IssueLinks(
            tuple(i.id for i in self.issues if signature in i.signatures + i.signals),
            tuple(i.id for i in self.issues if signature in i.symptoms),
        )


def user_registry_path(path: Path | str | None = None) -> Path | None:
    """The user file in effect: ``path``, $FORENSICS_ISSUES_FILE, or ./forensics-issues.yaml."""
    if path is not None:
        return Path(path)
    env = os.environ.get("FORENSICS_ISSUES_FILE")
    if env:
        return Path(env)
    default = Path(DEFAULT_USER_FILE)
    return default if default.is_file() else None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the issue registry: {err.strerror}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        problem = getattr(err, "problem", err)
        raise ConfigError(f"{path}: {where}: not valid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with `issues:` (and `settings:`)")
    unknown = sorted(set(data) - {"version", "settings", "issues"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (use version, settings, issues)")
    return data


def _raw_issues(data: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    raw = data.get("issues")
    raw = [] if raw is None else raw
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: issues: expected a list of issues")
    out = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise ConfigError(f"{path}: issues[{n}].id: every issue needs a string id")
        unknown = sorted(set(item) - set(_ISSUE_KEYS))
        if unknown:
            raise ConfigError(f"{path}: issues[{item['id']}].{unknown[0]}: unknown key")
        out.append(dict(item))
    ids = [i["id"] for i in out]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise ConfigError(f"{path}: issues[{duplicate}]: the id appears twice")
    return out


def _settings(raw: dict[str, Any], where: str) -> Settings:
    names = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in names:
            raise ConfigError(f"{where}.{key}: unknown setting (known: {', '.join(names)})")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{where}.{key}: expected a number >= 0, got {value!r}")
        values[key] = int(value) if names[key] == "int" else float(value)
    return Settings(**values)


def _strings(item: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = item.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}.{key}: expected a list of strings")
    return tuple(value)


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        raise ConfigError(f"{where}: give a time, e.g. {value.isoformat()}T00:00:00Z")
    if isinstance(value, str):
        try:
            return parse_time(value, where)
        except Exception as err:
            raise ConfigError(str(err)) from None
    raise ConfigError(f"{where}: expected an ISO 8601 time, got {value!r}")


def _fix(value: Any, where: str) -> FixClaim | None:
    if value is None:
        return None
    if isinstance(value, str) and value:
        return FixClaim(value)
    if isinstance(value, dict) and isinstance(value.get("revision"), str):
        service = value.get("service")
        if (service is not None and not isinstance(service, str)) or set(value) - {
            "service",
            "revision",
        }:
            raise ConfigError(f"{where}: expected {{service, revision}}")
        return FixClaim(value["revision"], service)
    raise ConfigError(f"{where}: expected a revision name or {{service, revision}}")


def _parse_issue(
    item: dict[str, Any], settings: Settings, known: set[str] | None, path: str
) -> TrackedIssue:
    where = f"{path}: issues[{item['id']}]"
    for key in ("title", "url"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise ConfigError(f"{where}.{key}: required, a non-empty string")
    if not item["url"].startswith(("https://", "http://")):
        raise ConfigError(f"{where}.url: expected an http(s) URL, got {item['url']!r}")
    claimed = str(item.get("claimed_status") or "open").lower()
    claimed = _CLAIM_ALIASES.get(claimed, claimed)
    if claimed not in CLAIMED_STATUSES:
        raise ConfigError(f"{where}.claimed_status: expected open or resolved, got {claimed!r}")
    sigs = {k: _strings(item, k, where) for k in ("signatures", "symptoms", "signals", "sources")}
    if known is not None:
        for key in ("signatures", "symptoms"):
            bad = [s for s in sigs[key] if s not in known]
            if bad:
                raise ConfigError(f"{where}.{key}: unknown signature {bad[0]!r}")
    both = sorted(set(sigs["signatures"]) & set(sigs["symptoms"]))
    if both:
        raise ConfigError(f"{where}.symptoms: {both[0]!r} is also listed under signatures")
    bad_sources = [s for s in sigs["sources"] if s not in SOURCES]
    if bad_sources:
        raise ConfigError(
            f"{where}.sources: unknown source {bad_sources[0]!r} (use {', '.join(SOURCES)})"
        )
    meta = item.get("meta")
    if meta not in (None, "contradictions"):
        raise ConfigError(f"{where}.meta: the only meta issue kind is 'contradictions'")
    thresholds = {}
    for key in ("min_requests_after_fix", "min_starts_after_fix"):
        value = item.get(key, getattr(settings, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}.{key}: expected a whole number >= 0")
        thresholds[key] = value
    return TrackedIssue(
        id=item["id"],
        title=item["title"].strip(),
        url=item["url"],
        summary=" ".join(str(item.get("summary") or "").split()),
        signatures=sigs["signatures"],
        symptoms=sigs["symptoms"],
        signals=sigs["signals"],
        drift=bool(item.get("drift")),
        meta=meta,
        sources=sigs["sources"] or (() if meta else ("run",)),
        claimed_status=claimed,
        claimed_resolved_at=_time(item.get("claimed_resolved_at"), f"{where}.claimed_resolved_at"),
        fixed_in=_fix(item.get("fixed_in"), f"{where}.fixed_in"),
        claim_source=str(item.get("claim_source") or ""),
        **thresholds,
    )


def _known_signatures() -> set[str] | None:
    from forensics.incidents.classified import current_catalog  # checked when loaded

    return {s.id for s in current_catalog().signatures}


def load_registry(
    user_file: Path | str | None = None,
    *,
    base_file: Path | None = None,
    check_signatures: bool = True,
) -> Registry:
    """Load patterns/issues.yaml with the user's overrides applied, checked.

    Args:
        user_file: overrides and extra issues; default $FORENSICS_ISSUES_FILE or
            ./forensics-issues.yaml (when it exists).
        base_file: the shipped registry (default patterns/issues.yaml).
        check_signatures: refuse signature ids the catalog does not know.

    Raises:
        ConfigError: naming the file and key of the first problem.

    Example:
        >>> load_registry().get("#1278").claimed_status
        'resolved'
    """
    base = base_file or patterns_dir() / REGISTRY_FILE
    layers = [base]
    user = user_registry_path(user_file)
    if user is not None:
        if not user.is_file():
            raise ConfigError(f"{user}: no such issue registry file")
        layers.append(user)
    merged: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    settings_raw: dict[str, Any] = {}
    for path in layers:
        data = _read(path)
        extra = data.get("settings") or {}
        if not isinstance(extra, dict):
            raise ConfigError(f"{path}: settings: expected a mapping")
        settings_raw.update(extra)
        _settings(settings_raw, f"{path}: settings")  # fail on the file that broke it
        for item in _raw_issues(data, path):
            merged.setdefault(item["id"], {}).update(item)
            origin[item["id"]] = str(path)
    settings = _settings(settings_raw, "settings")
    known = _known_signatures() if check_signatures else None
    issues = tuple(_parse_issue(i, settings, known, origin[i["id"]]) for i in merged.values())
    return Registry(issues, settings, tuple(str(p) for p in layers))
