"""Benchmark: `forensics --help` and every `forensics <cmd> [<sub>] --help`, each a fresh process.

Each help is run --repeat times as `python -P -m forensics ... --help` (a fresh interpreter, as
a user types it; output piped; the tree is this checkout's, or --against's, by PYTHONPATH); the
median wall time and the median CPU time (user + sys of the child, steadier than wall time on a
busy machine) are printed per command, then the slowest of those medians and the interpreter's
own start (`python -c pass`) for scale. With --against the two trees' runs alternate, so both
see the same load. The target (issue 11): <= 0.3 s wall and CPU for every help, machine idle.

    python benchmarks/bench_help.py [--repeat 7] [--json]
    git worktree add /tmp/before <commit> && python benchmarks/bench_help.py --against /tmp/before
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


def _medians(
    argv: list[str], envs: dict[str, dict[str, str]], repeat: int
) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of ``argv`` under each env, the runs interleaved (so load
    changes during the run weigh on every side alike)."""
    runs: dict[str, list[dict[str, float]]] = {side: [] for side in envs}
    for _ in range(repeat):
        for side, env in envs.items():
            figures, _out, _err = _timed(argv, env)
            assert not figures["exit"], f"{side}: {argv}: exit {figures['exit']:.0f}"
            runs[side].append(figures)
    return {
        side: {
            "wall": statistics.median(r["seconds"] for r in rs),
            "cpu": statistics.median(r["cpu"] for r in rs),
        }
        for side, rs in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="Runs per command (median).")
    parser.add_argument(
        "--against",
        type=Path,
        help="Another checkout (e.g. a git worktree of an older commit) "
        "whose helps are timed in the same run, interleaved, for a before/after comparison.",
    )
    parser.add_argument("--json", action="store_true", help="Also print the figures as JSON.")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORENSICS_")}
    here = str(Path(__file__).resolve().parents[1])
    envs = {"this": {**env, "PYTHONPATH": here}}
    if args.against:
        envs["against"] = {**env, "PYTHONPATH": str(args.against.resolve())}
    python = _medians([sys.executable, "-c", "pass"], {"python": env}, args.repeat)["python"]
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for path in command_paths():
        name = " ".join(["forensics", *path, "--help"])
        figures[name] = _medians(
            [sys.executable, "-P", "-m", "forensics", *path, "--help"], envs, args.repeat
        )
        print(f"  {name:<34}" + "".join(
            f"   {side}: wall {f['wall']:.3f} s cpu {f['cpu']:.3f} s"
            for side, f in figures[name].items()
        ))  # fmt: skip
    for side in envs:
        print(
            f"{side}: slowest median wall {max(f[side]['wall'] for f in figures.values()):.3f} s, "
            f"cpu {max(f[side]['cpu'] for f in figures.values()):.3f} s"
        )
    print(
        f"({len(figures)} helps, {args.repeat} runs each; load average now "
        f"{os.getloadavg()[0]:.1f}); `python -c pass`: wall {python['wall']:.3f} s, "
        f"cpu {python['cpu']:.3f} s"
    )
    if args.json:
        print(json.dumps({"python": python, "helps": figures}))


if __name__ == "__main__":
    main()
