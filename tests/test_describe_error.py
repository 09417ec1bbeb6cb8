"""An API error is described in one line: a gap's reason and a retry's progress line are read in
a terminal and a report, where an HTML error page (a proxy's 502) would be a page of markup."""

from __future__ import annotations

from google.api_core import exceptions as gexc

from forensics.collectors.pacing import RetriesExhausted, describe_error

_PAGE = """<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <title>Error 502 (Server Error)!!1</title>
  <p><b>502.</b> <ins>That's an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.
  <p>Please try again in 30 seconds.  <ins>That's all we know.</ins>
</html>"""


def test_an_html_error_page_is_one_line_of_its_text() -> None:
    said = describe_error(gexc.BadGateway(_PAGE))
    assert "\n" not in said and "<" not in said
    assert said.startswith("502 BadGateway: ")
    assert "could not complete your request" in said
    assert "\n" not in str(RetriesExhausted(gexc.BadGateway(_PAGE), 1))


def test_a_long_error_is_cut_and_says_so() -> None:
    said = describe_error(RuntimeError("x" * 1000))
    assert len(said) <= 300 and said.endswith("…")
