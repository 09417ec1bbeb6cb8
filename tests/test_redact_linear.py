"""Redaction costs time linear in the text, and hides what the 0.4.0 rules hid.

The secret-name, JWT, DSN and e-mail rules and quoted values were rewritten so that no start of
a search rescans what another start scanned (forensics/redact_names.py). Each rewritten rule
must replace exactly what its 0.4.0 regex replaced (tests/redact_reference.py), on texts built
from the pieces those rules turn on; and large hostile texts of every shape that made a 0.4.0
rule quadratic must be redacted by a child process within a time limit that quadratic cost
overruns by orders of magnitude (a hang becomes a failure, not a stuck suite).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.redact import _COMPILED_EMAIL
from forensics.redact_names import _Quotes

from .hostile_texts import hostile_texts
from .redact_reference import REFERENCE, rewritten

CORPUS = json.loads((Path(__file__).parent / "hostile" / "secrets.json").read_text())
PIECES = [c["text"] for c in CORPUS["secrets"]] + list(CORPUS["lookalikes"])
# What the name, quote, JWT, DSN and e-mail rules turn on: secret words in every case (and the
# characters Unicode folds onto ASCII letters), separators, camel humps, quotes with and
# without backslashes, tags, placeholders.
_BITS = [
    *("password", "PASSWORD", "Password", "pass", "Pass", "PASS", "pwd", "sid", "Sid"),
    *("session", "Session", "auth", "cookie", "token", "Token", "secret", "Secret"),
    *("secret_key", "SECRET-KEY", "secret.key_base", "api_key", "apiKey", "apikey"),
    *("access_key_id", "shared_access_key", "credentials", "session_id", "sessionid"),
    *("pa\u017f\u017f", "\u212aey", "\u0130", "\u0131", "passphrase", "passwd", "private_key"),
    *("a", "B", "x", "Z", "9", "0", "db", "DB", "client", "smtp", "by", "com", "_", ".", "-"),
    *("--", "__", "=", ":", " = ", ": ", " ", "\t", "\n", "\r", '"', "'", '\\"', '\\\\"', "\\"),
    *("<", ">", "</", "***", "[REDACTED", "null", "$1", "${x}", "%s", "?", ":x", "{", "v4l"),
    *("eyJ", "eyJhbGci", "://", "@", ".com", "e.x", "+", "%", "&", ",", ";", "\x1b"),
]
# A name-value pair as the name rules see it: what precedes the word (dashes, prefixes, camel
# humps, a tag's `<`), the word, a separator, a value (quoted with and without backslashes,
# empty, unclosed, across a line, a placeholder, a closing tag).
_BEFORE = ["", "a", "B", "9", "db", "DB", "x_", "a_", "_", "-", "--", "---", ".", "aB", "9B"]
_BEFORE += ["a__", "a-_", "\u00e9", "\u017f", "<", "<-", "<--", "<---", "<a_", "<aB", "\\"]
_WORDS = ["password", "Password", "PASS", "pass", "Pass", "sid", "Auth", "token", "Secret"]
_WORDS += ["secret_key", "apiKey", "api-key", "Session", "pwd", "cookie", "credentials"]
_SEPARATORS = ["=", ":", " = ", ": ", '":"', '": "', '\\":\\"', "'='", ">", '"=', "\t:\t"]
_SEPARATORS += ['\\\\":', "\\'=", " :", "= "]
_VALUES = ['"x"', '""', "'x'", "''", '\\"x\\"', '\\\\"x\\\\"', '\\\\"x\\"', '\\"x\\\\"']
_VALUES += ['"x', "x", "***", "null", '"x\ny"', '"x\ry"', "$1", "{", "x</password>", "x</x>"]
_VALUES += ["'x\"y'", '"\\\\"', '"x""', "x y", ":x", "%s", "?"]
_pair = st.tuples(*(st.sampled_from(bits) for bits in (_BEFORE, _WORDS, _SEPARATORS, _VALUES)))
# A tag and its closing tag (`<db_password>x</db_password>`): the whole name must be one.
_TAG_PREFIXES = ["", "-", "--", "---", "a_", "aB", "-a-", "a__", "_", "9", "a-B", "x.y_", "\u212a"]
_tag = st.tuples(st.sampled_from(_TAG_PREFIXES), st.sampled_from(_WORDS)).map(
    lambda t: f"<{t[0]}{t[1]}>x</{t[0]}{t[1]}>"
)
# JWTs, e-mail addresses and DSNs after what may or may not start a run (`\\b`): a word
# character outside the run's class, a separator inside it.
_BEFORE_TOKEN = ["", "a", "-", "a-", "\u00e9", "_", "x.", "+", "%", "a.b-", "9"]
_TOKENS = ["eyJhbGci.eyJzdWIi.sig", "eyJab.cd.e", "eyJabcd.efgh", "x@ex.com", "u.v%w@ex.com"]
_TOKENS += [
    "x@y@z.com",
    "x@a.b.c1",
    "a+b://u:p@h",
    "x://u:p@h/",
    "sql://:p@h",
    "eyJabcd-eyJabcd.efgh.",
]
_token = st.tuples(st.sampled_from(_BEFORE_TOKEN), st.sampled_from(_TOKENS)).map("".join)
_text = st.one_of(
    st.lists(_token, min_size=1, max_size=3).map(" ".join),
    st.lists(st.one_of(_tag, _pair.map("".join)), min_size=1, max_size=3).map("".join),
    st.lists(_pair.map("".join), min_size=1, max_size=4).map(" ".join),
    st.lists(st.one_of(_pair.map("".join), st.sampled_from(_BITS)), max_size=8).map("".join),
    st.lists(st.sampled_from(_BITS), max_size=24).map("".join),
    st.lists(st.one_of(st.sampled_from(PIECES), st.sampled_from(_BITS)), max_size=6).map("".join),
)


def test_the_reference_holds_the_rewritten_rules_in_order() -> None:
    assert [kind for kind, *_ in rewritten(_COMPILED_EMAIL)] == [kind for kind, *_ in REFERENCE]


@settings(max_examples=3000, deadline=None)
@given(_text)
def test_every_rewritten_rule_replaces_what_it_replaced_in_040(text: str) -> None:
    for (kind, pattern, repl, _needle), (_kind, old, old_repl) in zip(
        rewritten(_COMPILED_EMAIL), REFERENCE, strict=True
    ):
        assert pattern.subn(repl, text) == old.subn(old_repl, text), kind


def test_every_pinned_shape_is_replaced_as_in_040() -> None:
    for text in PIECES:
        for (kind, pattern, repl, _needle), (_kind, old, old_repl) in zip(
            rewritten(_COMPILED_EMAIL), REFERENCE, strict=True
        ):
            assert pattern.subn(repl, text) == old.subn(old_repl, text), (kind, text)


def test_large_hostile_texts_are_redacted_in_linear_time() -> None:
    """Every shape at 200,000 characters (4 MB) in one child with 60 s: at O(n) they take a
    few seconds; at the 0.4.0 rules' O(n^2) one 4,000-character camel run took 3 s, so one
    shape would take hours. The child names each text as it finishes: a hang names its shape."""
    texts = hostile_texts(200_000)
    code = (
        "import json, sys\n"
        "from forensics.redact import Redactor\n"
        "redactor = Redactor(emails=True)\n"
        "for name, text in json.load(sys.stdin).items():\n"
        "    print(json.dumps([name, 'hunter2' in redactor.text(text)]), flush=True)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(texts),
            timeout=60,
            check=False,
            capture_output=True,
            text=True,
        )
    except subprocess.TimeoutExpired as hang:
        out = hang.stdout.decode() if isinstance(hang.stdout, bytes) else hang.stdout or ""
        finished = [json.loads(line)[0] for line in out.splitlines()]
        pytest.fail(f"redaction hung on {[n for n in texts if n not in finished][:1]}")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        [name, False] for name in texts
    ]


def test_a_quote_index_asked_out_of_order_still_answers_right() -> None:
    """QuotedField asks left to right; asked otherwise the index rewinds, never answers wrong."""
    text = 'a: "one" b: \\"two\\" c: "three'
    quotes = _Quotes(text)
    openings = [(3, 4), (12, 14), (23, 24)]  # `"`, `\"`, `"` (never closed)
    in_order = [quotes.close(s, e, text) for s, e in openings]
    assert in_order == [8, 19, None]
    assert [_Quotes(text).close(s, e, text) for s, e in openings] == in_order
    assert [quotes.close(s, e, text) for s, e in reversed(openings)] == in_order[::-1]
