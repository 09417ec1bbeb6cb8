"""The command-group class of every `forensics` group: one-line errors and readable, quick help.

Typer renders a docstring's remaining paragraphs with their hard line breaks, so a paragraph
written at 100 columns leaves orphan half-lines in an 80-column terminal; it labels options with
Python types (``<list[str]>``, ``<bool>`` for a flag); and it coerces an absent ``--help`` of a
group through a pydantic adapter, which imports pydantic on every subcommand's ``--help``. The
group fixes all three once, for every command it holds, when it is built.
"""

from __future__ import annotations

import errno
import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import typer
from typer.core import TyperCommand, TyperGroup

from forensics.errors import EXIT_USAGE, ForensicsError

__all__ = [
    "ForensicsCommand",
    "ForensicsGroup",
    "ForensicsTyper",
    "as_written",
    "literal",
    "readable_type",
    "reflow",
]

_BULLET = re.compile(r"^(?:[-*•] |\d+[.)] )")
# What rich's markup (typer's help mode) would take for a style tag and drop, e.g. `[bigquery]`;
# not yet escaped, so escaping twice changes nothing.
_TAG = re.compile(r"(?<!\\)\[(?=[a-z#/@][^\[]*?\])")
_TYPE_NAMES = {str: "TEXT", int: "INTEGER", float: "NUMBER", Path: "PATH", bool: "BOOLEAN"}


# What writing the output can meet that is no one's mistake in the command line: the disk or
# the quota full, a file too large, a device error.
_OUTPUT_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def reflow(text: str | None) -> str | None:
    """Join each paragraph's hard-wrapped prose lines so the terminal wraps them.

    Indented lines (examples), bullets and blank lines stay as written.
    """
    if not text:
        return text
    out: list[str] = []
    joinable = False  # may the next prose line continue the last one?
    for line in text.strip("\n").splitlines():
        stripped = line.strip()
        verbatim = not stripped or line[:1].isspace() or bool(_BULLET.match(stripped))
        if joinable and not verbatim:
            out[-1] = f"{out[-1]} {stripped}"
        else:
            out.append(line.rstrip())
        joinable = bool(stripped) and not line[:1].isspace()
    return "\n".join(out)


def literal(text: str | None) -> str | None:
    """``text`` escaped for rich's markup, so help shows ``[bigquery] source`` as written."""
    return _TAG.sub(r"\\[", text) if text else text


def as_written(text: str) -> str:
    """The text ``literal`` escaped, as written (for the README, which is not rich markup)."""
    return text.replace("\\[", "[")


def readable_type(annotation: Any) -> str:
    """``list[Path] | None`` -> ``PATH``: the value one occurrence of the option takes."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return readable_type(inner[0]) if len(inner) == 1 else "VALUE"
    if origin in (list, tuple):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return readable_type(args[0]) if args else "VALUE"
    if isinstance(annotation, type):
        return _TYPE_NAMES.get(annotation, annotation.__name__.upper())
    return "VALUE"


class _HelpNames:
    """The part of a click context ``get_help_option`` reads: the help flag's names."""

    help_option_names = ("--help",)


def _polish(command: Any) -> None:
    """Reflowed help and readable metavars for ``command`` and, for a group, its commands."""
    command.help = literal(reflow(command.help))
    # The help flag is built on first use and cached; build it now so it is labelled too.
    help_flag = command.get_help_option(_HelpNames())
    for param in [*getattr(command, "params", []), *([help_flag] if help_flag else [])]:
        if getattr(param, "help", None):
            param.help = literal(param.help)
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "metavar", None) is not None:
            continue
        label = "" if getattr(param, "is_flag", False) else readable_type(descriptor.annotation)
        if getattr(param, "param_type_name", "") == "argument":
            # typer labels arguments by type without consulting metavar; this instance's
            # label is replaced the same way the option's metavar replaces it.
            param.display_type_rich = lambda ctx, label=label: label
        else:
            param.metavar = label
    for sub in getattr(command, "commands", {}).values():
        _polish(sub)


