"""Properties over generated hostile files (issue 12).

- No input makes ingest or classify raise: a file's trouble comes back as one-line messages that
  name the file.
- Every valid entry of a file is kept, whatever else the file holds (junk lines in NDJSON, any
  JSON values, however deep, in an array).
- One bad file never stops the others.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import InputError
from forensics.ingest import ingest_files
from forensics.signatures import classify_files, load_catalog
from forensics.store import open_store

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CATALOG = load_catalog()


def valid_entry(i: int, second: int) -> dict[str, Any]:
    return {
        "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
        "timestamp": f"2025-09-16T10:{second // 60 % 60:02d}:{second % 60:02d}Z",
        "insertId": f"valid-{i}",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
        "textPayload": f"entry {i}",
    }


_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=30),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


class _Deep(str):
    """JSON text written as is (nested arrays too deep to be an entry); every other junk value
    is a Python value written with json.dumps. A plain string is a JSON string, even one that
    starts with "[": written raw, "[" broke the array it was put in."""


# Values a careless or hostile export puts where an entry belongs.
_junk_value = st.one_of(
    _json,
    st.integers(150, 3000).map(lambda n: _Deep("[" * n + "]" * n)),  # too deep to be an entry
    st.fixed_dictionaries(
        {
            "logName": st.one_of(st.text(max_size=20), st.integers()),
            "timestamp": st.one_of(
                st.text(max_size=30),
                st.sampled_from(
                    ["0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "2025-01-01T00:00:00+25:00"]
                ),
            ),
            "httpRequest": st.fixed_dictionaries({"status": _json, "latency": _json}),
            "insertId": _json,
        }
    ),
)
_junk_line = st.one_of(
    _junk_value.map(lambda v: v if isinstance(v, _Deep) else json.dumps(v)),
    st.text(max_size=80).map(lambda t: t.replace("\n", " ").replace("\r", " ")),
)


def _kept(store_ids: set[str], count: int) -> bool:
    return {f"valid-{i}" for i in range(count)} <= store_ids


@st.composite
def ndjson_files(draw: st.DrawFn) -> tuple[str, int]:
    """An NDJSON text: valid entries with junk lines between them."""
    count = draw(st.integers(0, 12))
    lines: list[str] = []
    for i in range(count):
        lines += draw(st.lists(_junk_line, max_size=2))
        lines.append(json.dumps(valid_entry(i, draw(st.integers(0, 3599)))))
    lines += draw(st.lists(_junk_line, max_size=2))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + ending.join(lines) + ending, count


@st.composite
def array_files(draw: st.DrawFn) -> tuple[str, int]:
    """A JSON array: valid entries among arbitrary JSON values (also far too deep ones)."""
    count = draw(st.integers(0, 8))
    items: list[str] = []
    for i in range(count):
        items += [
            v if isinstance(v, _Deep) else json.dumps(v)
            for v in draw(st.lists(_junk_value, max_size=2))
        ]
        items.append(json.dumps(valid_entry(i, draw(st.integers(0, 3599))), indent=2))
    return "[\n" + ",\n".join(items) + "\n]", count


def _ids(store_path: Path) -> set[str]:
    with open_store(store_path) as store:
        return {r[0] for r in store.conn.execute("SELECT insert_id FROM entries").fetchall()}


def _check_messages(path: Path, messages: list[str]) -> None:
    for message in messages:
        assert "\n" not in message
        assert message.startswith(str(path))


@SETTINGS
@given(st.one_of(ndjson_files(), array_files()), st.booleans())
def test_every_valid_entry_is_kept(tmp_path: Path, file: tuple[str, int], packed: bool) -> None:
    text, count = file
    path = tmp_path / "export.json"
    data = text.encode()
    path.write_bytes(gzip.compress(data) if packed else data)
    db = tmp_path / "p.duckdb"
    db.unlink(missing_ok=True)
    with open_store(db) as store:
        result = ingest_files(store, [path])
    assert _kept(_ids(db), count)
    _check_messages(path, result.errors + [str(r) for r in result.rejections])
    run = classify_files([path], CATALOG)
    valid = {r.insert_id for r in run.results if r.error is None}
    assert {f"valid-{i}" for i in range(count)} <= valid


@SETTINGS
@given(st.binary(max_size=400), st.booleans(), st.floats(0.1, 0.95))
def test_no_bytes_raise_and_the_next_file_loads(
    tmp_path: Path, blob: bytes, packed: bool, cut: float
) -> None:
    bad = tmp_path / "bad.json"
    data = gzip.compress(blob) if packed else blob
    bad.write_bytes(data[: max(1, int(len(data) * cut))] if packed else data)
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(valid_entry(0, 0)) + "\n")
    db = tmp_path / "b.duckdb"
    db.unlink(missing_ok=True)
    with open_store(db) as store:
        result = ingest_files(store, [bad, good])
    assert "valid-0" in _ids(db)
    _check_messages(bad, result.errors + [str(r) for r in result.rejections])
    try:
        classify_files([bad], CATALOG)
    except InputError as err:
        assert "\n" not in str(err)


@SETTINGS
@given(st.lists(st.one_of(ndjson_files(), array_files()), min_size=2, max_size=4))
def test_one_bad_file_never_stops_the_others(tmp_path: Path, files: list[tuple[str, int]]) -> None:
    paths = []
    for n, (text, _) in enumerate(files):
        path = tmp_path / f"f{n}.json"
        path.write_text(text.replace("valid-", f"f{n}-valid-"))
        paths.append(path)
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(b'[{"logName": "x"}, ' * 50)[:40])
    db = tmp_path / "m.duckdb"
    db.unlink(missing_ok=True)
    with open_store(db) as store:
        ingest_files(store, [paths[0], broken, *paths[1:]])
    ids = _ids(db)
    for n, (_, count) in enumerate(files):
        assert {f"f{n}-valid-{i}" for i in range(count)} <= ids
