"""Hostile texts for redaction's cost: each shape made a 0.4.0 rule O(n^2) (or worse).

Used by tests/test_redact_linear.py (a child must redact them all within a time limit) and
benchmarks/bench_redact.py (MB/s at 1k, 10k and 100k characters). Each text is about ``n``
characters of its shape, then a secret (`hunter2`) the redaction must hide.
"""

from __future__ import annotations

from collections.abc import Callable

SECRET = " x token=hunter2 end"


def _falling_escapes(n: int) -> str:
    """`password: \\\\\\"` with one backslash fewer each time: no opening quote ever closes."""
    out: list[str] = []
    steps = size = 1
    while size < n:
        out.append("password: " + "\\" * steps + '"')
        size += len(out[-1])
        steps += 1
    return "".join(reversed(out))


_RUNS = {
    "camel run": "aB",
    "camel run before a word": "aBcD1x",
    "separator run _": "a_",
    "separator run -": "a-",
    "separator run .": "a.",
    "mixed separators": "ab_c.D-e",
    "short words in a run": "aPass",
    "repeated key=": "token=",
    "repeated key: quote": 'password: "',
    "repeated escaped key": '\\"api_key\\": \\"',
    "tag openings": "<",
    "jwt-like run": "eyJa-",
    "jwt-like dotted": "eyJaaaa.",
    "base64 run": "QUJDRA+/",
    "e-mail local run": "a.b%",
    "scheme run": "a+b.",
}
_BUILT: dict[str, Callable[[int], str]] = {
    "unclosed quotes of falling escapes": _falling_escapes,
    "long escaped quote": lambda n: (
        "password: " + "\\" * (n // 2) + '"' + "\\" * (n // 2 - 1) + "x"
    ),
    "tag of a camel run": lambda n: "<" + "aB" * (n // 2) + "password>x</x>",
    "whitespace after a name": lambda n: "password" + " " * n + "x",
}


def hostile_texts(n: int) -> dict[str, str]:
    """Each shape's text of about ``n`` characters, the secret at its end."""
    texts = {name: unit * (n // len(unit)) for name, unit in _RUNS.items()}
    texts |= {name: build(n) for name, build in _BUILT.items()}
    return {name: text + SECRET for name, text in texts.items()}
