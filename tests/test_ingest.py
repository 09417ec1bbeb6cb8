"""Ingest of exported logs: formats, normalization of real shapes, dedupe, and bad input."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from forensics import ingest
from forensics.ingest import ingest_files, ingest_texts
from forensics.store import Store

from .conftest import FIXTURES

SAMPLE = FIXTURES / "real_staging_sample.jsonl"


def _sample_entries() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE.read_text().splitlines()]


def _entry(i: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "logName": "projects/demo/logs/run.googleapis.com%2Fstdout",
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": "api", "revision_name": "api-0001", "project_id": "demo"},
        },
        "timestamp": f"2025-09-16T10:00:{i % 60:02d}.123456789Z",
        "insertId": f"id-{i}",
        "textPayload": f"line {i}",
    }
    base.update(extra)
    return base


def _write_ndjson(path: Path, entries: list[Any]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


def _count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM entries"))


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ndjson", "json-array", "ndjson.gz", "json-array.gz"])
def test_every_format_loads_the_same_rows(store: Store, tmp_path: Path, fmt: str) -> None:
    entries = _sample_entries()
    if fmt.startswith("json-array"):
        text = json.dumps(entries, indent=2)  # gcloud logging read --format=json style
    else:
        text = "".join(json.dumps(e) + "\n" for e in entries)
    path = tmp_path / f"export.{fmt}"
    if fmt.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    result = ingest_files(store, [path])
    assert (result.accepted, result.rejected, result.errors) == (len(entries), 0, [])
    stored = store.query("SELECT insert_id, raw FROM entries ORDER BY insert_id")
    by_id = {e["insertId"]: e for e in entries}
    assert sorted(by_id) == stored["insert_id"].to_list()
    for insert_id, raw in stored.iter_rows():
        assert json.loads(raw) == by_id[insert_id]  # no field lost, whatever the format


def test_timestamps_z_offset_and_nanoseconds(store: Store) -> None:
    texts = [
        json.dumps(_entry(1, timestamp="2025-09-16T10:00:01.123456789Z")),
        json.dumps(_entry(2, timestamp="2025-09-16T10:00:01.5+00:00")),
        json.dumps(_entry(3, timestamp="2025-09-16T12:00:01+02:00")),
    ]
    result = ingest_texts(store, texts, "test")
    assert result.accepted == 3
    got = store.query("SELECT insert_id, timestamp FROM entries ORDER BY insert_id")
    assert got["timestamp"].to_list() == [
        datetime(2025, 9, 16, 10, 0, 1, 123456, tzinfo=UTC),
        datetime(2025, 9, 16, 10, 0, 1, 500000, tzinfo=UTC),
        datetime(2025, 9, 16, 10, 0, 1, tzinfo=UTC),
    ]


# --- normalization of the real shapes ----------------------------------------------------------


def test_real_staging_shapes_normalize(store: Store) -> None:
    entries = _sample_entries()
    assert ingest_files(store, [SAMPLE]).accepted == len(entries)
    rows = {r["insert_id"]: r for r in store.query("SELECT * FROM entries").to_dicts()}
    for e in entries:
        row = rows[e["insertId"]]
        labels = e["resource"]["labels"]
        assert row["log_name"] == e["logName"].replace("%2F", "/")
        assert row["log_id"] == e["logName"].split("/logs/")[1].replace("%2F", "/")
        assert row["resource_type"] == e["resource"]["type"]
        assert row["service"] == labels.get("service_name")
        assert row["revision"] == labels.get("revision_name")
        assert row["project_id"] == labels.get("project_id", "netra-staging")
        assert row["instance_id"] == (e.get("labels") or {}).get("instanceId")
        assert row["severity"] == e.get("severity", "DEFAULT")
        assert row["trace"] == e.get("trace")
        if "textPayload" in e:
            assert row["payload_kind"] == "text"
            assert row["message"] == _strip_ansi(e["textPayload"])
            assert "\x1b" not in row["message"]
        elif "jsonPayload" in e:
            assert row["payload_kind"] == "json"
            if "message" in e["jsonPayload"]:
                assert row["message"] == str(e["jsonPayload"]["message"]).replace("\x1b", "") or (
                    "\x1b" in e["jsonPayload"]["message"]
                )
            assert json.loads(row["json_payload"]) == e["jsonPayload"]
        elif "protoPayload" in e:
            assert row["payload_kind"] == "proto"
            proto = e["protoPayload"]
            if proto.get("methodName"):
                assert row["message"].startswith(proto["methodName"])
        if "httpRequest" in e:
            http = e["httpRequest"]
            assert row["http_status"] == http.get("status")
            assert row["http_method"] == http.get("requestMethod")
            assert row["http_url"] == http.get("requestUrl")
            if "latency" in http:
                assert row["http_latency_ms"] == pytest.approx(
                    float(http["latency"].rstrip("s")) * 1000
                )
            if "textPayload" not in e:
                assert str(http.get("status")) in row["message"]


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_severity_missing_means_default_and_numbers(store: Store) -> None:
    e = _entry(1)
    ingest_texts(store, [json.dumps(e), json.dumps(_entry(2, severity="ERROR"))], "t")
    got = store.query("SELECT severity, severity_number FROM entries ORDER BY severity_number")
    assert got.rows() == [("DEFAULT", 0), ("ERROR", 500)]


# --- dedupe ---------------------------------------------------------------------------------


def test_reingest_and_overlapping_exports_add_nothing(store: Store, tmp_path: Path) -> None:
    first = _write_ndjson(tmp_path / "a.jsonl", [_entry(i) for i in range(0, 60)])
    second = _write_ndjson(tmp_path / "b.jsonl", [_entry(i) for i in range(30, 90)])
    assert ingest_files(store, [first]).accepted == 60
    again = ingest_files(store, [first])
    assert (again.accepted, again.duplicates) == (0, 60)
    overlap = ingest_files(store, [second])
    assert (overlap.accepted, overlap.duplicates) == (30, 30)
    assert _count(store) == 90


def test_entries_without_insert_id_get_a_stable_content_hash(store: Store) -> None:
    e = _entry(1)
    del e["insertId"]
    other = dict(e, textPayload="different")
    ingest_texts(store, [json.dumps(e), json.dumps(other)], "t")
    # Same entry again, re-serialized with other whitespace: still recognised.
    result = ingest_texts(store, [json.dumps(e, indent=1)], "t")
    assert result.duplicates == 1
    ids = store.query("SELECT insert_id FROM entries")["insert_id"].to_list()
    assert len(ids) == 2 and all(i.startswith("sha256:") for i in ids)


def test_same_insert_id_at_other_time_is_another_entry(store: Store) -> None:
    a = _entry(1)
    b = dict(a, timestamp="2025-09-16T11:00:00Z")
    assert ingest_texts(store, [json.dumps(a), json.dumps(b), json.dumps(a)], "t").accepted == 2


# --- bad input ---------------------------------------------------------------------------------


def test_malformed_lines_are_named_and_valid_ones_kept(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps(_entry(1)),
        '{"logName": "x", "timestamp": ',  # truncated line
        json.dumps(_entry(2)),
        "[1, 2, 3]",
        json.dumps(_entry(3, timestamp="yesterday")),
        json.dumps(_entry(4, httpRequest={"status": "teapot"})),
        json.dumps(_entry(5, severity="LOUD")),
        json.dumps(_entry(6, resource="cloud_run_revision")),
        json.dumps({k: v for k, v in _entry(7).items() if k != "logName"}),
        json.dumps(_entry(8)),
    ]
    path.write_text("\n".join(lines) + "\n")
    result = ingest_files(store, [path])
    assert (result.accepted, result.rejected) == (3, 7)
    messages = [str(r) for r in result.rejections]
    assert messages[0].startswith(f"{path}: line 2: not valid JSON")
    assert f"{path}: line 4: not a LogEntry object" in messages[1]
    assert "line 5: field timestamp" in messages[2]
    assert "line 6: field httpRequest.status: expected an integer" in messages[3]
    assert "line 7: field severity" in messages[4]
    assert "line 8: field resource: expected an object" in messages[5]
    assert "line 9: field logName: missing" in messages[6]
    run = store.query("SELECT accepted, duplicates, rejected, status FROM ingest_runs")
    assert run.rows() == [(3, 0, 7, "complete")]


def test_truncated_json_array_keeps_elements_before_the_cut(store: Store, tmp_path: Path) -> None:
    text = json.dumps([_entry(i) for i in range(5)], indent=2)
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) * 3 // 4])
    result = ingest_files(store, [path])
    assert result.accepted >= 3
    assert len(result.errors) == 1
    assert result.errors[0].startswith(f"{path}: line ")
    assert "truncated JSON array" in result.errors[0]
    assert store.scalar("SELECT status FROM ingest_runs") == "failed"


def test_bad_array_element_is_named_by_index(store: Store, tmp_path: Path) -> None:
    entries: list[Any] = [_entry(0), "not an entry", _entry(2, timestamp=5)]
    path = tmp_path / "arr.json"
    path.write_text(json.dumps(entries, indent=2))
    result = ingest_files(store, [path])
    assert result.accepted == 1
    assert [r.element for r in result.rejections] == [1, 2]
    assert "(element 1): not a LogEntry object (a string)" in str(result.rejections[0])


def test_array_elements_past_the_read_buffer_are_named_by_their_own_line(
    store: Store, tmp_path: Path
) -> None:
    # Pretty-printed like gcloud's, big enough that the walk reads the file in several buffers
    # (forensics.jsonarray: each line counted from the last element's, not the buffer's start).
    entries: list[Any] = [_entry(i, jsonPayload={"pad": "x" * 200}) for i in range(6000)]
    bad = {1000: 5, 4500: "now", 5999: 5}
    for at, value in bad.items():
        entries[at]["timestamp"] = value
    text = json.dumps(entries, indent=2)
    assert len(text) > 3 << 20
    path = tmp_path / "big.json"
    path.write_text(text)
    result = ingest_files(store, [path])
    # Each element starts on the line after the one holding the previous element's end.
    starts = [0]
    for _ in entries:
        _, end = json.JSONDecoder().raw_decode(text, text.index("{", starts[-1]))
        starts.append(end)
    lines = {at: text.count("\n", 0, text.index("{", starts[at])) + 1 for at in bad}
    assert [(r.element, r.line_no) for r in result.rejections] == sorted(lines.items())
    assert result.accepted == len(entries) - len(bad)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"hello world\n", "line 1: not a log export"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a log export"),
        (gzip.compress(b"")[:10], "damaged or truncated"),
    ],
)
def test_unusable_files_get_one_clear_error(
    store: Store, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    good = _write_ndjson(tmp_path / "good.jsonl", [_entry(1)])
    result = ingest_files(store, [path, good])
    assert result.accepted == 1  # the good file still loads
    assert len(result.errors) == 1
    assert result.errors[0].startswith(str(path)) and expected in result.errors[0]


def test_missing_path_is_named(store: Store, tmp_path: Path) -> None:
    result = ingest_files(store, [tmp_path / "nope.json"])
    assert result.errors == [f"{tmp_path / 'nope.json'}: no such file"]


def test_truncated_gzip_keeps_complete_entries(store: Store, tmp_path: Path) -> None:
    body = "".join(json.dumps(_entry(i)) + "\n" for i in range(2000)).encode()
    path = tmp_path / "cut.jsonl.gz"
    packed = gzip.compress(body)
    path.write_bytes(packed[: len(packed) // 2])
    result = ingest_files(store, [path], batch_size=250)
    assert result.errors and "damaged or truncated" in result.errors[0]
    stored = _count(store)
    assert 0 < stored < 2000
    assert stored == result.accepted
    # every stored row is a complete entry
    assert store.scalar("SELECT count(*) FROM entries WHERE message IS NULL OR raw IS NULL") == 0


def test_chunks_of_many_batches_keep_every_valid_entry(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One INSERT streams several read batches: bad lines, repeats and a cut .gz inside one."""
    monkeypatch.setattr(ingest, "READ_BATCH", 100)  # chunks of 4 batches of 100 lines
    lines = [
        json.dumps(_entry(i, timestamp=f"2025-09-16T10:{i // 60 % 60:02d}:{i % 60:02d}Z"))
        for i in range(2000)
    ]
    bad = {150: "{not json", 420: "[1]", 777: json.dumps(_entry(777, severity="LOUD"))}
    for at, text in bad.items():
        lines[at] = text
    lines[900] = lines[899]  # a repeat inside the chunk
    body = ("\n".join(lines) + "\n").encode()
    packed = gzip.compress(body)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) * 3 // 4])

    result = ingest_files(store, [path], batch_size=400)
    assert result.errors and "damaged or truncated" in result.errors[0]
    assert [r.line_no for r in result.rejections] == [151, 421, 778]
    stored = _count(store)
    assert stored == result.accepted and result.duplicates == 1
    # every entry before the cut that is valid is stored, none twice
    assert stored == store.scalar("SELECT count(DISTINCT insert_id) FROM entries")
    last = int(store.scalar("SELECT max(CAST(split_part(insert_id, '-', 2) AS INT)) FROM entries"))
    assert stored == last + 1 - 3 - 1 > 1200

    again = ingest_files(store, [path], batch_size=400)
    assert (again.accepted, again.duplicates, again.rejected) == (0, stored + 1, 3)
    assert _count(store) == stored


