"""Property tests: re-ingest is idempotent and no field of any entry is ever lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.ingest import ingest_texts
from forensics.store import open_store

_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=20))
_json_value = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_LOG_ENTRY_KEYS = {
    "timestamp",
    "receiveTimestamp",
    "severity",
    "logName",
    "insertId",
    "resource",
    "labels",
    "trace",
    "spanId",
    "httpRequest",
    "textPayload",
    "jsonPayload",
    "protoPayload",
}
# Field names that are not LogEntry columns: a rare field must survive in `raw`.
_extra_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).filter(
    lambda k: k not in _LOG_ENTRY_KEYS
)


@st.composite
def log_entries(draw: st.DrawFn) -> dict[str, Any]:
    second = draw(st.integers(0, 59))
    nanos = draw(st.integers(0, 999_999_999))
    entry: dict[str, Any] = {
        "logName": draw(
            st.sampled_from(
                [
                    "projects/p/logs/run.googleapis.com%2Fstderr",
                    "projects/p/logs/run.googleapis.com%2Frequests",
                    "projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log",
                ]
            )
        ),
        "timestamp": f"2025-09-16T10:00:{second:02d}.{nanos:09d}Z",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
    }
    if draw(st.booleans()):
        entry["insertId"] = draw(st.text(alphabet="abcdef0123456789", min_size=1, max_size=6))
    payload = draw(st.sampled_from(["text", "json", "none"]))
    if payload == "text":
        entry["textPayload"] = draw(st.text(max_size=40))
    elif payload == "json":
        entry["jsonPayload"] = draw(st.dictionaries(st.text(max_size=8), _json_value, max_size=4))
    if draw(st.booleans()):
        entry["severity"] = draw(st.sampled_from(["INFO", "ERROR", "WARNING", "DEFAULT"]))
    for key in draw(st.lists(_extra_keys, max_size=3, unique=True)):
        entry[key] = draw(_json_value)
    return entry


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(log_entries(), min_size=1, max_size=30), split=st.integers(0, 30))
def test_reingest_is_idempotent_and_lossless(
    tmp_path: Path, entries: list[dict[str, Any]], split: int
) -> None:
    texts = [json.dumps(e) for e in entries]
    db = tmp_path / f"prop-{abs(hash(tuple(texts)))}.duckdb"
    with open_store(db) as store:
        ingest_texts(store, texts[:split], "a")
        ingest_texts(store, texts[split:], "b")
        count = store.scalar("SELECT count(*) FROM entries")
        again = ingest_texts(store, texts, "c")
        assert again.accepted == 0 and again.duplicates == len(texts)
        assert store.scalar("SELECT count(*) FROM entries") == count
        raws = [json.loads(r) for (r,) in store.conn.execute("SELECT raw FROM entries").fetchall()]
    # Distinct identities in, distinct rows out; every stored raw is exactly one input entry.
    inputs = {json.dumps(e, sort_keys=True) for e in entries}
    assert {json.dumps(r, sort_keys=True) for r in raws} <= inputs
    for entry in entries:  # every input entry (or its identical twin) is stored whole
        assert any(r == entry for r in raws) or any(
            r.get("insertId") == entry.get("insertId")
            and r["logName"] == entry["logName"]
            and r["timestamp"][:26] == entry["timestamp"][:26]
            for r in raws
        )
    db.unlink()
