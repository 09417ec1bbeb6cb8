"""The redaction's per-rule pre-checks skip only rules that could not match: same output.

Each rule runs only when the text holds its needle (a literal it cannot match without); the
texts here mix the pinned secret shapes and look-alikes of tests/hostile/secrets.json with
random noise, cut at random places, and every one must redact exactly as with every rule run.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.redact import _COMPILED_EMAIL, Redactor

CORPUS = json.loads((Path(__file__).parent / "hostile" / "secrets.json").read_text())
PIECES = [c["text"] for c in CORPUS["secrets"]] + list(CORPUS["lookalikes"])


def _every_rule(value: str) -> str:
    for _kind, pattern, repl, _needle in _COMPILED_EMAIL:
        value = pattern.sub(repl, value)
    return value


_piece = st.one_of(
    st.sampled_from(PIECES),
    st.sampled_from(PIECES).flatmap(lambda p: st.integers(0, len(p)).map(lambda i: p[i:])),
    st.sampled_from(PIECES).flatmap(lambda p: st.integers(0, len(p)).map(lambda i: p[:i])),
    st.text(alphabet="abcXYZ019 =:@-_./<>?&\"'{}\u017f\u212a", max_size=12),
    # Unicode case folding: under (?i) `ſ` matches `s` and the Kelvin sign `k`.
    st.sampled_from(
        ["PA\u017f\u017fWORD=hunter2x", "api_\u212aey: s3cr3tvalue", "passw\u00f6rd=x"]
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_piece, min_size=1, max_size=4).map("".join))
def test_needles_skip_only_rules_that_cannot_match(text: str) -> None:
    assert Redactor(emails=True).secrets(text) == _every_rule(text)


def test_every_pinned_shape_redacts_as_with_every_rule() -> None:
    for text in PIECES:
        assert Redactor(emails=True).secrets(text) == _every_rule(text), text


def test_a_long_camel_case_run_is_redacted_in_linear_time() -> None:
    """A run of camel humps before a secret word made the name rules backtrack exponentially
    (hypothesis found it on a JWT suffix; 40 characters took 10 s, a log line could hang every
    output). A child process with a time limit turns the hang into a failure."""
    import subprocess
    import sys

    line = "aB" * 200 + "x token=hunter2 " + "NiIsInR5cCI6IkpXVCJ9dozjgNryP4J3jVmNHl0w5N" * 5
    code = f"from forensics.redact import Redactor; print(Redactor().secrets({line!r}))"
    done = subprocess.run(
        [sys.executable, "-c", code], timeout=60, check=False, capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "hunter2" not in done.stdout
