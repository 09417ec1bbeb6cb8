"""The bulk NDJSON reader (forensics.ndjson) cuts exactly the lines a plain split would.

Chunks are made tiny so that lines, CRLF pairs, multi-byte characters and the byte order
mark straddle chunk boundaries; the expected lines come from Python's own split of the
decoded text, not from the reader.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics import ndjson
from forensics.limits import MAX_DEPTH, MAX_FIELD_CHARS, screen
from forensics.readers import read_batches

_LINES = st.one_of(
    st.just(""),
    st.sampled_from(["  ", "\t", "[1]", "{not json", '{"a": "\\u00e9"}', "null"]),
    st.dictionaries(st.sampled_from(["a", "é", "x y"]), st.text(max_size=12), max_size=3).map(
        lambda d: json.dumps(d, ensure_ascii=False)
    ),
)


def _read(path: Path, batch_size: int) -> tuple[list[int], list[str], int]:
    numbers: list[int] = []
    texts: list[str] = []
    entries = 0
    for batch in read_batches(path, batch_size):
        assert len(batch) <= batch_size
        numbers += batch.line_nos
        texts += batch.texts
        entries += batch.entries
    return numbers, texts, entries


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(_LINES, min_size=1, max_size=30),
    crlf=st.booleans(),
    bom=st.booleans(),
    final_newline=st.booleans(),
    chunk=st.sampled_from([1, 2, 3, 7, 64]),
    batch_size=st.sampled_from([1, 3, 8192]),
)
def test_lines_match_a_plain_split(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    crlf: bool,
    bom: bool,
    final_newline: bool,
    chunk: int,
    batch_size: int,
) -> None:
    lines = ['{"first": 1}', *lines]  # the format is told by the first line
    end = "\r\n" if crlf else "\n"
    body = end.join(lines) + (end if final_newline else "")
    path = tmp_path_factory.mktemp("nd") / "x.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode())
    expected = body.split("\n")
    if body.endswith("\n"):
        expected.pop()  # nothing after the last line end
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ndjson, "CHUNK", chunk)
        numbers, texts, entries = _read(path, batch_size)
    # Every path hands on the line without its end (a CR before the LF is the line's own).
    assert texts == expected
    assert numbers == list(range(1, len(expected) + 1))
    blank = sum(1 for line in expected if not line.strip(" \t\r\n"))
    assert len(expected) - blank <= entries <= len(expected)


@pytest.mark.parametrize("chunk", [5, 1 << 20])
def test_checks_send_odd_chunks_through_the_screen(tmp_path: Path, chunk: int) -> None:
    """Invalid UTF-8, a long string and deep nesting each take the per-entry path."""
    ok = json.dumps({"textPayload": "fine"})
    long = json.dumps({"textPayload": "y" * (MAX_FIELD_CHARS + 10)})
    deep = '{"jsonPayload": ' + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "}"
    body = "\n".join([ok, long, ok, deep, ok]).encode() + b"\n" + b'{"t": "caf\xe9"}\n'
    path = tmp_path / "odd.jsonl.gz"
    path.write_bytes(gzip.compress(body))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ndjson, "CHUNK", chunk)
        batches = list(read_batches(path, 4))
    texts = [t for b in batches for t in b.texts]
    problems = [p for b in batches for rb in b.record_batches() for p in rb.column(2).to_pylist()]
    assert texts[0] == ok
    assert texts[5] == '{"t": "caf\ufffd"}'  # replaced, as a text decoder would
    assert problems[3] == f"nested deeper than {MAX_DEPTH} levels; not loaded"
    assert texts[1].endswith('characters in all]"}')  # cut by the screen
    notes: list[tuple[int, str]] = []
    for batch in batches:
        batch.record_batches(notes)
    assert [line for line, _ in notes] == [2] and "cut to" in notes[0][1]


def test_a_line_of_many_brackets_alone_takes_the_per_entry_path(tmp_path: Path) -> None:
    """Only the line that may nest too deep is screened; its neighbours stay in bulk spans.

    A real export holds entries of 100+ brackets every few thousand lines: before, each one
    sent its whole chunk (4 MiB of entries) through Python strings, one by one.
    """
    ok = json.dumps({"textPayload": "fine"})
    wide = json.dumps({"jsonPayload": [[1]] * (MAX_DEPTH + 5)})  # many brackets, depth 3
    deep = '{"p": ' + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "}"
    lines = [ok, ok, wide, ok, deep, deep, ok, ok]
    path = tmp_path / "brackets.jsonl"
    path.write_text("\n".join(lines) + "\n")
    groups = list(ndjson._groups(path))
    bulk = [g.first_line + i for g in groups if isinstance(g, ndjson._Span) for i in range(g.count)]
    # Every line but those of more than MAX_DEPTH brackets (and the first, which ends the
    # chunk's carried-in line) stays in bulk.
    assert bulk == [2, 4, 7, 8]
    assert sum(len(g.lines) if isinstance(g, ndjson._Lines) else g.count for g in groups) == 8
    numbers, texts, entries = _read(path, 3)
    # The same as the per-entry path gives the file's lines one by one.
    assert (numbers, texts, entries) == (list(range(1, 9)), screen(lines).texts, 8)
    problems = [
        p
        for b in read_batches(path, 3)
        for rb in b.record_batches()
        for p in rb.column(2).to_pylist()
    ]
    assert [i + 1 for i, p in enumerate(problems) if p] == [5, 6]
