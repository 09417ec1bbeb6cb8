"""Hostile and careless exports (issue 12): nothing crashes, every valid entry is kept.

Each case writes a file from the failure's description (not from what the code does), ingests
it next to a good file, and states what must be kept, what must be rejected and by which name.
The same files go through `forensics classify`.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forensics.cli import app
from forensics.ingest import ingest_files, ingest_texts
from forensics.limits import MAX_DEPTH, MAX_FIELD_CHARS, TRUNCATION_MARK
from forensics.schema import SEVERITY_LEVELS
from forensics.signatures import classify_files, load_catalog
from forensics.store import Store, open_store


def entry(i: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "logName": "projects/demo/logs/run.googleapis.com%2Fstderr",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
        "timestamp": f"2025-09-16T10:{i // 60 % 60:02d}:{i % 60:02d}.123456789Z",
        "insertId": f"hostile-{i}",
        "severity": "ERROR",
        "textPayload": f"entry {i}",
    }
    base.update(extra)
    return base


def lines(*entries: Any) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries)


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@dataclass(frozen=True)
class Case:
    """One hostile file: how to write it, which ids must be kept, which problems named."""

    name: str
    write: Callable[[Path], None]
    kept: tuple[str, ...]
    problems: tuple[str, ...] = ()  # substrings of the rejections, in line order
    error: str | None = None  # substring of the one whole-file error, if the file is damaged


def _text(content: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(content, encoding="utf-8", newline="")


def _bytes(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def _ids(*numbers: int) -> tuple[str, ...]:
    return tuple(f"hostile-{n}" for n in numbers)


_DEEP_PAYLOAD = '{"logName": "projects/demo/logs/x", "timestamp": "2025-09-16T10:00:00Z", '
_DEEP_PAYLOAD += '"insertId": "hostile-deep", "jsonPayload": {"a": ' + deep(10_000) + "}}"

CASES = [
    Case(
        "utf8-bom-ndjson",
        _bytes(b"\xef\xbb\xbf" + lines(entry(1), entry(2)).encode()),
        _ids(1, 2),
    ),
    Case(
        "utf8-bom-array",
        _bytes(b"\xef\xbb\xbf" + json.dumps([entry(1), entry(2)]).encode()),
        _ids(1, 2),
    ),
    Case(
        "cr-only-endings",
        _text(lines(entry(1), entry(2), entry(3)).replace("\n", "\r")),
        _ids(1, 2, 3),
    ),
    Case("crlf-endings", _text(lines(entry(1), entry(2)).replace("\n", "\r\n")), _ids(1, 2)),
    Case(
        "deep-nesting-ndjson",
        _text(lines(entry(1), _DEEP_PAYLOAD, entry(3))),
        _ids(1, 3),
        (f"nested deeper than {MAX_DEPTH} levels",),
    ),
    Case(
        "deep-nesting-array",
        _text(
            "[" + json.dumps(entry(1)) + ",\n" + _DEEP_PAYLOAD + ",\n" + json.dumps(entry(3)) + "]"
        ),
        _ids(1, 3),
        (f"nested deeper than {MAX_DEPTH} levels",),
    ),
    Case(
        "deep-bare-array-element",
        _text(
            "[" + json.dumps(entry(1)) + ",\n" + deep(10_000) + ",\n" + json.dumps(entry(3)) + "]"
        ),
        _ids(1, 3),
        (f"nested deeper than {MAX_DEPTH} levels",),
    ),
    Case(
        "junk-first-lines",
        _text("null\n" + lines(entry(1)) + ": stray text\n" + lines(entry(2))),
        _ids(1, 2),
        ("not a LogEntry object", "not valid JSON"),
    ),
    Case("text-first-line", _text("exported by hand\n" + lines(entry(1))), _ids(1), ("not valid",)),
    # DuckDB quotes the first 50 bytes of a line that is not JSON in its error message; a
    # character cut there made the message undecodable, so the driver raised UnicodeDecodeError
    # (found by tests/test_hostile_properties.py in CI). One case per place the cut can fall.
    *(
        Case(
            f"non-json-multibyte-cut-{shift}",
            _text(lines(entry(1)) + "0" * shift + "\u20ac" * 30 + "\n" + lines(entry(2))),
            _ids(1, 2),
            ("not valid JSON",),
        )
        for shift in range(3)
    ),
    Case(
        "array-first-line",
        _text("[1, 2]\n" + lines(entry(1), entry(2))),
        _ids(1, 2),
        ("not a LogEntry object (an array)",),
    ),
    Case(
        "deep-array-first-line",
        _text(deep(3000) + "\n" + lines(entry(1))),
        _ids(1),
        (f"nested deeper than {MAX_DEPTH} levels",),
    ),
    # One malformed element in an array is rejected by name; the array is read on past it (the
    # whole rest of the file was lost: "the array cannot be read past this point").
    Case(
        "array-malformed-object-element",
        _text(
            "["
            + json.dumps(entry(1))
            + ',\n{"insertId": "broken",, "x": [1, "]"]},\n'
            + json.dumps(entry(3))
            + "]"
        ),
        _ids(1, 3),
        ("not valid JSON",),
    ),
    Case(
        "array-bare-junk-element",
        _text("[" + json.dumps(entry(1)) + ",\noops,\n" + json.dumps(entry(3)) + "]"),
        _ids(1, 3),
        ("not valid JSON",),
    ),
    Case(
        "array-double-comma",
        _text("[" + json.dumps(entry(1)) + ",,\n" + json.dumps(entry(3)) + "]"),
        _ids(1, 3),
        ("not valid JSON",),
    ),
    Case(
        "array-junk-after-element",
        _text("[" + json.dumps(entry(1)) + " x,\n" + json.dumps(entry(3)) + "]"),
        _ids(1, 3),
        ("not valid JSON",),
    ),
    Case(
        "concatenated-arrays",
        _text(json.dumps([entry(1)], indent=2) + "\n" + json.dumps([entry(2), entry(3)], indent=2)),
        _ids(1, 2, 3),
    ),
    Case(
        "garbage-after-array",
        _text(json.dumps([entry(1), entry(2)], indent=2) + "\n{oops"),
        _ids(1, 2),
        error="unexpected '{' after the JSON array's closing ']'",
    ),
    Case(
        "plain-text-log",
        _text("03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs\n" * 50),
        (),
        error="line 1: not a log export",
    ),
    Case(
        "timestamps-out-of-rfc3339",
        _text(
            lines(
                entry(1),
                entry(2, timestamp="0000-01-01T00:00:00Z"),
                entry(3, timestamp="10000-01-01T00:00:00Z"),
                entry(4, timestamp="-0001-01-01T00:00:00Z"),
                entry(5, timestamp="2025-09-16T10:00:00+25:00"),
                entry(6, timestamp="2025-09-16T10:00:00"),
                entry(7, timestamp="2025-09-16 10:00:00Z"),
                entry(8, timestamp="2025-09-16t10:00:00z"),
                entry(9, timestamp="2025-09-16T10:00:00+02:00"),
                entry(10, receiveTimestamp="0000-01-01T00:00:00Z"),
            )
        ),
        _ids(1, 8, 9),
        (
            "field timestamp: year 0000 is outside 0001-9999",
            "field timestamp: not an RFC 3339 time",
            "field timestamp: not an RFC 3339 time",
            "field timestamp: offset +25:00 is outside -23:59..+23:59",
            "field timestamp: not an RFC 3339 time",  # no offset
            "field timestamp: not an RFC 3339 time",  # space for T
            "field receiveTimestamp: year 0000 is outside 0001-9999",
        ),
    ),
    Case(
        "wrong-types",
        _text(
            lines(
                entry(1, httpRequest={"status": 200, "latency": "0.25s"}),
                entry(2, httpRequest={"status": 200.5}),
                entry(3, insertId={"a": 1}),
                entry(4, httpRequest={"status": 200, "latency": 5}),
                entry(5, httpRequest={"status": "503"}),
                entry(6, httpRequest={"status": True}),
                entry(7, trace={"id": 1}),
                entry(8, insertId=12345),
                entry(9, httpRequest={"status": 200, "latency": "soon"}),
            )
        ),
        _ids(1, 5),
        (
            "field httpRequest.status: expected an integer, got 200.5",
            "field insertId: expected a string, got an object",
            "field httpRequest.latency: expected a duration",
            "field httpRequest.status: expected an integer, got a boolean",
            "field trace: expected a string, got an object",
            "field insertId: expected a string, got a number",
            "field httpRequest.latency: expected a duration",
        ),
    ),
    Case(
        # Strings whose text reads as another JSON type are kept; each other type is named.
        # The quick checks look at the first character: digits, "-", "[", "{", true/false.
        "string-look-alikes",
        _text(
            lines(
                entry(1, trace="123", spanId="-1.5"),
                entry(2, trace="[1, 2]", spanId="true", textPayload="{not json"),
                entry(3, textPayload='{"a": 1}', spanId="0x1f", trace=":9"),
                entry(4, spanId=[1]),
                entry(5, trace=-3),
                entry(6, spanId=False),
                entry(7, textPayload={"a": 1}),
                entry(8, trace=9.5),
                entry(9, logName=["projects/demo/logs/x"]),
                entry(10, spanId=0),
            )
        ),
        _ids(1, 2, 3),
        (
            "field spanId: expected a string, got an array",
            "field trace: expected a string, got a number",
            "field spanId: expected a string, got a boolean",
            "field textPayload: expected a string, got an object",
            "field trace: expected a string, got a number",
            "field logName: expected a string, got an array",
            "field spanId: expected a string, got a number",
        ),
    ),
]


def _stored_ids(store: Store) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT insert_id FROM entries").fetchall()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_file_keeps_every_valid_entry(store: Store, tmp_path: Path, case: Case) -> None:
    path = tmp_path / f"{case.name}.json"
    case.write(path)
    after = tmp_path / "after.jsonl"
    after.write_text(lines(entry(999)))
    result = ingest_files(store, [path, after])
    assert _stored_ids(store) == {*case.kept, "hostile-999"}
    problems = [r.problem for r in result.rejections]
    assert len(problems) == len(case.problems), problems
    for said, expected in zip(problems, case.problems, strict=True):
        assert expected in said
        assert "\n" not in said
    if case.error:
        assert len(result.errors) == 1 and case.error in result.errors[0]
    else:
        assert result.errors == []
    # classify reads the same file the same way: one result per entry, the same ones valid
    run = classify_files([path], load_catalog())
    valid = {r.insert_id for r in run.results if r.error is None}
    assert valid == set(case.kept)
    # ... and names each rejected entry's problem as ingest does (a screened-out entry was
    # reported as "field logName: missing")
    named = [r.error for r in run.results if r.error is not None]
    assert len(named) == len(case.problems), named
    for said, expected in zip(named, case.problems, strict=True):
        assert expected in said


def test_wrong_types_keep_values_faithfully(store: Store) -> None:
    """A string status is an integer in proto3 JSON; it is stored as that integer, not rounded."""
    texts = [json.dumps(entry(1, httpRequest={"status": "503", "latency": "1.5s"}))]
    assert ingest_texts(store, texts, "t").accepted == 1
    row = store.conn.execute("SELECT http_status, http_latency_ms FROM entries").fetchone()
    assert row == (503, 1500.0)


def test_severity_as_its_enum_number_is_kept_as_its_name(store: Store, tmp_path: Path) -> None:
    """proto3 JSON writes an enum by name, and its parsers take the number too: a LogEntry whose
    severity is 500 is an ERROR entry (protojson with enum numbers, hand-written fixtures). It
    was rejected as "unknown LogSeverity 500", by ingest (both readers) and classify; a number
    LogSeverity does not define is still refused by name."""
    numbered = [entry(i, severity=num) for i, num in enumerate(SEVERITY_LEVELS.values())]
    unknown = entry(99, severity=7)
    path = tmp_path / "numbers.jsonl"
    path.write_text(lines(*numbered, unknown), encoding="utf-8")
    result = ingest_files(store, [path])
    assert result.accepted == len(numbered)
    assert [r.problem for r in result.rejections] == ["field severity: unknown LogSeverity 7"]
    rows = store.conn.execute(
        "SELECT insert_id, severity, severity_number FROM entries ORDER BY severity_number"
    ).fetchall()
    levels = SEVERITY_LEVELS.items()
    assert rows == [(e["insertId"], *lv) for e, lv in zip(numbered, levels, strict=True)]
    # the careful reader (a CRLF file) and classify say the same
    crlf = tmp_path / "numbers-crlf.jsonl"
    crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    with open_store(tmp_path / "careful.duckdb") as careful:
        assert ingest_files(careful, [crlf]).accepted == len(numbered)
    run = classify_files([path], load_catalog())
    assert [r.error is None for r in run.results] == [True] * len(numbered) + [False]


# --- oversized entries ---------------------------------------------------------------------

HUGE = 16 << 20


@pytest.mark.parametrize("fmt", ["ndjson", "array", "ndjson.gz"])
def test_sixteen_mib_text_payload_is_kept_cut_with_neighbours(
    store: Store, tmp_path: Path, fmt: str
) -> None:
    big = entry(2, textPayload="x" * HUGE)
    entries = [entry(1), big, entry(3)]
    path = tmp_path / f"huge.{fmt}"
    if fmt == "array":
        path.write_text(json.dumps(entries))
    elif fmt.endswith(".gz"):
        path.write_bytes(gzip.compress(lines(*entries).encode(), compresslevel=1))
    else:
        path.write_text(lines(*entries))
    after = tmp_path / "after.jsonl"
    after.write_text(lines(entry(4)))
    result = ingest_files(store, [path, after])
    assert result.errors == [] and result.rejections == []
    assert _stored_ids(store) == set(_ids(1, 2, 3, 4))
    message, raw = store.conn.execute(
        "SELECT message, raw FROM entries WHERE insert_id = 'hostile-2'"
    ).fetchone()
    assert message.startswith("x" * 1000)
    assert message.endswith(TRUNCATION_MARK.format(total=HUGE))
    assert len(message) <= MAX_FIELD_CHARS + len(TRUNCATION_MARK.format(total=HUGE))
    assert json.loads(raw)["insertId"] == "hostile-2"
    assert len(result.notes) == 1 and "$.textPayload (16,777,216 characters)" in result.notes[0]
    assert result.notes[0].startswith(f"{path}: line ")


def test_an_entry_past_the_hard_limit_is_rejected_by_name(store: Store, tmp_path: Path) -> None:
    from forensics.limits import MAX_ENTRY_CHARS

    path = tmp_path / "monster.jsonl"
    with path.open("w") as fh:
        fh.write(lines(entry(1)))
        fh.write('{"textPayload": "')
        chunk = "y" * (1 << 20)
        for _ in range(MAX_ENTRY_CHARS // len(chunk) + 2):
            fh.write(chunk)
        fh.write('"}\n')
        fh.write(lines(entry(3)))
    result = ingest_files(store, [path])
    assert _stored_ids(store) == set(_ids(1, 3))
    assert [r.line_no for r in result.rejections] == [2]
    assert "larger than" in result.rejections[0].problem


# --- truncated gzip ------------------------------------------------------------------------


def test_truncated_gzip_keeps_every_complete_line_and_classify_works(
    store: Store, tmp_path: Path, runner: CliRunner
) -> None:
    body = lines(*(entry(i, insertId=f"gz-{i}") for i in range(20_000))).encode()
    packed = gzip.compress(body)
    cut = packed[: len(packed) * 3 // 4]
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(cut)
    # What a reader of the damaged file can recover: every line that ends before the cut.
    recovered = gzip.decompress(cut + b"") if False else _inflate_partial(cut)
    complete = recovered.count(b"\n")
    assert 0 < complete < 20_000
    result = ingest_files(store, [path])
    assert len(result.errors) == 1 and "damaged or truncated" in result.errors[0]
    assert result.accepted == complete and result.rejections == []
    assert store.scalar("SELECT count(*) FROM entries") == complete
    out = runner.invoke(app, ["classify", str(path)])
    printed = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == complete
    assert out.exit_code == 2 and "damaged or truncated" in out.stderr


def _inflate_partial(data: bytes) -> bytes:
    import zlib

    return zlib.decompressobj(wbits=31).decompress(data)


# --- identity without insertId -------------------------------------------------------------


def test_identity_without_insert_id_is_canonical(store: Store) -> None:
    base = entry(1)
    del base["insertId"]
    base["timestamp"] = "2025-09-16T10:00:01Z"
    base["jsonPayload"] = {"b": 1, "a": {"y": [1, 2], "x": "s"}}
    del base["textPayload"]
    reordered = dict(reversed(list(base.items())))
    reordered["jsonPayload"] = {"a": {"x": "s", "y": [1, 2]}, "b": 1}
    variants = [
        base,
        reordered,
        dict(base, timestamp="2025-09-16T10:00:01+00:00"),
        dict(base, timestamp="2025-09-16T10:00:01.000000000Z"),
        dict(base, timestamp="2025-09-16T12:00:01+02:00"),
    ]
    result = ingest_texts(store, [json.dumps(v, indent=i % 2) for i, v in enumerate(variants)], "t")
    assert (result.accepted, result.duplicates) == (1, len(variants) - 1)
    other = dict(base, jsonPayload={"b": 2, "a": {"y": [1, 2], "x": "s"}})
    assert ingest_texts(store, [json.dumps(other)], "t").accepted == 1


# --- windows and runs ----------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["100000000", "1e308", "inf", "nan", "-5", "0"])
def test_absurd_hours_get_one_clear_line(runner: CliRunner, tmp_path: Path, hours: str) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db) as opened:
        ingest_texts(opened, [json.dumps(entry(1))], "t")
    out = runner.invoke(app, ["analyze", "--db", str(db), "--hours", hours, "--json"])
    assert "Traceback" not in out.output
    assert out.exit_code == 2, out.output
    assert (
        out.stderr.strip().startswith("error: --hours")
        and len(out.stderr.strip().splitlines()) == 1
    )


def test_huge_hours_are_bounded_by_the_store(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db) as opened:
        ingest_texts(opened, [json.dumps(entry(1))], "t")
    out = runner.invoke(
        app, ["analyze", "--db", str(db), "--hours", "1000000", "--until", "2025-09-17", "--json"]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["entries_in_window"] == 1
    assert doc["window"]["since"] <= "2025-09-16T10:00:01Z"
    assert doc["window"]["since"] >= "2025-09-16T00:00:00Z"


def test_a_killed_ingest_is_marked_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(db) as opened:
        opened.conn.execute(
            "INSERT INTO ingest_runs (ingest_id, source, started, status) "
            "VALUES (nextval('ingest_id_seq'), 'killed.json', now(), 'running')"
        )
    with open_store(db) as opened:
        assert opened.scalar("SELECT status FROM ingest_runs") == "interrupted"


def test_many_entries_without_insert_id_load_in_bounded_memory(
    store: Store, tmp_path: Path
) -> None:
    """Identities are filled in slices: a whole chunk's JSON nodes at once ran out of memory."""
    from forensics.demo import generate_entries

    entries = [
        {k: v for k, v in e.items() if k != "insertId"} for e in generate_entries(20_000, seed=3)
    ]
    path = tmp_path / "no-ids.jsonl"
    path.write_text(lines(*entries))
    first = ingest_files(store, [path])
    assert first.errors == [] and first.accepted + first.duplicates == len(entries)
    again = ingest_files(store, [path])
    assert (again.accepted, again.duplicates) == (0, len(entries))
    pending = store.scalar(
        "SELECT count(*) FROM entries WHERE NOT starts_with(insert_id, 'sha256:')"
    )
    assert pending == 0


@pytest.mark.parametrize("text", ["99999999999w", "1e400d"])
def test_absurd_durations_are_named(text: str) -> None:
    from forensics.errors import InputError
    from forensics.timeutil import parse_duration

    with pytest.raises(InputError, match="--lookback"):
        parse_duration(text, "--lookback")
