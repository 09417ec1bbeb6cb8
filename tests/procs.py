"""Real second processes for the concurrency and watch tests: a lock holder, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["ENV", "REPO", "hold"]

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "NO_PROXY": "127.0.0.1"}

_HOLD = """
import sys, time
from forensics.store import open_store
with open_store(sys.argv[1]):
    print('holding', flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that holds the store's write lock for ``seconds`` (kill it to free it)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc
