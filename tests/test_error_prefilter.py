"""The miner's error test skips building the match text of an unlevelled line whose failure text
holds none of the words an error reading needs (forensics.signatures.masking): that shortcut
must call exactly the same entries errors as the full test, on text this project did not write:
the real staging export, loghub's samples (unlevelled lines, as a DEFAULT stdout line would be),
and failure lines worded as other clients word them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from forensics.ingest import ingest_texts
from forensics.signatures.dialect import DUCKDB
from forensics.signatures.masking import ERROR_SQL, error_sql
from forensics.signatures.matchtext import match_text_sql
from forensics.store import open_store

from .conftest import LOGHUB_DEV, REAL_STAGING_ENTRIES, requires_loghub_dev, requires_real_staging

# Worded from the failures' descriptions, unlevelled (no severity, no level word first).
_WRITTEN = (
    'Traceback (most recent call last):\n  File "/app/db.py", line 4, in init\n'
    "sqlalchemy.exc.OperationalError: connection to server timed out",
    "psycopg2.OperationalError: could not connect to server: Connection timed out",
    "asyncpg.exceptions.ConnectionDoesNotExistError: connection was closed in the middle",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "Worker failed to boot.",
    "SMD phase 3 (database init) FAILED after 30s",
    "httpx.ReadTimeout: auth service did not answer within 0.5s",
    "Container called exit(3).",
    "Memory limit of 512 MiB exceeded with 530 MiB used.",
    "Fehler: Verbindung abgelehnt",  # no English word at all: no error reading either way
    "ERRORS: 0 · failures: none",
    "exceptional latency on /healthz",
)


def _entry(n: int, text: str) -> str:
    return json.dumps(
        {
            "insertId": f"w-{n}",
            "timestamp": "2025-09-16T10:00:00Z",
            "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
            "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
            "textPayload": text,
        }
    )


def _loghub_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(LOGHUB_DEV.glob("*_structured.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            lines += [row["Content"] for row in csv.DictReader(f)]
    return lines


def _errors(texts: list[str]) -> tuple[set[str], set[str], int]:
    """The entries the shortcut test and the full test call errors, and how many are unlevelled."""
    full = error_sql(DUCKDB, match_text=f"({match_text_sql(DUCKDB)})")
    assert full != ERROR_SQL  # the two tests really differ (else this would compare one to itself)
    with open_store(":memory:") as store:
        ingest_texts(store, texts, "test")
        query = "SELECT insert_id FROM log_entries AS e WHERE {}"
        short = {r[0] for r in store.conn.execute(query.format(ERROR_SQL)).fetchall()}
        whole = {r[0] for r in store.conn.execute(query.format(full)).fetchall()}
        unlevelled = store.scalar("SELECT count(*) FROM log_entries WHERE severity_number = 0")
    return short, whole, int(unlevelled)


@requires_real_staging
@requires_loghub_dev
def test_shortcut_calls_the_same_entries_errors() -> None:
    texts = Path(REAL_STAGING_ENTRIES).read_text(encoding="utf-8").splitlines()
    written = [*_WRITTEN, *_loghub_lines()]
    texts += [_entry(n, t) for n, t in enumerate(written)]
    short, whole, unlevelled = _errors(texts)
    assert unlevelled >= len(written)
    # Not vacuous: unlevelled lines are called errors by their text, and others are not.
    written_errors = {i for i in whole if i.startswith("w-")}
    assert 0 < len(written_errors) < len(written)
    assert short == whole, sorted(short ^ whole)[:10]
