"""Commands are built when used (forensics/cli/lazy.py); the root's list agrees with their help."""

from __future__ import annotations

import inspect

import pytest
import typer
from typer.testing import CliRunner

from forensics.cli import COMMANDS, app
from forensics.cli.lazy import LazyCommands, load_command


def _first_paragraph(help_text: str | None) -> str:
    """What a group's help lists for a command (typer shows the first paragraph of its help)."""
    return inspect.cleandoc(help_text or "").split("\n\n")[0].replace("\n", " ").strip()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_summary_is_the_first_paragraph_of_the_commands_own_help(name: str) -> None:
    command = load_command(name, COMMANDS[name])
    assert command.name == name
    assert COMMANDS[name].summary == _first_paragraph(command.help), (
        f"forensics.cli.COMMANDS[{name!r}].summary must read: {_first_paragraph(command.help)!r}"
    )


def test_root_help_lists_every_command_by_its_summary() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    for name, entry in COMMANDS.items():
        assert any(
            line.split()[1:2] == [name] and entry.summary in line
            for line in result.output.splitlines()
        ), name


def test_commands_are_built_on_first_lookup_only() -> None:
    root = typer.main.get_command(app)
    commands = root.commands  # type: ignore[attr-defined]
    assert isinstance(commands, LazyCommands)
    assert list(commands) == list(COMMANDS)
    assert "analyze" in commands and "nope" not in commands
    assert not commands.built()
    assert commands["ingest"] is commands["ingest"]
    assert commands.built() == ["ingest"]
    with pytest.raises(KeyError):
        commands["nope"]


def test_a_mistyped_command_is_still_suggested() -> None:
    result = CliRunner().invoke(app, ["analyz"])
    assert result.exit_code == 2
    assert "Did you mean 'analyze'?" in result.output
