"""The README command reference is generated and current; every command has help and an example."""

from __future__ import annotations

from pathlib import Path

import typer

from forensics.cli import app
from forensics.cli.reference import update_readme

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_reference_is_current() -> None:
    assert update_readme(README, app, check=True), "README is stale: run `make docs`"


def test_every_command_has_help_and_an_example() -> None:
    root = typer.main.get_command(app)

    def walk(group: object, prefix: str) -> list[tuple[str, object]]:
        found = []
        for name, command in getattr(group, "commands", {}).items():
            found.append((f"{prefix} {name}", command))
            found.extend(walk(command, f"{prefix} {name}"))
        return found

    commands = walk(root, "forensics")
    assert commands
    for name, command in commands:
        help_text = getattr(command, "help", None) or ""
        assert help_text.strip(), f"{name} has no help"
        if not hasattr(command, "commands"):
            assert "Example:" in help_text, f"{name} help has no Example: block"


def test_quickstart_is_exactly_the_two_commands() -> None:
    text = README.read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("##", 1)[0]
    commands = [
        line.split("#")[0].strip() for line in quickstart.splitlines() if line.startswith("make ")
    ]
    assert commands == ["make demo", "make test"]
