"""A Python traceback Cloud Run split into several entries is matched once, as one failure."""

from __future__ import annotations

import json

from forensics.signatures import classify_texts

SOCKET = '"/cloudsql/acme-prod:europe-west1:main-db/.s.PGSQL.5432"'
HEADER = (
    "Traceback (most recent call last):\n"
    '  File "/app/db.py", line 31, in connect\n'
    "    conn = psycopg2.connect(DSN)"
)
# psycopg2's message spans lines: the failure words in one chunk, the socket in the next
FAILURE = (
    "psycopg2.OperationalError: could not connect to server: No such file or directory\n"
    "\tIs the server running locally and accepting"
)
SOCKET_LINE = f"\tconnections on Unix domain socket {SOCKET}?"


def _entry(text: str, ms: int, instance: str = "00ab1", insert_id: str | None = None) -> str:
    return json.dumps(
        {
            "logName": "projects/p/logs/run.googleapis.com%2Fstderr",
            "timestamp": f"2025-09-16T01:41:05.{ms:03d}Z" if ms < 1000 else "2025-09-16T01:41:09Z",
            "insertId": insert_id or f"e{ms}-{instance}",
            "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
            "labels": {"instanceId": instance},
            "severity": "ERROR",
            "textPayload": text,
        }
    )


def signatures(texts: list[str]) -> list[str | None]:
    return [r.signature for r in classify_texts(texts)]


def test_failure_split_across_chunks_is_matched_once_at_the_last_chunk() -> None:
    assert signatures([_entry(HEADER, 1), _entry(FAILURE, 2), _entry(SOCKET_LINE, 3)]) == [
        None,
        None,
        "cloudsql/socket-failure",
    ]


def test_chunks_of_another_instance_or_later_are_not_joined() -> None:
    other_instance = [_entry(HEADER, 1), _entry(FAILURE, 2), _entry(SOCKET_LINE, 3, "00ab2")]
    assert signatures(other_instance) == [None, None, None]
    seconds_later = [_entry(HEADER, 1), _entry(FAILURE, 2), _entry(SOCKET_LINE, 1000)]
    assert signatures(seconds_later) == [None, None, None]


def test_a_chained_split_traceback_counts_once() -> None:
    root = "psycopg.OperationalError: connection failed: FATAL:  sorry, too many clients already"
    chunks = [
        _entry(HEADER, 1),
        _entry(root, 2),
        _entry("\nThe above exception was the direct cause of the following exception:\n", 3),
        _entry(HEADER.replace("db.py", "views.py"), 4),
        _entry("django.db.utils.OperationalError: " + root.split(": ", 1)[1], 5),
    ]
    assert signatures(chunks) == [None, None, None, None, "cloudsql/too-many-clients"]


def test_unrelated_exception_lines_stay_separate() -> None:
    """Two exception lines in a row (two requests) are two failures, not one run."""
    line = "asyncpg.exceptions.TooManyConnectionsError: sorry, too many clients already"
    assert signatures([_entry(line, 1), _entry(line, 2)]) == ["cloudsql/too-many-clients"] * 2
    after_a_traceback = [_entry(HEADER, 1), _entry(line, 2), _entry(line, 3)]
    assert signatures(after_a_traceback) == [None, *["cloudsql/too-many-clients"] * 2]


def test_a_traceback_written_line_by_line_is_joined_from_its_header() -> None:
    # A process that writes each line of its traceback apart gets one entry per line: the
    # header alone, then the frames, then the exception.
    lines = [*HEADER.split("\n"), FAILURE, SOCKET_LINE]
    assert signatures([_entry(line, n + 1) for n, line in enumerate(lines)]) == [
        *([None] * (len(lines) - 1)),
        "cloudsql/socket-failure",
    ]
