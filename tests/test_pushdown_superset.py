"""Every signature's Cloud Logging clause, run by the emulator's filter engine, admits every
Cloud Run revision entry the signature matches: the pushdown is a superset, so collecting with
it loses nothing. (The clauses restrict the Cloud Run revision logs only; audit, Cloud SQL and
connector logs are pulled whole or by their own candidates: forensics.collectors.filters.)"""

from __future__ import annotations

from typing import Any

import pytest

from forensics.emulator.data import EntryTable
from forensics.emulator.filter_parser import parse_filter
from forensics.emulator.filter_sql import compile_filter
from forensics.signatures.catalog import load_catalog
from forensics.signatures.examples import example_entry
from forensics.signatures.logfilter import MAX_PUSHDOWN_PATTERN, error_fields_clause
from forensics.signatures.model import Signature

CATALOG = load_catalog()


@pytest.fixture(scope="module")
def examples() -> EntryTable:
    return EntryTable(_run_examples())


def _run_examples(sig: Signature | None = None) -> list[dict[str, Any]]:
    """The match examples (of ``sig``, else of every signature) a Cloud Run revision logs."""
    entries = [
        example_entry(s, "match", i, partial)
        for s in ([sig] if sig else CATALOG.active())
        for i, partial in enumerate(s.examples_match)
    ]
    return [e for e in entries if e["resource"].get("type") == "cloud_run_revision"]


@pytest.mark.parametrize("bounded", [True, False], ids=["pushdown", "console"])
@pytest.mark.parametrize("sig", CATALOG.active(), ids=lambda s: s.id)
def test_the_clause_admits_every_matching_example(
    examples: EntryTable, sig: Signature, bounded: bool
) -> None:
    # the collector ORs the catalog-wide error-fields clause into its candidates
    # (collectors.filters.run_candidates): a match read from jsonPayload.error comes that way
    clause = sig.pushdown_filter() if bounded else sig.logging_filter()
    text = f"({clause}) OR {error_fields_clause()}"
    admitted = {
        insert_id for _, insert_id in examples.insert_ids(compile_filter(parse_filter(text)))
    }
    wanted = {e["insertId"] for e in _run_examples(sig)}
    assert wanted - admitted == set()


def test_an_overlong_clause_is_pushed_down_as_keywords() -> None:
    """auth/timeout's regexes together pass the bound: the collector's clause reads keywords
    instead, shorter than the regexes it stands for; the Console's keeps the regexes."""
    sig = CATALOG.get("auth/timeout")
    regexes = "|".join(
        str(v)
        for sel in sig.selections.values()
        for p in sel.predicates
        if p.field == "message"
        for v in p.values
    )
    assert len(regexes) > MAX_PUSHDOWN_PATTERN
    clause = sig.pushdown_filter()
    assert "auth" in clause and len(clause) < 3 * len(regexes)
    console = sig.logging_filter()
    assert "did not (?:respond|answer|reply)" in console and len(console) > len(clause)
