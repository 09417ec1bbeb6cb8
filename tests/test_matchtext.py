"""The match text finds the failure wherever a LogEntry keeps it, and only where it is stated."""

from __future__ import annotations

import json

import pytest

from forensics.ingest import ingest_texts
from forensics.signatures import classify_texts
from forensics.signatures.matchtext import MATCH_TEXT_SQL
from forensics.store import open_store

SOCKET = "/cloudsql/acme-prod:europe-west1:main-db/.s.PGSQL.5432"


def _entry(payload: dict, **extra: object) -> str:
    body = {
        "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
        "timestamp": "2025-09-16T01:41:05Z",
        **payload,
        **extra,
    }
    return json.dumps(body)


def match_text(payload: dict) -> str:
    """The match text the classifier reads for one entry (through real normalization)."""
    with open_store(":memory:") as store:
        ingest_texts(store, [_entry(payload)], "t")
        row = store.conn.execute(f"SELECT {MATCH_TEXT_SQL} FROM log_entries").fetchone()
    assert row is not None
    return str(row[0])


# Structured loggers: the display text is `msg`/`message`, the failure is elsewhere.
STRUCTURED = [
    (  # zerolog / logrus: a string `error` beside the message
        {
            "jsonPayload": {
                "level": "error",
                "error": f"failed to connect to `host={SOCKET[:-14]} user=app database=app`: "
                f"dial error (dial unix {SOCKET}: connect: no such file or directory)",
                "message": "unable to open database",
            }
        },
        "dial unix /cloudsql/",
    ),
    (  # pino: `msg` wins, the error is an object with message and stack
        {
            "jsonPayload": {
                "level": 50,
                "msg": "database connection failed",
                "err": {
                    "type": "Error",
                    "message": f"connect ENOENT {SOCKET}",
                    "stack": f"Error: connect ENOENT {SOCKET}\n    at PipeConnectWrap.afterConnect "
                    "[as oncomplete] (node:net:1300:16)",
                },
            }
        },
        "connect ENOENT /cloudsql/",
    ),
    (  # winston: `stack` at the top level
        {
            "jsonPayload": {
                "level": "error",
                "message": "startup failed",
                "stack": "Error: Timed out waiting for database\n    at wait (/app/db.js:12:9)",
            }
        },
        "Timed out waiting for database",
    ),
    (  # structlog: the formatted traceback in `exception`
        {
            "jsonPayload": {
                "event": "request failed",
                "exception": 'Traceback (most recent call last):\n  File "/app/db.py", line 3, '
                "in get\n    conn = pool.connect()\nsqlalchemy.exc.TimeoutError: QueuePool limit "
                "of size 5 overflow 10 reached, connection timed out, timeout 30.00",
            }
        },
        "sqlalchemy.exc.TimeoutError: QueuePool limit",
    ),
    (  # logback JSON: `stack_trace` with a cause chain
        {
            "jsonPayload": {
                "message": "HikariPool-1 - Exception during pool initialization.",
                "stack_trace": "org.postgresql.util.PSQLException: FATAL: remaining connection "
                "slots are reserved for non-replication superuser connections\n\tat "
                "org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(Connection"
                "FactoryImpl.java:646)\n\t... 12 common frames omitted",
            }
        },
        "remaining connection slots are reserved",
    ),
    (  # nested error.message (ECS / OpenTelemetry style)
        {"jsonPayload": {"msg": "boot", "error": {"message": "sorry, too many clients already"}}},
        "sorry, too many clients already",
    ),
    (  # flattened dotted key
        {"jsonPayload": {"message": "boot", "error.message": "Worker failed to boot."}},
        "Worker failed to boot.",
    ),
]


@pytest.mark.parametrize(("payload", "needle"), STRUCTURED)
def test_error_fields_of_structured_loggers_are_read(payload: dict, needle: str) -> None:
    assert needle in match_text(payload)


def test_stack_frames_of_an_error_field_are_not_read() -> None:
    text = match_text(STRUCTURED[1][0])
    assert "PipeConnectWrap" not in text
    assert "database connection failed" in text  # the message still is


CHAINED = (
    "Traceback (most recent call last):\n"
    '  File "/usr/local/lib/python3.11/site-packages/psycopg2/__init__.py", line 122, in connect\n'
    "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)\n"
    f'psycopg2.OperationalError: connection to server on socket "{SOCKET}" failed: '
    "No such file or directory\n"
    "\tIs the server running locally and accepting connections on that socket?\n"
    "\n"
    "The above exception was the direct cause of the following exception:\n"
    "\n"
    "Traceback (most recent call last):\n"
    '  File "/app/main.py", line 9, in <module>\n'
    "    engine.connect()\n"
    "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server on "
    f'socket "{SOCKET}" failed: No such file or directory\n'
    "\tIs the server running locally and accepting connections on that socket?\n"
    "\n"
    "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
)


def test_chained_traceback_keeps_every_exception_and_drops_the_footer() -> None:
    lines = match_text({"textPayload": CHAINED}).split("\n")
    assert lines[0].startswith("psycopg2.OperationalError: connection to server on socket")
    assert any(line.startswith("sqlalchemy.exc.OperationalError:") for line in lines)
    assert not any("Background on this error" in line for line in lines)
    assert not any("The above exception" in line or "File " in line for line in lines)


def test_escaped_newlines_are_lines() -> None:
    text = match_text({"textPayload": CHAINED.replace("\n", "\\n")})
    assert text.split("\n")[0].startswith("psycopg2.OperationalError:")


@pytest.mark.parametrize(
    "chunk",
    [
        # a split traceback's chunk of frames that quotes failure text in its source lines
        '  File "/app/smd.py", line 412, in _phase3\n'
        '    raise TimeoutError("Database initialization timeout after 20.0s")',
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)",
        "\nThe above exception was the direct cause of the following exception:\n",
        "During handling of the above exception, another exception occurred:",
    ],
)
def test_chunks_without_an_exception_line_match_nothing(chunk: str) -> None:
    assert match_text({"textPayload": chunk}).strip() == ""


def test_chunk_with_the_exception_line_of_a_split_traceback_is_read() -> None:
    chunk = (
        "    await asyncio.wait_for(init_db(), timeout=20)\nasyncio.exceptions.TimeoutError\n"
        "\nThe above exception was the direct cause of the following exception:\n"
    )
    assert match_text({"textPayload": '  File "/app/x.py", line 1\n' + chunk}) == (
        "asyncio.exceptions.TimeoutError"
    )


@pytest.mark.parametrize(
    "text",
    [
        "gcloud logging metrics create db_init_timeouts --log-filter='resource.type=\"cloud_run_"
        'revision" AND textPayload:"Database initialization timeout"\'',
        'filter: textPayload=~"Container called exit\\(3\\)" OR '
        'textPayload:"Worker failed to boot"',
    ],
)
def test_log_queries_quoting_a_failure_are_not_failures(text: str) -> None:
    assert classify_texts([_entry({"textPayload": text}, severity="ERROR")])[0].signature is None


def test_failure_in_a_structured_error_field_is_classified() -> None:
    result = classify_texts([_entry(STRUCTURED[1][0], severity="ERROR")])[0]
    assert result.signature == "cloudsql/socket-failure"


def test_plain_message_is_unchanged() -> None:
    assert match_text({"textPayload": "Container called exit(3)."}) == "Container called exit(3)."
