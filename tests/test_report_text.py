"""Markdown escaping renders exactly the text it was given; redaction hides secrets, not prose."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from forensics.demo import generate_entries
from forensics.redact import Redactor, redact_text
from forensics.report.mdescape import md_block, md_code, md_text, one_line
from tests.reportdata import FIXTURES, corpus

ANSI = re.compile(r"\x1b\[[0-9;]*m")  # removed on ingest; the store never holds it
MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# Printable text with every Markdown-active character well represented.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\\`*_[](){}<>#+-.!|~$@&:;='\"/ \n\t0123456789aAzZ")),
        st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
    ),
    max_size=60,
)


def _text_of(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_md_text_renders_literally(value: str) -> None:
    rendered = MD.render(f"Note: {md_text(value)}")
    assert _text_of(rendered).strip() == f"Note: {one_line(value)}".strip()
    assert rendered.count("<p>") == 1 and "<a " not in rendered and "<img" not in rendered


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_md_text_alone_on_a_line_starts_no_block(value: str) -> None:
    rendered = MD.render(md_text(value) + "\n")
    expected = one_line(value)
    if expected:
        assert re.fullmatch(r"<p>.*</p>\n", rendered, re.S), rendered
        assert _text_of(rendered).strip() == expected.strip()


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_md_code_in_a_table_cell_is_one_cell_with_the_text(value: str) -> None:
    rendered = MD.render(f"| a | b |\n|---|---|\n| {md_code(value)} | end |\n")
    cells = re.findall(r"<td>(.*?)</td>", rendered, re.S)
    assert len(cells) == 2 and cells[1] == "end"
    expected = one_line(value)
    assert _text_of(cells[0]) == (expected if expected else "")


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT, max_size=4))
def test_md_block_keeps_every_line(lines: list[str]) -> None:
    rendered = MD.render(md_block(lines) + "\n\nafter\n")
    assert rendered.endswith("<p>after</p>\n")
    body = re.search(r"<pre><code[^>]*>(.*)</code></pre>", rendered, re.S)
    assert body is not None
    assert html.unescape(body.group(1)) == "".join(one_line(x) + "\n" for x in lines)


@pytest.mark.parametrize("case", corpus(), ids=[c["id"] for c in corpus()])
def test_redaction_is_idempotent_and_complete(case: dict[str, object]) -> None:
    once = redact_text(str(case["text"]), emails=True)
    assert redact_text(once, emails=True) == once
    for secret in case["secrets"]:  # type: ignore[attr-defined]
        assert secret not in once


def test_ordinary_log_text_is_left_alone() -> None:
    """The demo's day and the real staging sample hold no secret: nothing may be replaced,
    including the sample's own `Secret=REDACTED` scrubbing and `"key": "latest"` fields."""
    redactor = Redactor()
    demo = [json.dumps(e) for e in generate_entries(6000, end=datetime(2025, 9, 17, tzinfo=UTC))]
    real = (FIXTURES / "real_staging_sample.jsonl").read_text(encoding="utf-8").splitlines()
    for line in demo + real:
        entry = json.loads(line)
        payload = entry.get("jsonPayload", entry.get("protoPayload", ""))
        text = ANSI.sub("", entry.get("textPayload") or json.dumps(payload))
        assert redactor.text(text) == text
    assert not redactor.counts


@pytest.mark.parametrize(
    "prose",
    [
        "Token validation failed for user 42",
        "Using cached token validation due to auth service unavailability",
        "Basic authentication is disabled",
        "cache key: user:42 evicted",
        "test pass: 3 of 5",
        "signature=cloudrun/http-503 matched",
        "Service Secret=REDACTED True",
        '{"secretKeyRef": {"key": "latest", "name": "jwt-secret-key-staging"}}',
        "Container called exit(3).",
    ],
)
def test_prose_that_mentions_secrets_is_not_mangled(prose: str) -> None:
    assert redact_text(prose) == prose
