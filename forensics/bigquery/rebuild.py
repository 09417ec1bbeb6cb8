"""Rebuild a LogEntry, in the Logging API's JSON form, from the wire columns BigQuery returns.

The entries ``collect --bigquery`` brings home are ingested like any other source, so each row
is turned back into the JSON the API would have returned (``forensics.bigquery.source.WIRE``
names the columns; a Log Analytics view's snake_case HTTP struct is turned back into camelCase).
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from typing import Any

from forensics.bigquery.shapes import drop_nulls, restore_labels

__all__ = ["rebuild_entry"]

_SNAKE_PART = re.compile(r"_([a-z])")


def _camel(name: str) -> str:
    return _SNAKE_PART.sub(lambda m: m[1].upper(), name)


def _duration(value: Any) -> Any:
    if not isinstance(value, dict) or value.get("seconds") is None:
        return value
    seconds, nanos = int(value["seconds"]), int(value.get("nanos") or 0)
    if nanos == 0:
        return f"{seconds}s"
    width = 3 if nanos % 1_000_000 == 0 else 6 if nanos % 1000 == 0 else 9
    return f"{seconds}.{str(nanos // 10 ** (9 - width)).zfill(width)}s"


def _loads(text: Any) -> Any:
    return drop_nulls(json.loads(text)) if isinstance(text, str) and text else None


def rebuild_entry(row: dict[str, Any]) -> dict[str, Any]:
    """The LogEntry a wire row came from, in the Logging API's JSON form."""
    stamp = row["timestamp"].astimezone(UTC).isoformat().replace("+00:00", "Z")
    entry: dict[str, Any] = {"logName": row["raw_log_name"], "timestamp": stamp}
    if row.get("receive_timestamp") is not None:
        received = row["receive_timestamp"].astimezone(UTC).isoformat()
        entry["receiveTimestamp"] = received.replace("+00:00", "Z")
    for key, column in (("severity", "severity"), ("insertId", "insert_id"), ("trace", "trace")):
        if row.get(column) is not None:
            entry[key] = row[column]
    if row.get("span_id") is not None:
        entry["spanId"] = row["span_id"]
    if row.get("trace_sampled") is not None:
        entry["traceSampled"] = row["trace_sampled"]
    resource = _loads(row.get("resource_json"))
    if resource:
        entry["resource"] = resource
    labels = _loads(row.get("labels"))
    if labels:
        entry["labels"] = restore_labels(labels)
    http = _loads(row.get("http_json"))
    if http:
        if row.get("wire_kind") == "analytics":  # snake_case struct, Duration as a struct
            http = {_camel(k): _duration(v) if k == "latency" else v for k, v in http.items()}
        entry["httpRequest"] = http
    if row.get("text_payload") is not None:
        entry["textPayload"] = row["text_payload"]
    payload = _loads(row.get("wire_json_payload"))
    if payload is not None:
        entry["jsonPayload"] = payload
    proto = _loads(row.get("proto_payload"))
    if proto is not None:
        entry["protoPayload"] = proto
    return entry
