"""Unknown-error mining: masking, merging, what counts as unexplained, stable template ids."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from itertools import pairwise

import duckdb
import pytest

from forensics.ingest import ingest_texts
from forensics.signatures import classify_store, load_catalog
from forensics.signatures.mining import (
    Template,
    mask_sql,
    mask_texts,
    merge_templates,
    mine_templates,
    template_ids,
)
from forensics.store import Store


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            'connect to "/cloudsql/p:us-central1:db/.s.PGSQL.5432" failed after 3 tries',
            'connect to "/cloudsql/<PATH>" failed after <N> tries',
        ),
        ("request 0b9f1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4 done", "request <UUID> done"),
        ("revision netra-backend-staging-00740-47l failed", "revision <REVISION> failed"),
        ("trace projects/p/traces/23618451363e6da54719a2d205ce0854 x", "trace <TRACE> x"),
        ("instance " + "0069c7a9" * 10 + " gone", "instance <INSTANCE> gone"),
        ("from 10.45.0.3:3307 timed out after 10.5s", "from <IP> timed out after <N>s"),
        ("ws ws_10146348_1757373217_28b0e073 at 0x7fccd6643250", "ws <ID> at <HEX>"),
        ("user 4f3a9c2e code 3", "user <HEX> code <N>"),
    ],
)
def test_masks(text: str, masked: str) -> None:
    got = duckdb.connect().execute(f"SELECT {mask_sql('?')}", [text]).fetchone()
    assert got is not None and got[0] == masked


def _t(text: str, n: int) -> Template:
    seen = datetime(2025, 9, 16, 1, n, tzinfo=UTC)
    return Template(text, n, seen, seen, ["api"], f"id-{n}", "l", seen, text)


def test_merge_rules() -> None:
    users = ["alice", "bob", "carol", "dave", "erin"]
    merged = merge_templates(
        [_t(f"user {u} not found in tenant", n) for n, u in enumerate(users, start=1)]
        + [
            _t("GET https://a/x <N>", 7),  # a few words at one position: kept apart
            _t("POST https://a/x <N>", 6),
            _t("GET https://a/y <N>", 3),  # three tokens: every word matters
            _t("Started job sync in <N> ms", 5),
            _t("Paused job sync in <N> ms", 4),
            _t("job alice not found in tenant", 1),  # different first token
            _t("closed, <N> bytes sent, lifetime <N>:<N>", 8),
            _t("closed, <N> bytes (<N>.<N> KB) sent, lifetime <N>:<N>", 2),  # a longer value
        ]
    )
    assert [(m.template, m.count, m.variants) for m in merged] == [
        ("user <*> not found in tenant", 15, 5),  # more words than a few: a variable
        ("closed, <N> bytes sent, lifetime <N>:<N>", 10, 2),
        ("GET https://a/x <N>", 7, 1),
        ("POST https://a/x <N>", 6, 1),
        ("Started job sync in <N> ms", 5, 1),
        ("Paused job sync in <N> ms", 4, 1),
        ("GET https://a/y <N>", 3, 1),
        ("job alice not found in tenant", 1, 1),
    ]


def test_merge_does_not_depend_on_order() -> None:
    groups = [_t(f"user {u} not found", n) for n, u in enumerate("abcdefg", start=1)]
    groups += [_t(f"{verb} job sync", n) for n, verb in enumerate(["Started", "Paused"], 1)]
    forward = [(m.id, m.count, m.members) for m in merge_templates(groups)]
    assert forward == [(m.id, m.count, m.members) for m in merge_templates(groups[::-1])]
    assert len(forward) == 3


def _entry(i: int, text: str, **extra: object) -> str:
    base = {
        "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
        "timestamp": f"2025-09-16T01:{i:02d}:00Z",
        "insertId": f"e{i}",
        "textPayload": text,
    }
    return json.dumps(base | extra)


def test_only_unexplained_errors_and_5xx_become_templates(store: Store) -> None:
    texts = [
        _entry(1, "KeyError: 'tenant_17' while loading profile 4411", severity="ERROR"),
        _entry(2, "KeyError: 'tenant_99' while loading profile 12", severity="ERROR"),
        _entry(
            3, "[2025-09-16 01:03:00 +0000] [7] [ERROR] Boom in worker 7"
        ),  # DEFAULT, says ERROR
        _entry(4, "KeyError: 'tenant_5' while loading profile 1", severity="INFO"),
        _entry(5, "plain DEFAULT line without a level"),
        _entry(6, "Container called exit(3).", severity="ERROR"),  # has a signature
        json.dumps(
            {
                "logName": "projects/p/logs/run.googleapis.com%2Frequests",
                "timestamp": "2025-09-16T01:07:00Z",
                "insertId": "r7",
                "resource": {"type": "cloud_run_revision", "labels": {"service_name": "web"}},
                "httpRequest": {
                    "requestMethod": "GET",
                    "requestUrl": "https://x/a/1",
                    "status": 500,
                },
            }
        ),
    ]
    ingest_texts(store, texts, "t")
    classify_store(store, load_catalog())
    templates = mine_templates(store)
    by_text = {t.template: t for t in templates}
    assert set(by_text) == {
        "KeyError: '<ID>' while loading profile <N>",
        "[<N>-<N>-<N> <N>:<N>:<N> +<N>] [<N>] [ERROR] Boom in worker <N>",
        "GET https://x/a/<N> <N>",
    }
    key_error = by_text["KeyError: '<ID>' while loading profile <N>"]
    assert key_error.count == 2 and key_error.example_insert_id == "e1"
    assert key_error.services == ["api"] and key_error.first_seen < key_error.last_seen
    assert by_text["GET https://x/a/<N> <N>"].services == ["web"]
    assert [t.id for t in mine_templates(store)] == [t.id for t in templates]  # stable ids


_RNG = random.Random(3)


def _stamp() -> str:
    r = _RNG
    return f"2025-09-{r.randint(10, 28)} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00"


_USERS = ["alice", "bob", "carol", "dave", "erin"]
_MESSAGES = [
    lambda r: f"connection to db{r.randint(1, 9)} refused after {r.randint(1, 99)} retries",
    lambda r: f"user {r.choice(_USERS)} not in tenant {r.randint(1, 99)}",
    lambda r: "worker timeout, restarting",
    lambda r: f"GET /api/v1/items/{r.randint(1, 999)} returned 502",
]
# Line headers of common formats (none of them a loghub system), each from its documentation.
_HEADERS = {
    "python logging": lambda r: (
        f"{_stamp()},{r.randint(100, 999)} - app.db - {r.choice(['ERROR', 'WARNING'])} - "
    ),
    "nginx error log": lambda r: (
        f"{_stamp().replace('-', '/')} [{r.choice(['error', 'crit'])}]"
        f" {r.randint(10, 99)}#0: *{r.randint(1, 9999)} "
    ),
    "gunicorn": lambda r: f"[{_stamp()} +0000] [{r.randint(5, 99)}] [ERROR] ",
    "go log": lambda r: f"{_stamp().replace('-', '/')} ",
    "syslog": lambda r: (
        f"Sep {r.randint(1, 28):2d} 10:00:01 host-{r.randint(1, 3)} app[{r.randint(100, 999)}]: "
    ),
}


@pytest.mark.parametrize("header", list(_HEADERS))
def test_raw_lines_group_as_their_messages(header: str) -> None:
    messages = [_MESSAGES[i % len(_MESSAGES)](_RNG) for i in range(200)]
    lines = [_HEADERS[header](_RNG) + m for m in messages]
    by_message = template_ids(messages)
    by_line = template_ids(lines)
    assert len(set(by_message)) == len(_MESSAGES)
    # the same partition of the lines (ids differ only if the texts do: they don't here)
    assert by_line == by_message


def test_runs_of_whitespace_do_not_change_the_template() -> None:
    ids = template_ids(["disk  full on   <x>", "disk full on <x>", "disk\tfull on <x>"])
    assert len(set(ids)) == 1


def test_a_list_of_values_is_one_variable_and_enum_names_are_constants() -> None:
    lines = [
        "unreachable hosts: 10.0.0.1 10.0.0.2",
        "unreachable hosts: 10.0.0.7 10.0.0.8 10.0.0.9",
        "unreachable hosts: 10.0.0.3",
    ]
    # six upper-case states: an enum's names, each pair its own transition
    states = ["NEW", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "KILLED"]
    lines += [f"job {n} moved from {a} to {b}" for n, (a, b) in enumerate(pairwise(states))]
    ids = template_ids(lines)
    assert len(set(ids[:3])) == 1
    assert len(set(ids[3:])) == len(states) - 1


def test_a_learned_header_is_dropped_only_from_lines_that_have_it() -> None:
    gunicorn = _HEADERS["gunicorn"]
    lines = [gunicorn(_RNG) + _MESSAGES[i % 2](_RNG) for i in range(60)]
    lines += [f"KeyError: 'tenant_{i}' while loading profile {i}" for i in range(10, 13)]
    found = {t.template for t in merge_templates([_t(m, 1) for m in mask_texts(lines)])}
    assert "KeyError: '<ID>' while loading profile <N>" in found
    assert "user <*> not in tenant <N>" in found  # the header dropped: 95% of lines have it


def test_one_error_repeated_keeps_its_words() -> None:
    # every line the same message: its fixed words are the message's, not a header's
    gunicorn = _HEADERS["gunicorn"]
    lines = [
        gunicorn(_RNG) + f"Worker timeout (pid: {_RNG.randint(100, 999)}) after "
        f"{_RNG.randint(1, 60)} seconds, restarting the worker now"
        for _ in range(50)
    ]
    found = [t.template for t in merge_templates([_t(m, 1) for m in mask_texts(lines)])]
    assert found == ["Worker timeout (pid: <N>) after <N> seconds, restarting the worker now"]


def test_a_leading_level_word_alone_is_the_message_not_a_header() -> None:
    lines = [f"Error in request session s{i}x: {i}: Not authenticated" for i in range(10, 40)]
    lines += [f"CRITICAL: setup failed for worker {i}" for i in range(30)]
    found = {t.template for t in merge_templates([_t(m, 1) for m in mask_texts(lines)])}
    assert found == {
        "Error in request session <ID>: <N>: Not authenticated",
        "CRITICAL: setup failed for worker <N>",
    }
