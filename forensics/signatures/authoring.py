"""Write a new signature file from a mined template: `forensics patterns new --from-template`.

The file is a starting point with status `experimental`: the template's literal words become the
regex (masked parts become wildcards, leading timestamps are dropped), the template's first
entry becomes the match example, and the id is appended to catalog.yml's precedence list so the
catalog stays valid. The author then edits it and runs `forensics patterns test`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from forensics.errors import ConfigError, InputError
from forensics.paths import patterns_dir
from forensics.signatures.catalog import CATALOG_FILE, load_catalog
from forensics.signatures.keywords import re_escape
from forensics.signatures.mining import Template, mine_templates
from forensics.timeutil import window_ending

__all__ = ["signature_text", "template_regex", "write_signature_from_template"]

_PLACEHOLDER = re.compile(r"<([A-Z*]+)>")
_WILDCARDS = {
    "N": r"\d+(?:\.\d+)?",
    "HEX": r"[0-9a-fA-F]+",
    "UUID": r"[0-9a-fA-F-]{36}",
    "IP": r"[0-9.:]+",
    "PATH": r"[^\s\"',)]+",
}
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*/[a-z0-9]+(?:-[a-z0-9]+)*$")
_ENTRY_KEYS = ("logName", "resource", "severity", "labels", "httpRequest")
_PAYLOADS = ("textPayload", "jsonPayload", "protoPayload")


def _token_regex(token: str) -> str:
    parts = _PLACEHOLDER.split(token)
    # split() alternates literal text and placeholder names
    return "".join(
        re_escape(part) if i % 2 == 0 else _WILDCARDS.get(part, r"\S+")
        for i, part in enumerate(parts)
    )


def template_regex(template: str) -> str:
    """An RE2 regex for a template, from its first token with a letter outside placeholders.

    Example:
        >>> template_regex("[<N>] [ERROR] Worker (pid:<N>) exited with code <*>")
        '\\\\[ERROR\\\\]\\\\s+Worker\\\\s+\\\\(pid:\\\\d+(?:\\\\.\\\\d+)?\\\\)\\\\s+exited\\\\s+with\\\\s+code\\\\s+\\\\S+'
    """
    tokens = template.split()
    start = next(
        (i for i, t in enumerate(tokens) if re.search(r"[A-Za-z]", _PLACEHOLDER.sub("", t))), 0
    )
    return r"\s+".join(_token_regex(t) for t in tokens[start:])


def _slug(template: str) -> str:
    words = re.findall(r"[a-z]+", _PLACEHOLDER.sub(" ", template).lower())
    return "-".join(words[:5]) or "error"


def _example(raw: dict[str, Any]) -> dict[str, Any]:
    """The LogEntry fields an example needs (no ids, timestamps or fixture-only `_` keys)."""
    kept = {k: raw[k] for k in _ENTRY_KEYS if k in raw}
    payload = next((k for k in _PAYLOADS if k in raw), None)
    if payload:
        kept[payload] = raw[payload]
    return kept


def signature_text(signature_id: str, template: Template, example: dict[str, Any]) -> str:
    """The YAML of the new signature, keys in the catalog's order."""
    words = _PLACEHOLDER.sub(" ", template.template).split()
    title = " ".join(w[:1].upper() + w[1:] for w in words[:8] if re.search(r"[A-Za-z]", w))
    regex = template_regex(template.template)
    body = {
        "id": signature_id,
        "title": title or "Mined Error",
        "status": "experimental",
        "description": (
            f"Detects the error `{template.template}`, mined from {template.count} unexplained "
            f"entries on {', '.join(template.services)} between "
            f"{template.first_seen:%Y-%m-%d %H:%M} and {template.last_seen:%Y-%m-%d %H:%M} UTC."
        ),
        "references": [],
        "level": "medium",
        # the same population the template was mined from: ERROR-or-worse lines, 5xx requests
        "match": {
            "selection_error": {"message|re": regex, "level|gte": "ERROR"},
            "selection_5xx": {"message|re": regex, "http_status|gte": 500},
            "condition": "1 of selection_*",
        },
        "falsepositives": ["Unknown"],
        "examples": {
            "match": [example],
            "no_match": [{"textPayload": "TODO: a line that shares words but is not this"}],
        },
    }
    header = f"# Written by `forensics patterns new --from-template {template.id}`: review it.\n"
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def _register(directory: Path, signature_id: str) -> None:
    """Append the id to catalog.yml's precedence list (last: it only takes unclaimed entries)."""
    path = directory / CATALOG_FILE
    text = path.read_text(encoding="utf-8")
    items = re.findall(r"^(\s*)- ", text, flags=re.MULTILINE)
    indent = items[-1] if items else "  "
    path.write_text(text.rstrip("\n") + f"\n{indent}- {signature_id}\n", encoding="utf-8")


def write_signature_from_template(
    db: Path,
    template_id: str,
    signature_id: str | None = None,
    directory: Path | None = None,
    hours: float | None = None,
    until: str | None = None,
) -> Path:
    """Find the template (mined over the whole store, or the last ``hours``) and write its file.

    Returns the new file's path. InputError when the template id is unknown or the file exists.
    """
    root = directory or patterns_dir()
    catalog = load_catalog(root)
    window = window_ending(hours, until) if hours else None
    since, end = (window.since, window.until) if window else (None, None)
    from forensics.pipeline import open_for_reading, prepare_reading

    with open_for_reading(db) as store:  # reads: classification in memory if not current
        prepare_reading(store, catalog)
        templates = mine_templates(store, since, end)
        template = next((t for t in templates if t.id == template_id), None)
        if template is None:
            known = ", ".join(t.id for t in templates[:10]) or "none"
            raise InputError(f"no unexplained-error template {template_id!r} (top: {known})")
        row = store.conn.execute(
            'SELECT CAST(raw AS VARCHAR) FROM log_entries WHERE "timestamp" = ? '
            "AND insert_id = ? AND log_name = ?",
            [template.example_timestamp, template.example_insert_id, template.example_log_name],
        ).fetchone()
    sig_id = signature_id or f"unknown/{_slug(template.template)}"
    if not _ID.match(sig_id):
        raise InputError(f"--id {sig_id!r}: use <area>/<slug> in lowercase-kebab")
    path = root / f"{sig_id}.yml"
    if path.exists() or any(s.id == sig_id for s in catalog.signatures):
        raise InputError(f"{path}: a signature with this id exists; pass another --id")
    example = _example(json.loads(row[0])) if row else {"textPayload": template.example_message}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(signature_text(sig_id, template, example), encoding="utf-8")
    _register(root, sig_id)
    try:
        load_catalog(root)
    except ConfigError:
        path.unlink()  # never leave the catalog unloadable
        raise
    return path
