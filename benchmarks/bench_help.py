"""Benchmark: `forensics --help` and every `forensics <cmd> [<sub>] --help`, each a fresh process.

Each help is run --repeat times as `python -m forensics ... --help` (a fresh interpreter, as a user
types it; output piped); the median wall time and the median CPU time (user + sys of the child,
steadier than wall time on a busy machine) are printed per command, then the slowest of those
medians and the interpreter's own start (`python -c pass`) for scale. The target (issue 11) is
<= 0.3 s wall and CPU for every help on an idle machine.

    python benchmarks/bench_help.py [--repeat 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_e2e import _timed

from forensics.cli import app


def command_paths() -> list[list[str]]:
    """Every command path, the root first, read through click's own listing (lazy or not)."""
    root = typer.main.get_command(app)
    found: list[list[str]] = [[]]

    def walk(group: typer.core.TyperGroup, prefix: list[str]) -> None:
        ctx = typer.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            found.append([*prefix, name])
            if isinstance(command, typer.core.TyperGroup):
                walk(command, [*prefix, name])

    assert isinstance(root, typer.core.TyperGroup)
    walk(root, [])
    return found


def _median(argv: list[str], env: dict[str, str], repeat: int) -> dict[str, float]:
    runs = [_timed(argv, env)[0] for _ in range(repeat)]
    failed = [r["exit"] for r in runs if r["exit"]]
    assert not failed, f"{argv}: exit {failed[0]:.0f}"
    return {
        "wall": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="Runs per command (median).")
    parser.add_argument("--json", action="store_true", help="Also print the figures as JSON.")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}
    python = _median([sys.executable, "-c", "pass"], env, args.repeat)
    figures: dict[str, dict[str, float]] = {}
    for path in command_paths():
        name = " ".join(["forensics", *path, "--help"])
        figures[name] = _median(
            [sys.executable, "-m", "forensics", *path, "--help"], env, args.repeat
        )
        print(f"  {name:<40} wall {figures[name]['wall']:.3f} s   cpu {figures[name]['cpu']:.3f} s")
    print(
        f"slowest median: wall {max(f['wall'] for f in figures.values()):.3f} s, "
        f"cpu {max(f['cpu'] for f in figures.values()):.3f} s "
        f"({len(figures)} helps, {args.repeat} runs each; load average "
        f"{os.getloadavg()[0]:.1f}); `python -c pass`: wall {python['wall']:.3f} s, "
        f"cpu {python['cpu']:.3f} s"
    )
    if args.json:
        print(json.dumps({"python": python, "helps": figures}))


if __name__ == "__main__":
    main()
