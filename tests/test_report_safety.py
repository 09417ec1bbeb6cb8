"""Reports treat log text as hostile: secrets never leak, markup never executes, in any format.

A demo store plus every shape in tests/fixtures/secrets_corpus.jsonl (each carried by a line a
signature matches, and by a 503's request URL) is rendered to Markdown, HTML and JSON.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from forensics.incidents import load_registry
from forensics.paths import reports_dir
from forensics.report import render
from forensics.report.render import CSP
from forensics.store import open_store
from tests.reportdata import (
    DEMO_REGISTRY,
    HOSTILE_SERVICE,
    bare_entries,
    build_store,
    corpus,
    corpus_entries,
    report_context,
)

FORMATS = ("md", "html", "json")
SECRET_CASES = [c for c in corpus() if c["kind"] == "secret"]
INJECTIONS = [c for c in corpus() if c["kind"] == "injection"]
CONSOLE = "https://console.cloud.google.com/logs/query;"


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "store.duckdb"
    return build_store(path, entries=3000, extra=corpus_entries())


def _outputs(store_path: Path, **options: Any) -> dict[str, str]:
    with open_store(store_path) as store:
        context = report_context(store, examples_per_signature=500, **options)
    return {fmt: render(context, fmt) for fmt in FORMATS}


def _issue_links() -> set[str]:
    """Tracker links the report may carry: the registry's, not anything from the logs."""
    return {str(i.url) for i in load_registry(DEMO_REGISTRY).issues if i.url}


@pytest.fixture(scope="module")
def outputs(hostile_store: Path) -> dict[str, str]:
    return _outputs(hostile_store)


@pytest.fixture(scope="module")
def outputs_no_emails(hostile_store: Path) -> dict[str, str]:
    return _outputs(hostile_store, redact_emails=True)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", SECRET_CASES, ids=[c["id"] for c in SECRET_CASES])
def test_secret_is_redacted(outputs: dict[str, str], fmt: str, case: dict[str, Any]) -> None:
    text = outputs[fmt]
    # The line is in the report (by its insert_id), so absence of the secret means redaction.
    assert f"corpus-{case['id']}" in text
    for secret in case["secrets"]:
        assert secret not in text, f"{case['id']}: {secret!r} leaked into {fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_emails_hidden_only_on_request(
    outputs: dict[str, str], outputs_no_emails: dict[str, str], fmt: str
) -> None:
    assert "jane.doe@example.com" in outputs[fmt]
    assert "jane.doe@example.com" not in outputs_no_emails[fmt]
    assert "corpus-email" in outputs_no_emails[fmt]


def test_json_counts_what_it_redacted(outputs: dict[str, str]) -> None:
    report = json.loads(outputs["json"])
    counts = report["redactions"]
    kinds = ("jwt", "authorization", "google-api-key", "dsn-password", "private-key")
    kinds += ("secret-param",)
    for kind in kinds:
        assert counts.get(kind, 0) >= 1, kind
    assert "email" not in counts


