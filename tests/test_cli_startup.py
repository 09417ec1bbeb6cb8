"""`forensics --help` stays instant: no command's help loads the heavy libraries.

Help for every command is rendered in a fresh interpreter, which then reports which of the heavy
modules got imported. Speed itself is measured in benchmarks/bench_e2e.py, never timed here.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .procs import ENV

# Each costs tens to hundreds of milliseconds to import; only the commands that use them may.
HEAVY = (
    "duckdb",
    "polars",
    "pyarrow",
    "jinja2",
    "grpc",
    "google.cloud",
    "google.api_core",
    "requests",
    "forensics.emulator",
    "forensics.store",
    # typer.rich_utils loads these for Markdown help and tracebacks; forensics.cli.helppage
    # draws the same pages without them.
    "typer.rich_utils",
    "markdown_it",
    "pygments",
)

_PROBE = """
import json, sys
import typer
from typer.testing import CliRunner
from forensics.cli import app

def paths(group, prefix):
    for name, command in sorted(group.commands.items()):
        yield [*prefix, name]
        if hasattr(command, "commands"):
            yield from paths(command, [*prefix, name])

runner = CliRunner()
helped = []
for args in [[], *paths(typer.main.get_command(app), [])]:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, (args, result.output)
    helped.append(" ".join(args))
heavy = json.loads(sys.argv[1])
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
print(json.dumps({"helped": helped, "loaded": loaded}))
"""


def test_help_of_every_command_imports_no_heavy_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert {"", "analyze", "ingest", "patterns list", "emulator demo"} <= set(found["helped"])
    assert found["loaded"] == []


def test_help_of_root_command_imports_no_heavy_module() -> None:
    """The plain `forensics --help` path (no CliRunner) through the console script's main."""
    probe = (
        "import json, sys\n"
        "from forensics.cli import main\n"
        "sys.argv = ['forensics', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if any(m == h or m.startswith(h + '.') for h in heavy))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=ENV, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == []


_COMMAND_MODULES = """
import json, sys
from forensics.cli import COMMANDS, main
sys.argv = ['forensics', *sys.argv[1:], '--help']
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({e.module for e in COMMANDS.values()} & set(sys.modules))))
"""


def _command_modules_loaded(*args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _COMMAND_MODULES, *args],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stdout.splitlines()[-1])
    return loaded


def test_root_help_imports_no_command_module() -> None:
    """The root's help lists the commands from forensics.cli.COMMANDS, building none."""
    assert _command_modules_loaded() == []


def test_a_commands_help_imports_that_command_only() -> None:
    assert _command_modules_loaded("ingest") == ["forensics.cli.ingest"]
    assert _command_modules_loaded("patterns", "list") == ["forensics.cli.patterns"]
