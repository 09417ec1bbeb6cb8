"""The demo's HTML report in a real headless Chromium: it renders, nothing runs, nothing errs.

Chromium comes from the Debian packages `chromium` and `chromium-driver`
(scripts/install-browser.sh). The test is skipped only when no Chromium binary exists.
A screenshot is written to the test's tmp directory, and to $FORENSICS_ARTIFACTS when set.
"""

from __future__ import annotations

import os
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from forensics.report import render_html
from forensics.store import open_store
from tests.cdp import Browser, find_chromium
from tests.reportdata import build_store, corpus_entries, report_context

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium binary (chromium, chromium-browser or $CHROMIUM): install the Debian "
    "packages chromium and chromium-driver, e.g. with scripts/install-browser.sh",
)

# Evaluated in the page after load; every key is a fact the test asserts on.
PROBE = """(() => {
  const attrs = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const active = a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value);
      if (active) attrs.push(el.tagName + ' ' + a.name);
    }
  }
  return {
    title: document.title,
    pwned: typeof window.__pwned,
    scripts: document.scripts.length,
    handlers: attrs,
    svgBars: document.querySelectorAll('svg.timeline rect[fill]').length,
    lanes: document.querySelectorAll('svg.timeline rect.lane').length,
    issueRows: document.querySelectorAll('table.issues tbody tr').length,
    issuesSection: !!document.querySelector('section#issues'),
    evidenceRows: document.querySelectorAll('table.evidence tbody tr').length,
    text: document.body.textContent,
    scrollWidth: document.documentElement.scrollWidth,
  };
})()"""


class _Title(HTMLParser):
    """The document's <title> (the first one; SVG elements have titles too)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.done = False
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = tag == "title" and not self.done

    def handle_endtag(self, tag: str) -> None:
        self.done = self.done or self.inside
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.title += data


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("browser")
    store_path = build_store(root / "store.duckdb", entries=4000, extra=corpus_entries())
    with open_store(store_path) as store:
        context = report_context(store, examples_per_signature=40)
    page = root / "report.html"
    page.write_text(render_html(context), encoding="utf-8")
    return page, context


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_demo_report_in_headless_chromium(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    page, context = report
    parser = _Title()
    parser.feed(page.read_text(encoding="utf-8"))
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.navigate(page.resolve().as_uri(), width=1400)
        facts = browser.evaluate(PROBE)
        errors = browser.console_errors()
        shot = tmp_path / "report.png"
        browser.screenshot(shot, width=1400)
    assert errors == []
    # Injected <script>, handlers and javascript: URLs are text, so nothing ran.
    assert facts["title"] == parser.title.strip() and "PWNED" not in facts["title"]
    assert facts["pwned"] == "undefined"
    assert facts["scripts"] == 0
    assert facts["handlers"] == []
    assert "<script>document.title='PWNED';window.__pwned=1</script>" in facts["text"]
    # The page shows what a reviewer needs: the timeline, the issues, evidence lines.
    assert facts["lanes"] == len(context["chart"]["lanes"]) >= 2
    assert facts["svgBars"] > 20
    assert facts["issuesSection"]
    assert facts["issueRows"] == len(context["issues"])
    assert facts["evidenceRows"] > 0
    assert facts["scrollWidth"] <= 1400, "the page must not scroll sideways at 1400 px"
    width, height = _png_size(shot)
    assert width == 1400 and height > 1500
    artifacts = os.environ.get("FORENSICS_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / "report.png")
        shutil.copy(page, Path(artifacts) / "report.html")