class _Page(HTMLParser):
    """Collect every tag, attribute and text node of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


HTML_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "section",
    "h1", "h2", "h3", "h4", "div", "span", "p", "b", "code", "a", "table", "thead", "tbody",
    "tr", "th", "td", "ul", "ol", "li", "details", "summary", "dl", "dt", "dd", "br",
    "svg", "rect", "text", "line", "polyline", "path",
}  # fmt: skip
SWATCH_STYLE = re.compile(r"(background|border-color): #[0-9a-f]{6}")


def test_html_has_only_our_markup(outputs: dict[str, str]) -> None:
    page = _parse(outputs["html"])
    assert {tag for tag, _ in page.tags} <= HTML_TAGS
    csp = [
        a for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert [a["content"] for a in csp] == [CSP]
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            assert name not in ("src", "srcdoc", "formaction", "xlink:href"), (tag, name)
            assert "javascript:" not in (value or "").lower(), (tag, name, value)
            if name == "href":
                assert value and (
                    value.startswith(CONSOLE) or value.startswith("#") or value in _issue_links()
                ), value
            if name == "style":
                assert value and SWATCH_STYLE.fullmatch(value), value


@pytest.mark.parametrize("case", INJECTIONS, ids=[c["id"] for c in INJECTIONS])
def test_html_shows_injection_as_text(outputs: dict[str, str], case: dict[str, Any]) -> None:
    text = "".join(_parse(outputs["html"]).text)
    # ANSI colours are removed on ingest and control characters neutralised; the rest of the
    # text is shown as typed.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", case["text"])
    shown = re.sub(r"[\x00-\x1f\u202a-\u202e\u2066-\u2069]", "", plain)[:40]
    flat = re.sub(r"[\x00-\x1f\u202a-\u202e\u2066-\u2069\ufffd⏎]", "", text)
    assert shown.replace("\n", "") in flat.replace("\n", "")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_control_or_bidi_characters_survive(outputs: dict[str, str], fmt: str) -> None:
    assert "corpus-bidi" in outputs[fmt]
    assert not re.search(
        r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]", outputs[fmt]
    )


def test_hostile_service_name_is_a_label_not_markup(outputs: dict[str, str]) -> None:
    page = _parse(outputs["html"])
    assert any(HOSTILE_SERVICE in chunk for chunk in page.text)
    assert "<script>" not in outputs["html"].lower()


def _markdown_html(markdown: str) -> str:
    # Worst case: a renderer that lets raw HTML through (GitHub allows a subset of it).
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return md.render(markdown)


MD_TAGS = {
    "h1", "h2", "h3", "p", "strong", "em", "code", "pre", "a", "ul", "li", "table", "thead",
    "tbody", "tr", "th", "td", "blockquote", "details", "summary", "sub", "br",
}  # fmt: skip


def test_markdown_renders_log_text_inertly(outputs: dict[str, str]) -> None:
    page = _parse(_markdown_html(outputs["md"]))
    assert {tag for tag, _ in page.tags} <= MD_TAGS
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "a":
            href = attrs.get("href") or ""
            assert href.startswith(CONSOLE) or href in _issue_links(), attrs
    text = "".join(page.text)
    assert "<script>document.title='PWNED'" in text
    assert "[click me](javascript:window.__pwned=6)" in text
    # Only the report's own headings are headings: log text cannot start a Markdown block.
    html = _markdown_html(outputs["md"])
    headings = re.findall(r"<h[1-3]>(.*?)</h[1-3]>", html)
    assert len(headings) == len(re.findall(r"(?m)^#{1,3} ", outputs["md"]))
    assert not any("Fake heading" in h for h in headings)


def _cells(line: str) -> int:
    return len(re.split(r"(?<!\\)\|", line.strip())) - 2


def test_markdown_tables_keep_their_shape(outputs: dict[str, str]) -> None:
    header = None
    rows = 0
    for line in outputs["md"].splitlines():
        if not line.startswith("|"):
            header = None
            continue
        if header is None:
            header = _cells(line)
        elif not line.startswith("|---"):
            rows += 1
            assert _cells(line) == header, line
    assert rows > 10


def test_templates_never_mark_data_safe() -> None:
    for path in sorted(reports_dir().rglob("*.j2")):
        text = path.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), path
        assert not re.search(r"\{%-?\s*autoescape", text), path
        assert "Markup" not in text, path
        for use in re.findall(r"\{\{((?:(?!\{\{).)*?)\|\s*md_macro\s*\}\}", text):
            assert re.fullmatch(r"\s*(m\.)?\w+\(.*\)\s*", use), (path, use)


def test_unknown_templates_of_hostile_lines_are_inert(tmp_path: Path) -> None:
    store_path = build_store(tmp_path / "bare.duckdb", entries=2000, extra=bare_entries())
    rendered = _outputs(store_path)
    report = json.loads(rendered["json"])
    assert len(report["unknown_templates"]) >= 5
    page = _parse(rendered["html"])
    assert {tag for tag, _ in page.tags} <= HTML_TAGS
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    md = _parse(_markdown_html(rendered["md"]))
    assert {tag for tag, _ in md.tags} <= MD_TAGS
    for case in SECRET_CASES:
        for secret in case["secrets"]:
            assert all(secret not in text for text in rendered.values()), (case["id"], secret)
