"""Commands loaded when used: `forensics --help` imports no command module, `forensics X` only X's.

The root group holds a table of its commands (name, module, attribute, one-line summary) instead
of the commands themselves. A command's module is imported, and its click command built, the
first time it is looked up: to run it, to show its own help, or when a caller walks every command
(the README reference). The root's help lists the commands from the summaries alone; the summary
is the first paragraph of the command's own help, which tests/test_cli_lazy.py checks.

Cost: a lookup is O(1) after the first, which imports one module and builds one command.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand

from forensics.cli.group import ForensicsGroup, ForensicsTyper

__all__ = ["Lazy", "LazyCommands", "LazyForensicsGroup", "lazy_group", "load_command"]


@dataclass(frozen=True)
class Lazy:
    """Where a command lives: ``getattr(import_module(module), attr)``, a function or a Typer."""

    module: str
    attr: str
    summary: str  # the first paragraph of the command's help, as the root's help lists it


def load_command(name: str, entry: Lazy) -> Any:
    """Import ``entry`` and build its click command, exactly as the root group once built it."""
    target = getattr(importlib.import_module(entry.module), entry.attr)
    holder = ForensicsTyper(add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name=name)(target)
    holder.callback()(_no_op)  # a group even when it holds one command
    group = typer.main.get_command(holder)
    assert isinstance(group, ForensicsGroup)
    return group.commands[name]  # polished (reflowed help, readable labels) by ForensicsGroup


def _no_op() -> None:
    """Placeholder callback of the group that builds one command."""


class LazyCommands(MutableMapping[str, Any]):
    """A group's ``commands``: names known from the table, each command built on first lookup."""

    def __init__(self, table: dict[str, Lazy]) -> None:
        self.table = table
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in self.table:
                raise KeyError(name)
            self._built[name] = load_command(name, self.table[name])
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._built.pop(name, None)
        self.table.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self.table or name in self._built

    def __iter__(self) -> Iterator[str]:
        yield from self.table
        yield from (name for name in self._built if name not in self.table)

    def __len__(self) -> int:
        return len(self.table) + sum(name not in self.table for name in self._built)

    def built(self) -> list[str]:
        """The names whose command has been built so far."""
        return list(self._built)

    def listed(self, name: str) -> Any:
        """The command if built, else a stand-in carrying only its name and summary."""
        if name in self._built or name not in self.table:
            return self._built.get(name)
        return TyperCommand(name=name, help=self.table[name].summary)


class LazyForensicsGroup(ForensicsGroup):
    """The root group: ``commands`` is a LazyCommands over ``table``; its help builds none."""

    table: ClassVar[dict[str, Lazy]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(dict(self.table))
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        commands = self.commands
        if self._listing and isinstance(commands, LazyCommands):
            return commands.listed(cmd_name)
        return commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def lazy_group(table: dict[str, Lazy]) -> type[LazyForensicsGroup]:
    """A LazyForensicsGroup class over ``table`` (typer builds the group from a class)."""
    return type("ForensicsRootGroup", (LazyForensicsGroup,), {"table": table})
