"""Every signature's Cloud Logging clause, run by the emulator's filter engine, admits every
Cloud Run revision entry the signature matches: the pushdown is a superset, so collecting with
it loses nothing. (The clauses restrict the Cloud Run revision logs only; audit, Cloud SQL and
connector logs are pulled whole or by their own candidates: forensics.collectors.filters.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from forensics.collectors.filters import log_sources
from forensics.config import Resources
from forensics.emulator.data import EntryTable
from forensics.emulator.filter_parser import parse_filter
from forensics.emulator.filter_sql import compile_filter
from forensics.ingest import ingest_texts
from forensics.signatures.catalog import load_catalog
from forensics.signatures.classify import classify_store
from forensics.signatures.examples import example_entry
from forensics.signatures.keywords import keyword_chain
from forensics.signatures.logfilter import MAX_PUSHDOWN_CLAUSE, error_fields_clause
from forensics.signatures.model import Signature
from forensics.store import open_store

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
    """auth/timeout's regexes written out for each message field pass the bound: the
    collector's clause reads keywords instead and fits; the Console's keeps the regexes. A
    signature whose regexes fit keeps them in its pushdown too (db-init-timeout)."""
    sig = CATALOG.get("auth/timeout")
    console, clause = sig.logging_filter(), sig.pushdown_filter()
    assert len(console) > MAX_PUSHDOWN_CLAUSE >= len(clause)
    assert "did not (?:respond|answer|reply)" in console and "auth" in clause
    db_init = CATALOG.get("startup/db-init-timeout").pushdown_filter()
    assert "init(?:iali[sz]ation" in db_init and "severity>=WARNING OR severity=DEFAULT" in db_init


def _wire(partial: dict[str, Any]) -> dict[str, Any]:
    return {
        "logName": "projects/example-project/logs/run.googleapis.com%2Fstderr",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"project_id": "example-project", "service_name": "api"},
        },
        "timestamp": "2025-01-01T00:00:00Z",
        "insertId": "e0",
        **partial,
    }


def _collected(partial: dict[str, Any]) -> bool:
    """Does one of the collector's Cloud Run filters admit the entry?"""
    sources = log_sources(
        "example-project", Resources(), pushdown=True, signatures=CATALOG.active()
    )
    table = EntryTable([_wire(partial)])
    return any(
        table.insert_ids(compile_filter(parse_filter(s.base)))
        for s in sources
        if s.key == "run" or s.key.startswith("run~")
    )


def _matched(partial: dict[str, Any]) -> set[str]:
    with open_store(":memory:") as store:
        ingest_texts(store, [json.dumps(_wire(partial))], "t")
        classify_store(store, CATALOG)
        return {
            r[0] for r in store.conn.execute("SELECT signature FROM signature_matches").fetchall()
        }


@pytest.mark.parametrize(
    "payload",
    [
        {"level": "error", "msg": "no response from auth service after 500 ms"},  # zap, logrus
        {"level": 50, "msg": "AuthServiceTimeout: token check gave up after 0.5s"},  # pino
        {"msg": "upstream connect error or disconnect/reset before headers. reset reason: x"},
        {"event": "no response from auth service after 500 ms"},  # structlog
    ],
)
def test_a_default_json_line_with_its_text_under_another_key_is_collected(
    payload: dict[str, Any],
) -> None:
    """A logger that writes no severity (DEFAULT) and its text under `msg` or `event`: the
    signature matches it locally, so the collector must pull it (review of 0.10: it did not)."""
    partial = {"jsonPayload": payload}
    assert _matched(partial) & {"auth/timeout", "cloudrun/http-503"}
    assert _collected(partial)


def test_a_level_exclusion_narrows_the_pushdown_to_warning_and_default() -> None:
    """auth/timeout excludes lines stated below WARNING: its keyword clause does not pull the
    INFO lines its keywords ("auth", "timeout") are in, but keeps DEFAULT and WARNING ones."""
    clause = CATALOG.get("auth/timeout").pushdown_filter()
    where = compile_filter(parse_filter(clause))
    info = _wire({"severity": "INFO", "textPayload": "Validating token with auth service"})
    default = _wire({"insertId": "e1", "textPayload": "auth service timed out"})
    warning = _wire({"insertId": "e2", "severity": "WARNING", "textPayload": "auth timed out"})
    admitted = {i for _, i in EntryTable([info, default, warning]).insert_ids(where)}
    assert admitted == {"e1", "e2"}


def test_a_posix_class_gives_no_keywords() -> None:
    """Python's parser reads RE2's [[:space:]] as a set of characters: no keywords are derived
    from such a regex (the regex itself is used), never a set a match need not hold."""
    assert keyword_chain(r"(?i)auth service[[:space:]]+timed out") is None


def test_a_leading_anchor_is_relaxed_inside_the_group() -> None:
    """The server sees raw payloads (ANSI codes, prefixes): a regex's leading ^ is dropped for
    pushdown, also where regex_for wrapped the regex in a group."""
    clause = CATALOG.get("cloudsql/instance-restarted").logging_filter()
    assert "(?:^" not in clause and "(?:cloudsql" in clause
