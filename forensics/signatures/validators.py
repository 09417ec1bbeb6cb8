"""Catalog checks, one small class per kind of problem (pySigma's validator habit).

``structural_problems`` runs the checks loading depends on (their problems are fatal);
``lint_problems`` runs every check, including the conventions `forensics patterns lint` enforces.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import duckdb

from forensics.signatures.catalog import CATALOG_FILE, CatalogScan
from forensics.signatures.model import KEY_ORDER
from forensics.user_cache import cache_dir, private, write_private

__all__ = [
    "VALIDATORS",
    "capture_groups",
    "invalid_regexes",
    "lint_problems",
    "one_group_problem",
    "structural_problems",
]

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*/[a-z0-9]+(?:-[a-z0-9]+)*$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")


def invalid_regexes(regexes: list[str]) -> dict[str, str]:
    """Regex → DuckDB's RE2 error, for each regex DuckDB refuses (Python's `re` is not RE2).

    Every regex is compiled in one statement; only when that fails is each tried alone, to name
    the bad ones. A set found valid leaves a mark in the user's cache (forensics.user_cache),
    keyed by the DuckDB version and the regexes, so loading the same catalog again (every
    `forensics analyze`) skips the check: ~0.4 CPU s for the shipped catalog.
    """
    unique = list(dict.fromkeys(regexes))
    mark = _valid_mark(unique)
    if mark is not None and mark.is_file() and private(mark):
        return {}
    bad: dict[str, str] = {}
    conn = duckdb.connect()
    try:
        tests = ", ".join(f"regexp_matches('', ${i})" for i in range(1, len(unique) + 1))
        try:
            if unique:
                conn.execute(f"SELECT {tests}", unique).fetchone()
        except duckdb.Error:
            for regex in unique:
                try:
                    conn.execute("SELECT regexp_matches('', ?)", [regex]).fetchone()
                except duckdb.Error as err:
                    bad[regex] = str(err).split(": ", 1)[-1]
    finally:
        conn.close()
    if mark is not None and not bad:
        write_private(mark.parent, mark.name, b"")
    return bad


def _valid_mark(regexes: list[str]) -> Path | None:
    """Where the mark of this regex set being valid RE2 lives (None: caching is off)."""
    directory = cache_dir()
    if directory is None:
        return None
    digest = hashlib.sha256("\0".join([duckdb.__version__, *regexes]).encode()).hexdigest()
    return directory / f"re2-valid-{digest[:32]}"


class Validator:
    """Adds problems about one concern to a scan."""

    fatal: ClassVar[bool] = True

    def check(self, scan: CatalogScan) -> None:
        raise NotImplementedError


class IdMatchesPath(Validator):
    def check(self, scan: CatalogScan) -> None:
        for sig in scan.signatures:
            assert sig.path is not None
            expected = f"{sig.path.parent.name}/{sig.path.stem}"
            if not _ID.match(sig.id):
                scan.add(sig.path, "id", f"{sig.id!r} is not <area>/<slug> in lowercase-kebab")
            elif sig.id != expected:
                scan.add(sig.path, "id", f"{sig.id!r} must equal its path {expected!r}")


class UniqueIds(Validator):
    def check(self, scan: CatalogScan) -> None:
        counts = Counter(s.id for s in scan.signatures)
        for sig in scan.signatures:
            if counts[sig.id] > 1:
                scan.add(sig.path or "", "id", f"{sig.id!r} is used by {counts[sig.id]} files")


class PrecedenceComplete(Validator):
    def check(self, scan: CatalogScan) -> None:
        path = scan.directory / CATALOG_FILE
        listed = Counter(scan.precedence)
        known = {s.id for s in scan.signatures}
        for sig_id, n in listed.items():
            if n > 1:
                scan.add(path, "precedence", f"{sig_id!r} is listed {n} times")
            if sig_id not in known:
                scan.add(path, "precedence", f"{sig_id!r} has no pattern file")
        for sig in scan.signatures:
            if sig.id not in listed:
                scan.add(path, "precedence", f"{sig.id!r} is not listed (add it where it belongs)")


class RegexesAreRE2(Validator):
    def check(self, scan: CatalogScan) -> None:
        bad = invalid_regexes([r for sig in scan.signatures for r in sig.regexes()])
        for sig in scan.signatures:
            for regex in sig.regexes():
                if regex in bad:
                    scan.add(sig.path or "", "match", f"regex {regex!r} is not RE2: {bad[regex]}")


class ExtractHasOneGroup(Validator):
    """An extract regex yields its one capture group (BigQuery's REGEXP_EXTRACT refuses more)."""

    fatal = False

    def check(self, scan: CatalogScan) -> None:
        for sig in scan.signatures:
            for ext in sig.extract:
                if ext.regex is None:
                    continue
                try:
                    groups = capture_groups(ext.regex)
                except ValueError:
                    continue  # RegexesAreRE2 names it
                if groups != 1:
                    scan.add(sig.path or "", f"extract.{ext.name}", one_group_problem(groups))


class KeyOrder(Validator):
    fatal = False

    def check(self, scan: CatalogScan) -> None:
        for sig in scan.signatures:
            expected = [k for k in KEY_ORDER if k in sig.keys]
            if list(sig.keys) != expected:
                scan.add(sig.path or "", "(keys)", f"keys must be in order: {', '.join(expected)}")


class HasExamples(Validator):
    fatal = False

    def check(self, scan: CatalogScan) -> None:
        for sig in scan.signatures:
            if not sig.examples_match:
                scan.add(sig.path or "", "examples.match", "needs at least one matching example")
            if not sig.examples_no_match:
                scan.add(sig.path or "", "examples.no_match", "needs at least one no_match example")


class Conventions(Validator):
    fatal = False

    def check(self, scan: CatalogScan) -> None:
        for sig in scan.signatures:
            where = sig.path or ""
            if not sig.description.startswith("Detects"):
                scan.add(where, "description", "starts with 'Detects'")
            bad = [r for r in sig.references if not _URL.match(r)]
            if bad:
                scan.add(
                    where,
                    "references",
                    f"{bad[0]!r}: references hold URLs of public material; which issues a "
                    "signature belongs to is said once, in issues.yaml (signatures/symptoms)",
                )
            if not sig.falsepositives:
                scan.add(where, "falsepositives", "list known false positives, or 'Unknown'")
            if sig.status != "deprecated" and not sig.logging_filter():
                scan.add(where, "match", "nothing narrows the Cloud Logging filter")


STRUCTURAL: tuple[Validator, ...] = (
    IdMatchesPath(),
    UniqueIds(),
    PrecedenceComplete(),
    RegexesAreRE2(),
)
VALIDATORS: tuple[Validator, ...] = (
    *STRUCTURAL,
    ExtractHasOneGroup(),
    KeyOrder(),
    HasExamples(),
    Conventions(),
)


def _run(scan: CatalogScan, validators: tuple[Validator, ...]) -> None:
    for validator in validators:
        before = len(scan.problems)
        validator.check(scan)
        scan.problems[before:] = [replace(p, fatal=validator.fatal) for p in scan.problems[before:]]


def structural_problems(scan: CatalogScan) -> None:
    """Run the checks that loading depends on."""
    _run(scan, STRUCTURAL)


def lint_problems(scan: CatalogScan) -> None:
    """Run every check."""
    _run(scan, VALIDATORS)


def one_group_problem(groups: int) -> str:
    """What is wrong with an extract regex that has ``groups`` capture groups (2: or more)."""
    found = "no capture group" if groups == 0 else "more than one capture group"
    return f"the regex has {found}; it needs exactly one, the value (use (?:...) for the others)"


def capture_groups(regex: str) -> int:
    """How many capture groups RE2 (DuckDB's) counts in ``regex``, 2 standing for 2 or more.

    ValueError when it is not RE2. DuckDB's binder states the count when asked for more named
    groups than the pattern has; Python's ``re`` would miscount RE2-only syntax.
    """
    conn = duckdb.connect()
    try:
        for names in (["g"], ["g", "h"]):
            try:
                conn.execute("SELECT regexp_extract('', ?, ?)", [regex, names]).fetchone()
            except duckdb.BinderException as err:
                found = re.search(r"capturing groups \((\d+)\)", str(err))
                if not found:
                    raise ValueError(str(err).split(": ", 1)[-1]) from None
                return int(found.group(1))
            except duckdb.Error as err:
                raise ValueError(str(err).split(": ", 1)[-1]) from None
        return 2
    finally:
        conn.close()
