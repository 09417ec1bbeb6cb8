"""The redaction corpus: every secret shape is hidden, every look-alike stays as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from forensics.redact import Redactor, redact_obj, redact_secrets, redact_text

CORPUS = json.loads((Path(__file__).parent / "hostile" / "secrets.json").read_text())
SECRETS: list[dict[str, str]] = CORPUS["secrets"]
LOOKALIKES: list[str] = CORPUS["lookalikes"]


def test_corpus_is_large_enough() -> None:
    assert len(SECRETS) >= 60
    assert len({case["kind"] for case in SECRETS}) == len(SECRETS)
    assert len(LOOKALIKES) >= 20
    for case in SECRETS:  # a case whose secret is not in its text could never fail
        assert case["secret"] in case["text"], case["kind"]


@pytest.mark.parametrize("case", SECRETS, ids=[c["kind"] for c in SECRETS])
def test_secret_is_hidden(case: dict[str, str]) -> None:
    out = redact_text(case["text"])
    assert case["secret"] not in out
    assert "***" in out or "[REDACTED:" in out


@pytest.mark.parametrize("case", SECRETS, ids=[c["kind"] for c in SECRETS])
def test_secret_is_hidden_inside_json_documents(case: dict[str, str]) -> None:
    """As a value and as a key of a nested JSON document, and in its serialized text."""
    doc: Any = {"entries": [{"message": case["text"], case["text"]: 1}]}
    out = json.dumps(redact_obj(doc))
    assert case["secret"] not in out
    assert case["secret"] not in redact_text(json.dumps(doc))


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalike_stays(text: str) -> None:
    assert redact_text(text) == text
    assert redact_secrets(text) == text


def test_counts_and_terminal_colours() -> None:
    redactor = Redactor()
    redactor.text("DB_PASSWORD=abc1 and AKIAIOSFODNN7EXAMPLE")
    assert redactor.counts == {"secret-param": 1, "aws-access-key": 1}
    coloured = "\x1b[1mDB_PASSWORD=abc1\x1b[0m"
    assert redact_secrets(coloured) == "\x1b[1mDB_PASSWORD=***\x1b[0m"
    assert "\x1b" not in redact_text(coloured)


def test_zero_width_cannot_split_a_secret() -> None:
    assert "EXAMPLE" not in redact_text("AKIAIOSF\u200bODNN7EXAMPLE")


def test_tree_redacts_and_counts_every_occurrence_of_a_recurring_string() -> None:
    """tree() redacts a recurring string once: each occurrence (as a key or a value) is still
    hidden, and counted as if redacted on its own."""
    texts = [case["text"] for case in SECRETS[:10]]
    doc: Any = {"a": [*texts, *texts], "b": {t: t for t in texts}, "c": (texts[0], texts[0])}
    one_by_one = Redactor()
    expected = {
        "a": [one_by_one.text(t) for t in [*texts, *texts]],
        "b": {one_by_one.text(t): one_by_one.text(t) for t in texts},
        "c": [one_by_one.text(texts[0]), one_by_one.text(texts[0])],
    }
    tree = Redactor()
    assert tree.tree(doc) == expected
    assert tree.counts == one_by_one.counts
    assert sum(tree.counts.values()) >= 4 * len(texts)  # 42 occurrences, each hiding one or more
    out = json.dumps(expected)
    assert not any(case["secret"] in out for case in SECRETS[:10])
