"""The pattern catalog: ids, precedence, lint, examples through the compiled SQL, filters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from forensics.collectors.filters import MAX_FILTER_CHARS, log_sources
from forensics.config import Resources
from forensics.errors import ConfigError
from forensics.incidents.registry import load_registry
from forensics.paths import patterns_dir
from forensics.signatures import load_catalog
from forensics.signatures.catalog import scan_catalog
from forensics.signatures.compile import classification_sql
from forensics.signatures.condition import And, Name, Not, Or, parse_condition
from forensics.signatures.examples import run_examples
from forensics.signatures.model import parse_signature
from forensics.signatures.validators import lint_problems
from forensics.store import open_store

SEED_IDS = [
    "startup/db-init-timeout",
    "startup/exit-code-3",
    "cloudsql/socket-failure",
    "cloudrun/http-503",
    "websocket/handshake-race",
    "auth/timeout",
    "cloudrun/startup-probe-failed",
    "cloudrun/memory-limit-exceeded",
]

CATALOG = load_catalog()
REGISTRY = load_registry()
EXAMPLES = run_examples(CATALOG)


@pytest.mark.parametrize("sig_id", SEED_IDS)
def test_seed_ids_exist_at_their_paths(sig_id: str) -> None:
    sig = CATALOG.get(sig_id)
    assert sig.path == patterns_dir() / f"{sig_id}.yml"
    links = REGISTRY.links(sig_id)
    assert links.evidence_of or links.symptom_of, f"{sig_id} belongs to no tracked issue"


def test_precedence_puts_causes_before_symptoms() -> None:
    order = [s.id for s in CATALOG.signatures]
    assert order.index("cloudsql/socket-failure") < order.index("startup/db-init-timeout")
    assert order.index("startup/db-init-timeout") < order.index("startup/exit-code-3")
    assert order.index("startup/exit-code-3") < order.index("cloudrun/http-503")


def test_catalog_lints_clean() -> None:
    scan = scan_catalog()
    lint_problems(scan)
    assert [str(p) for p in scan.problems] == []


def test_every_signature_has_both_kinds_of_example() -> None:
    kinds = {(r.signature, r.kind) for r in EXAMPLES}
    for sig in CATALOG.active():
        assert (sig.id, "match") in kinds and (sig.id, "no_match") in kinds, sig.id


@pytest.mark.parametrize("result", EXAMPLES, ids=lambda r: f"{r.signature}:{r.kind}:{r.number}")
def test_example_behaves_through_ingest_and_compiled_sql(result) -> None:
    assert result.passed, result.describe()


def test_version_changes_with_any_pattern_file(tmp_path: Path) -> None:
    copy = tmp_path / "patterns"
    shutil.copytree(patterns_dir(), copy)
    before = load_catalog(copy).version
    target = copy / "startup" / "exit-code-3.yml"
    target.write_text(target.read_text() + "\n# touched\n")
    assert load_catalog(copy).version != before


def _broken_catalog(tmp_path: Path) -> Path:
    copy = tmp_path / "patterns"
    shutil.copytree(patterns_dir(), copy)
    (copy / "startup" / "exit-code-3.yml").write_text(
        (copy / "startup" / "exit-code-3.yml")
        .read_text()
        .replace("id: startup/exit-code-3", "id: startup/exit-three")
    )
    memory = copy / "cloudrun" / "memory-limit-exceeded.yml"
    memory.write_text(memory.read_text().replace("(?i)\\bmemory limit", "(?=x)memory limit"))
    (copy / "cloudrun" / "extra.yml").write_text("id: cloudrun/extra\ntitle: Extra\n")
    return copy


def test_broken_catalog_names_every_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_catalog(_broken_catalog(tmp_path))
    text = str(err.value)
    assert "exit-code-3.yml: id: 'startup/exit-three' must equal its path" in text
    assert "memory-limit-exceeded.yml: match: regex" in text and "not RE2" in text
    assert "extra.yml: (signature): status: required key is missing" in text
    assert "catalog.yml: precedence: 'startup/exit-three' is not listed" in text


def test_condition_grammar() -> None:
    names = ["selection_a", "selection_b", "filter_x"]
    tree = parse_condition("1 of selection_* and not filter_x", names)
    assert tree == And((Or((Name("selection_a"), Name("selection_b"))), Not(Name("filter_x"))))
    assert parse_condition("all of selection_*", names) == And(
        (Name("selection_a"), Name("selection_b"))
    )
    for bad, why in [("selection_c", "unknown"), ("selection_a and", "too early"), ("(", "early")]:
        with pytest.raises(ValueError, match=why):
            parse_condition(bad, names)


def _tiny(match: dict) -> dict:
    return {
        "id": "demo/tiny",
        "title": "Tiny",
        "status": "test",
        "description": "Detects tiny.",
        "level": "low",
        "match": match,
        "falsepositives": ["Unknown"],
        "examples": {"match": [], "no_match": []},
    }


def test_compiled_sql_is_one_scan_with_a_gate() -> None:
    sql = classification_sql(CATALOG)
    assert sql.count("FROM log_entries") == 1
    assert "UNNEST" in sql and "coalesce(s0" in sql
    # the gate is one keyword scan of each distinct message plus the message-free tests
    # (http-503's status)
    passing = sql.split("passing_texts AS (")[1].split("), gated AS")[0]
    assert passing.count("regexp_matches(text,") == 1
    gated = sql.split("gated AS (")[1].split("), entries AS")[0]
    assert "regexp_matches(coalesce(message, '')," not in gated
    assert gated.count("regexp_matches(json_payload,") == 1  # only rows with error fields
    assert "http_status = 503" in gated


def test_gate_lets_every_matching_example_through() -> None:
    """The keyword gate is a superset: no example that matches is stopped by it."""
    from forensics.ingest import ingest_texts
    from forensics.signatures.compile import gate_sql
    from forensics.signatures.examples import example_entry

    entries = [
        example_entry(sig, "match", i, partial)
        for sig in CATALOG.active()
        for i, partial in enumerate(sig.examples_match)
    ]
    with open_store(":memory:") as store:
        ingest_texts(store, [json.dumps(e) for e in entries], "examples")
        passed = {
            row[0]
            for row in store.conn.execute(
                f"SELECT insert_id FROM log_entries WHERE {gate_sql(CATALOG.active())}"
            ).fetchall()
        }
    assert {e["insertId"] for e in entries} - passed == set()


def test_predicates_compile_to_exact_sql() -> None:
    sig = parse_signature(
        _tiny(
            {
                "selection": {"message|contains": "it's", "http_status": [500, 503]},
                "filter": {"severity|lt": "WARNING"},
                "condition": "selection and not filter",
            }
        )
    )
    from forensics.signatures.compile import condition_sql

    # CASE chains short-circuit (cheap tests first) and read NULL as FALSE
    assert condition_sql(sig) == (
        "CASE WHEN CASE WHEN http_status IN (500, 503) THEN CASE WHEN contains(m, 'it''s') "
        "THEN TRUE ELSE FALSE END ELSE FALSE END THEN CASE WHEN NOT (CASE WHEN "
        "severity_number < 400 THEN TRUE ELSE FALSE END) THEN TRUE ELSE FALSE END ELSE FALSE END"
    )


@pytest.mark.parametrize(
    ("match", "key"),
    [
        ({"selection": {"nope": "x"}, "condition": "selection"}, "unknown field"),
        ({"selection": {"http_status|contains": "5"}, "condition": "selection"}, "modifier"),
        ({"selection": {"severity|gte": "LOUD"}, "condition": "selection"}, "LogSeverity"),
        (
            {"selection": {"message": "x"}, "other": {"message": "y"}, "condition": "selection"},
            "never used",
        ),
    ],
)
def test_field_problems_name_the_key(match: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        parse_signature(_tiny(match), Path("patterns/demo/tiny.yml"))


def test_logging_filter_is_bounded_and_short() -> None:
    whole = CATALOG.logging_filter()
    assert len(whole) > 0
    # The collector packs the clauses into as few filters as the API's 20,000-character limit
    # allows (collectors.packing.pack): each clause must be short, and the bundled catalog
    # must take few pulls.
    longest = max(len(sig.pushdown_filter()) for sig in CATALOG.active())
    assert longest < MAX_FILTER_CHARS // 5
    sources = log_sources("p", Resources(), pushdown=True, signatures=CATALOG.active())
    runs = [s for s in sources if s.key == "run" or s.key.startswith("run~")]
    assert 1 <= len(runs) <= 3
    assert "httpRequest.status=503" in CATALOG.get("cloudrun/http-503").logging_filter()
    exit3 = CATALOG.get("startup/exit-code-3").logging_filter()
    assert 'textPayload=~"' in exit3 and "Container called exit\\\\(3\\\\)" in exit3
    for sig in CATALOG.active():
        assert sig.logging_filter(), sig.id
