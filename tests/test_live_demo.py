"""The live demo path: the demo's day served by the emulator, pulled by the real collectors
with pushdown, keeps every failure candidate and the evidence of every planted incident."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from google.auth.credentials import AnonymousCredentials
from google.cloud import logging as gcl
from typer.testing import CliRunner

from forensics.cli import app
from forensics.demo import generate_entries, scenario
from forensics.schema import SEVERITY_LEVELS
from forensics.store import open_store

END = datetime(2025, 9, 16, tzinfo=UTC)
N = 5_000
ROOT = Path(__file__).resolve().parents[1]


def test_live_demo_keeps_every_candidate_and_every_planted_incident(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    out = CliRunner().invoke(
        app, ["emulator", "demo", "--db", str(db), "--end", END.isoformat(), "--entries", str(N)]
    )
    assert out.exit_code == 0, out.output
    served = list(generate_entries(N, end=END, hours=24))
    candidates = {
        e["insertId"]
        for e in served
        if SEVERITY_LEVELS.get(e.get("severity", "DEFAULT"), 0) >= SEVERITY_LEVELS["ERROR"]
        or e.get("httpRequest", {}).get("status", 0) >= 500
    }
    truth = scenario(END, 24)
    with open_store(db) as store:
        stored = set(store.query("SELECT insert_id FROM entries")["insert_id"].to_list())
        assert candidates <= stored  # pushdown dropped no failure
        assert len(stored) < len(served) / 2  # ... and left most healthy traffic to metrics
        for incident in truth.incidents:
            seen = store.query(
                'SELECT DISTINCT instance_id FROM entries WHERE "timestamp" BETWEEN ? AND ?',
                [incident.start, incident.end],
            )["instance_id"].to_list()
            assert set(incident.instance_ids) & set(seen), f"{incident.key}: no evidence pulled"
        deploys = store.scalar("SELECT count(*) FROM entries WHERE message LIKE '%ReplaceService%'")
        assert deploys >= len(truth.deploys)
        signals = set(store.query("SELECT signal FROM signals")["signal"].to_list())
        assert {"capacity/run-memory-high", "capacity/cloudsql-connections-high"} <= signals


def test_emulator_serve_runs_until_terminated(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    CliRunner().invoke(
        app, ["demo", "--out", str(export), "--entries", "2000", "--end", END.isoformat()]
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "forensics",
            "emulator",
            "serve",
            "--from",
            str(export),
            "--port",
            "0",
            "--grpc-port",
            "0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        endpoint = next(
            line.split("=", 1)[1].strip() for line in lines if "FORENSICS_LOGGING_ENDPOINT" in line
        )
        client = gcl.Client(
            project="netra-staging",
            credentials=AnonymousCredentials(),
            _use_grpc=False,
            client_options={"api_endpoint": endpoint},
        )
        window = 'timestamp>="2025-09-15T00:00:00Z" AND timestamp<"2025-09-16T00:00:00Z"'
        got = list(client.list_entries(filter_=window, page_size=1000))
        assert len(got) == 2000 and "serving 2,000 entries" in lines[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