def _plain_help_flag(option: Any) -> None:
    """Treat a group's ``--help`` as the plain flag it is: no pydantic import to coerce it.

    typer (0.2x) coerces every parameter value through a lazily built runtime adapter; for a
    group's absent ``--help`` that adapter is a pydantic TypeAdapter (~50 ms of imports on
    each subcommand's --help). Older or newer typer without these internals is left alone.
    """
    if getattr(option, "_runtime_param", ...) is not None:
        return
    try:
        from typer._coercion import PassThroughRuntimeParam
        from typer.models import OptionInfo
    except ImportError:  # pragma: no cover - other typer versions
        return
    option._runtime_param = PassThroughRuntimeParam(annotation=bool, parameter_info=OptionInfo())


class ForensicsGroup(TyperGroup):
    """Turns library errors into one clear line on stderr and a documented exit code.

    Done here rather than in ``main`` so that CliRunner tests see the same behaviour.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _polish(self)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _plain_help_flag(option)
        return option

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _format_help(self, ctx, formatter, super().format_help)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ForensicsError as err:
            _say(str(err))
            raise typer.Exit(err.exit_code) from None
        except OSError as err:
            if err.filename is None:  # not about a path the user gave (a socket, a pipe)
                if err.errno not in _OUTPUT_FULL:
                    raise
                # standard output on a full disk or a dead device (`... > /dev/full`)
                _say(f"cannot write the output: {err.strerror}")
                raise typer.Exit(EXIT_USAGE) from None
            # An output path that cannot be written (a directory where a file goes, a file
            # where a directory goes, no permission): the path and why, as other errors do.
            # Writers go through a temporary file, so nothing half-written is left.
            where = err.filename2 if err.filename2 is not None else err.filename
            why = err.strerror or type(err).__name__
            if isinstance(err, FileExistsError):  # mkdir(exist_ok=True) met a file
                why = "exists and is not a directory"
            _say(f"{where}: {why}")
            raise typer.Exit(EXIT_USAGE) from None
        except (MemoryError, RecursionError) as err:
            # The last line of defence for input the limits did not foresee: one line, not a
            # traceback (forensics.limits keeps the known shapes from getting here).
            _say(f"{type(err).__name__}: {err or 'out of memory'}")
            raise typer.Exit(EXIT_USAGE) from None
        except Exception as err:
            if not type(err).__module__.lstrip("_").startswith("duckdb"):
                raise
            first = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            _say(f"DuckDB: {first}")
            raise typer.Exit(EXIT_USAGE) from None


class ForensicsCommand(TyperCommand):
    """A command whose help page is drawn without typer.rich_utils' imports (helppage.py)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _format_help(self, ctx, formatter, super().format_help)


def _format_help(command: Any, ctx: Any, formatter: Any, typers_own: Any) -> None:
    """forensics.cli.helppage's page when it can draw it, else typer's own."""
    from forensics.cli.helppage import draw_help  # rich: only when a page is asked for

    if not draw_help(command, ctx):
        typers_own(ctx, formatter)


class ForensicsTyper(typer.Typer):
    """A Typer whose groups are ForensicsGroups and whose commands are ForensicsCommands."""

    def __init__(self, *, cls: type[TyperGroup] | None = None, **kwargs: Any) -> None:
        super().__init__(cls=cls or ForensicsGroup, **kwargs)

    def command(self, name: str | None = None, *, cls: Any = None, **kwargs: Any) -> Any:
        return super().command(name, cls=cls or ForensicsCommand, **kwargs)


def _say(message: str) -> None:
    """One line whatever the width (soft_wrap): scripts and logs grep for it."""
    from forensics.console import err_console  # rich and the redaction patterns: not for --help

    one_line = " ".join(message.split())
    err_console.print(f"error: {one_line}", markup=False, soft_wrap=True)
