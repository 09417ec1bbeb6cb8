"""`forensics classify` names the unknown-error template of every error no signature claims."""

from __future__ import annotations

import json

from forensics.ingest import ingest_texts
from forensics.signatures import classify_store, classify_texts
from forensics.signatures.mining import mine_templates
from forensics.store import open_store


def entry(n: int, text: str | None = None, **extra: object) -> str:
    body: dict[str, object] = {
        "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
        "timestamp": f"2025-09-16T01:41:{n:02d}Z",
        "insertId": f"e{n}",
        **extra,
    }
    if text is not None:
        body["textPayload"] = text
    return json.dumps(body)


TEXTS = [
    entry(0, "KeyError: 'user_id' in handler orders/42", severity="ERROR"),
    entry(1, "KeyError: 'user_id' in handler orders/977", severity="ERROR"),
    entry(2, "Container called exit(3).", severity="WARNING"),  # a signature claims it
    entry(3, "request served in 12 ms", severity="INFO"),  # not an error
    entry(4, "hello from the app"),  # unlevelled, does not read as an error
    entry(5, 'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: bad row'),
    entry(
        6,
        logName="projects/p/logs/run.googleapis.com%2Frequests",
        httpRequest={"requestMethod": "GET", "requestUrl": "https://x/api", "status": 502},
        severity="ERROR",
    ),
    entry(7, "Error: connect to payments failed"),  # unlevelled, reads as an error
]


def test_errors_no_signature_claims_get_their_template_others_null() -> None:
    got = [r.template for r in classify_texts(TEXTS)]
    assert got[0] and got[0].startswith("t-") and got[0] == got[1]  # numbers are masked
    assert got[2] is None and got[3] is None and got[4] is None
    assert got[5] and got[6] and got[7]
    assert len({got[0], got[5], got[6], got[7]}) == 4


def test_template_ids_are_the_ones_analyze_mines() -> None:
    results = classify_texts(TEXTS)
    with open_store(":memory:") as store:
        ingest_texts(store, TEXTS, "t")
        classify_store(store)
        mined = {t.example_insert_id: t.id for t in mine_templates(store)}
    for result in results:
        if result.insert_id in mined:
            assert result.template == mined[result.insert_id]
    assert set(mined.values()) == {r.template for r in results if r.template}


def test_template_ids_do_not_depend_on_input_order() -> None:
    forward = {r.insert_id: r.template for r in classify_texts(TEXTS)}
    backward = {r.insert_id: r.template for r in classify_texts(list(reversed(TEXTS)))}
    assert forward == backward