def test_a_line_that_is_not_json_in_a_later_chunk_is_named_and_the_rest_kept(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks parse strictly until one holds a line that is not JSON: that chunk is rolled back
    and loaded again tolerantly, and so are the file's later chunks; nothing is lost or doubled."""
    monkeypatch.setattr(ingest, "READ_BATCH", 50)
    lines = [
        json.dumps(_entry(i, timestamp=f"2025-09-16T11:{i // 60 % 60:02d}:{i % 60:02d}Z"))
        for i in range(1000)
    ]
    lines[502] = '{"logName": "projects/p/logs/x", "timestamp": '  # cut off
    lines[930] = "not json at all"
    path = tmp_path / "late-damage.jsonl"
    path.write_text("\n".join(lines) + "\n")

    result = ingest_files(store, [path], batch_size=250)
    assert [r.line_no for r in result.rejections] == [503, 931]
    assert all("not valid JSON" in r.problem for r in result.rejections)
    assert (result.accepted, result.duplicates, result.rejected) == (998, 0, 2)
    assert _count(store) == 998 == store.scalar("SELECT count(DISTINCT insert_id) FROM entries")


@pytest.mark.parametrize(
    ("element", "said"),
    [(42, "a number"), (True, "a boolean"), (None, "null"), ([1], "an array"), ("x", "a string")],
)
def test_an_element_that_is_no_object_is_named_in_json_words(
    store: Store, tmp_path: Path, element: Any, said: str
) -> None:
    path = tmp_path / "arr.json"
    path.write_text(json.dumps([_entry(0), element]))
    result = ingest_files(store, [path])
    assert result.accepted == 1
    assert f"not a LogEntry object ({said})" in str(result.rejections[0])
