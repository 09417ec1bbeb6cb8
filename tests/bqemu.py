"""A real BigQuery emulator (bqemulator, DuckDB-backed) on 127.0.0.1 for the BigQuery tests.

``make test`` builds its own venv first (``make bq-emulator``: scripts/setup-bq-emulator.sh);
``start()`` runs ``bqemulator start`` from it on two free ports with a private HOME (where the
spatial extension was copied, so DuckDB's ``INSTALL spatial`` needs no network), waits for the
REST API to answer and returns the endpoint ``FORENSICS_BIGQUERY_ENDPOINT`` takes. Nothing here
skips: without the venv the tests fail and say how to build it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BQ_VENV", "Emulator", "load", "start"]

REPO = Path(__file__).resolve().parents[1]
BQ_VENV = Path(os.environ.get("FORENSICS_BQ_VENV") or REPO / ".venv-bq")
_READY_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    """A running emulator process and where it listens."""

    process: subprocess.Popen[bytes]
    endpoint: str
    project: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only
    try:
        with opener.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start(log_dir: Path, project: str = "p") -> Emulator:
    """Start the emulator; raise RuntimeError saying what to do when it cannot start."""
    binary = BQ_VENV / "bin" / "bqemulator"
    home = BQ_VENV / "home"
    if not binary.exists() or not (BQ_VENV / ".installed-stamp").exists():
        raise RuntimeError(
            f"the BigQuery emulator is not installed in {BQ_VENV}: run `make bq-emulator` "
            "(make test does it first)"
        )
    rest, grpc = _free_port(), _free_port()
    log = log_dir / "bqemulator.log"
    env = {
        **os.environ,
        "HOME": str(home),  # DuckDB's extension directory: the private copy, never ~/.duckdb
        "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false",  # avro would be downloaded: stay offline
        # any download attempt fails at once instead of reaching the network
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    command = [str(binary), "start", "--rest-host", "127.0.0.1", "--grpc-host", "127.0.0.1"]
    command += ["--rest-port", str(rest), "--grpc-port", str(grpc), "--project", project]
    command += ["--log-level", "warning", "--log-format", "json"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    endpoint = f"http://127.0.0.1:{rest}"
    emulator = Emulator(process, endpoint, project, log)
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"bqemulator exited with {process.returncode}: {tail}")
        if _answers(f"{endpoint}/bigquery/v2/projects/{project}/datasets"):
            return emulator
        time.sleep(0.3)
    emulator.stop()
    raise RuntimeError(f"bqemulator did not answer within {_READY_TIMEOUT_S:g}s; see {log}")


def load(client: Any, dataset: str, entries: list[dict[str, Any]], kind: str) -> None:
    """Load LogEntries into ``dataset`` as a sink ("sink", "partitioned") or as ``_AllLogs``.

    Streaming inserts, as a real sink writes (the emulator refuses multipart load jobs).
    """
    from google.cloud import bigquery

    from forensics.bigquery.shapes import (
        ALLLOGS_COLUMNS,
        alllogs_row,
        alllogs_table_sql,
        sink_tables,
    )

    client.create_dataset(dataset, exists_ok=True)

    def put(table_id: str, schema: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
        fields = [bigquery.SchemaField.from_api_repr(f) for f in schema]
        client.create_table(bigquery.Table(table_id, schema=fields), exists_ok=True)
        for i in range(0, len(rows), 500):
            errors = client.insert_rows_json(table_id, rows[i : i + 500], retry=None, timeout=60)
            if errors:
                raise RuntimeError(f"{table_id}: insert refused: {errors[:3]}")

    if kind == "analytics":
        put(f"{dataset}._staging", ALLLOGS_COLUMNS, [alllogs_row(e) for e in entries])
        client.query(alllogs_table_sql(dataset, "_staging")).result(timeout=120)
        return
    tables = sink_tables(entries, sharded=kind == "sink")
    for table, (schema, rows) in tables.tables.items():
        put(f"{dataset}.{table}", schema, rows)
