"""The recipes under deploy/ call only commands and options that exist, and their scripts parse."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest
import typer

from forensics.cli import app
from forensics.emulator.server import Emulator, EmulatorSettings
from forensics.snapshots import stored_days
from forensics.store import open_store
from forensics.timeutil import utcnow

from .hookserver import hook_server
from .procs import ENV
from .snapdata import EXIT3, entries_for

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
RECIPES = sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix != ".md")
_CALL = re.compile(r"forensics (?P<cmd>[a-z]+)(?P<args>[^;&|>\n']*)")


def calls() -> list[tuple[Path, str, list[str]]]:
    found = []
    for path in RECIPES:
        code = "\n".join(
            line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
        )
        for match in _CALL.finditer(code):
            if match["cmd"] in ("daily", "reader", "scheduler", "webhook"):  # names, not commands
                continue
            args = shlex.split(match["args"].replace("\\", " "), comments=False)
            found.append((path, match["cmd"], args))
    return found


def test_recipes_exist() -> None:
    names = {p.relative_to(DEPLOY).as_posix() for p in RECIPES}
    assert {"cron/forensics.crontab", "systemd/forensics-daily.timer", "cloudrun/Dockerfile",
            "cloudrun/setup.sh"} <= names  # fmt: skip


@pytest.mark.parametrize(("path", "command", "args"), calls(), ids=lambda v: str(v)[-30:])
def test_every_call_uses_real_options(path: Path, command: str, args: list[str]) -> None:
    root = typer.main.get_command(app)
    commands = getattr(root, "commands", {})
    assert command in commands, f"{path}: forensics {command} does not exist"
    known = {opt for p in commands[command].params for opt in getattr(p, "opts", [])}
    for arg in args:
        if arg.startswith("--"):
            assert arg.split("=")[0] in known, f"{path}: forensics {command} has no {arg}"


@pytest.mark.parametrize("script", ["cloudrun/run-daily.sh", "cloudrun/setup.sh"])
def test_shell_scripts_parse(script: str) -> None:
    subprocess.run(["sh", "-n", str(DEPLOY / script)], check=True)


def test_least_privilege_roles() -> None:
    setup = (DEPLOY / "cloudrun" / "setup.sh").read_text()
    project_roles = re.findall(r"projects add-iam-policy-binding[^\n]*\n[^\n]*--role=(\S+)", setup)
    assert sorted(project_roles) == ["roles/logging.viewer", "roles/monitoring.viewer"]


def test_cloud_run_job_script_end_to_end(tmp_path: Path) -> None:
    """run-daily.sh as the job runs it: store from the "bucket", collect from the emulator (real
    clients), snapshot, diff, webhook, store back; twice, the second run from the uploaded store."""
    end_of_yesterday = datetime.combine(utcnow().date(), time(0), tzinfo=UTC)
    served = entries_for(
        EXIT3, "svc-a", end_of_yesterday - timedelta(hours=1), 5, timedelta(minutes=30)
    )
    gcs, work, bin_dir = tmp_path / "gcs", tmp_path / "work", tmp_path / "bin"
    for folder in (gcs, work, bin_dir):
        folder.mkdir()
    wrapper = bin_dir / "forensics"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m forensics "$@"\n')
    wrapper.chmod(0o755)
    config = tmp_path / "forensics.toml"
    config.write_text(
        "[collect]\nmetrics = false\ncalls_per_minute = 6000\nburst = 100\ncontext_seconds = 0\n"
    )
    day = (end_of_yesterday - timedelta(days=1)).date().isoformat()
    with Emulator(served, settings=EmulatorSettings(logging_quota_per_minute=0)) as em, \
            hook_server([200]) as hook:  # fmt: skip
        env = {**ENV, **em.env(), "PATH": f"{bin_dir}:{os.environ['PATH']}", "GCS_DIR": str(gcs),
               "TMPDIR": str(work), "FORENSICS_PROJECT": "netra-staging",
               "FORENSICS_CONFIG": str(config), "FORENSICS_WEBHOOK": hook.url}  # fmt: skip
        script = str(DEPLOY / "cloudrun" / "run-daily.sh")
        runs = [subprocess.run(["sh", script], env=env, capture_output=True, text=True,
                               timeout=300) for _ in range(2)]  # fmt: skip
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert (
            f"## forensics diff: {day} vs 7d" in run.stdout and "### New signatures" in run.stdout
        )
    assert (
        len(hook.received) == 2
        and "new signature startup/exit-code-3 on svc-a: 5 entries" in (hook.received[0]["text"])
    )
    with open_store(gcs / "forensics.duckdb", read_only=True) as store:  # the uploaded store
        assert store.scalar("SELECT count(*) FROM entries") == 5  # the second run added nothing
        assert len(stored_days(store)) == 8
    parquet = gcs / "snapshots" / f"{day}.parquet"
    days = duckdb.sql(f"SELECT count(DISTINCT day) FROM read_parquet('{parquet}')").fetchone()
    assert days == (8,)
    assert "startup/exit-code-3" in (gcs / "reports" / f"diff-{day}.md").read_text()
    assert not list(gcs.glob("*.uploading"))
