"""Name an incident's cause from the attribution of its symptoms, in one sentence.

The root cause is the cause most of the incident's symptoms (exit 3, 503, ...) follow on the
same instance or revision; without symptoms it is the first cause in the chain. An error no
signature covers (a ModuleNotFoundError) is named by its exception line and tied to no issue.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import polars as pl

__all__ = ["error_key", "error_text", "exception_line", "root_cause"]

_EXCEPTION = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception)\b:?[^\n]{0,200})")
# A Python exception line: unindented, an optionally dotted class name, then ": text" or nothing.
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception)\b(?::|$)")
# Lines of a traceback that are not its exception lines: header, frames and quoted source
# (indented), the sentences chaining exceptions, SQLAlchemy's footer and SQL quotes.
_NOT_EXCEPTION = re.compile(
    r"^\s*$|^Traceback \(most recent call last\)|^\s{2}|^\s+at \S|^\s+\.\.\. \d+ "
    r"|^During handling of the above exception|^The above exception was the direct cause"
    r"|^\(Background on this error at:|^\[SQL: |^\[parameters: "
)


def exception_line(message: str | None) -> str | None:
    """The root exception line of a message (cut to 200 characters), or None when it has none.

    In a Python traceback the root exception is the first exception line (a chained one's
    "The above exception was the direct cause ..." follows it); quoted source lines such as
    ``except ImportError:`` are indented and never count. A traceback's first chunk, split off
    by the logging agent, has frames only: None, so the caller reads the next chunks.
    """
    text = message or ""
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    kept = [line for line in text.splitlines() if not _NOT_EXCEPTION.match(line)]
    for line in kept:
        if _EXCEPTION_LINE.match(line):
            return _clip(line.strip())
    for line in kept:
        match = _EXCEPTION.search(line)
        if match:
            return _clip(match.group(1).strip())
    return None


def _clip(line: str, limit: int = 200) -> str:
    """``line`` cut at a word boundary within ``limit`` characters, marked with an ellipsis."""
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


_CLASS = re.compile(r"([A-Z][A-Za-z0-9_]*(?:Error|Exception))\b")


def error_key(line: str, default: str) -> str:
    """``error:<ExceptionClass>`` of a root exception line, else ``default``."""
    match = _CLASS.search(line)
    return f"error:{match.group(1)}" if match else default


# A traceback frame line: `  File "/app/x/base.py", line 146, in _get_cached_config`.
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>\S+))?')


def error_text(message: str | None) -> str:
    """The root exception line of an error message, else its first line (200 characters).

    A traceback whose exception line never reached the logs (a chunk of a split traceback, an
    export that cut multi-line payloads) is named by its deepest frame: its header line says
    nothing about what failed.
    """
    line = exception_line(message)
    if line is not None:
        return line
    text = (message or "").strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    lines = text.splitlines() or [""]
    if lines[0].startswith("Traceback (most recent call last)"):
        frames = [m for m in map(_FRAME.match, lines) if m]
        if frames:
            last = frames[-1]
            where = f"{last['path'].rsplit('/', 1)[-1]}:{last['line']}"
            if last["func"]:
                where += f" in {last['func']}"
            return _clip(f"Python traceback, its exception line not logged (deepest frame {where})")
        return "Python traceback, its exception line not logged"
    return lines[0].strip()[:200]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _not_them(symptoms: pl.DataFrame, symptom_issues: dict[str, list[str]]) -> str:
    """ ", so not #1278": the issues these symptoms would count for had a cause of theirs come
    first (an exit 3 after a missing module ends the way #1278 does)."""
    lists = [symptom_issues.get(s, []) for s in symptoms["signature"].unique(maintain_order=True)]
    common = [i for i in lists[0] if all(i in other for other in lists)] if lists else []
    return f", so not {', '.join(common)}" if common else ""


def root_cause(
    chain: list[str],
    symptoms: pl.DataFrame,
    symptom_ids: set[str],
    titles: dict[str, str],
    cause_issues: dict[str, list[str]],
    symptom_issues: dict[str, list[str]],
    messages: dict[str, str],
) -> tuple[dict[str, Any], str]:
    """The incident's root cause (a dict for JSON) and the sentence that explains it.

    Args:
        chain: the incident's causal chain.
        symptoms: the incident's symptom rows with ``cause``, ``cause_kind``,
            ``cause_insert_id`` (from the attribution query).
        symptom_ids: signatures that are symptoms (need a cause).
        titles: signature id → title.
        cause_issues: cause signature or signal → the issues it is direct evidence for.
        symptom_issues: symptom signature → the issues that count it when caused by them.
        messages: insert_id → message, for error causes.
    """
    total = symptoms.height
    causes = Counter(c for c in symptoms["cause"].to_list() if c) if total else Counter()
    if causes:
        cause, explained = max(causes.items(), key=lambda kv: kv[1])
    else:
        upstream = [c for c in chain if c not in symptom_ids]
        cause, explained = (upstream[0], 0) if upstream else (None, 0)
    shown = ", ".join(
        f"{n:,} {s}" for s, n in Counter(symptoms["signature"].to_list()).most_common()
    )
    if cause is None:
        root: dict[str, Any] = {"kind": "unknown", "id": None, "text": None, "issues": []}
        return root, (
            f"Cause not in the logs: {_plural(total, 'symptom')} ({shown}) with no error before "
            "them on the same instance or revision."
        )
    if cause.startswith("error:"):
        rows = symptoms.filter(pl.col("cause") == cause).sort("cause_timestamp")
        insert_id = rows["cause_insert_id"][0]
        text = error_text(messages.get(insert_id))
        not_them = _not_them(symptoms, symptom_issues)
        root = {"kind": "error", "id": cause, "text": text, "insert_id": insert_id, "issues": []}
        root.update(symptoms=total, explained=explained)
        return root, (
            f"{text}: an error no signature covers, logged before {explained:,} of "
            f"{_plural(total, 'symptom')} ({shown}) on the same instance or revision; "
            f"attributed to no tracked issue{not_them}."
        )
    kind = "signature" if cause in titles else "signal"
    issues = cause_issues.get(cause, [])
    title = titles.get(cause, f"Metric signal {cause}")
    sentence = f"{title} ({cause})" if kind == "signature" else title
    # a signature's line that holds an exception is named by it too (a module not found)
    lines = symptoms.filter(pl.col("cause") == cause).sort("cause_timestamp") if total else None
    exception = (
        exception_line(messages.get(lines["cause_insert_id"][0]))
        if lines is not None and lines.height
        else None
    )
    if exception:
        sentence += f": {exception}"
    if total and explained:
        sentence += (
            f"{';' if exception else ':'} {explained:,} of {_plural(total, 'symptom')} ({shown}) "
            "follow it on the same instance or revision"
        )
    before = chain[: chain.index(cause)] if cause in chain else []
    upstream = [c for c in before if c not in symptom_ids]
    # the root is the first logged failure upstream that is evidence for the same issue
    # (Cloud SQL out of slots before the backend's pool or socket failures)
    origin = next(
        (c for c in upstream if c in titles and set(cause_issues.get(c, [])) & set(issues)), None
    )
    if origin is not None:
        sentence = f"{titles[origin]} ({origin}), then " + sentence
        upstream.remove(origin)
    if upstream:
        sentence += f", after {', '.join(upstream)}"
    if issues:
        sentence += f"; evidence for {', '.join(issues)}."
    elif explained:
        sentence += f"; attributed to no tracked issue{_not_them(symptoms, symptom_issues)}."
    else:
        sentence += "."
    if total and not explained:
        # the first failure, but no symptom follows it: it is not named as their cause
        sentence += (
            f" Its {_plural(total, 'symptom')} ({shown}) follow no logged cause on the same "
            "instance or revision."
        )
    root = {"kind": kind, "id": cause, "text": title, "issues": issues}
    if origin is not None:
        root.update(id=origin, text=titles[origin], via=cause)
    root.update(symptoms=total, explained=explained)
    if exception:
        root["exception"] = exception
    return root, sentence
