"""A command's --help page, drawn as typer draws it but without typer.rich_utils' imports.

typer.rich_utils imports rich.markdown (markdown-it) and rich.traceback (pygments) when it loads,
about 60 ms of every `--help`, for Markdown help and pretty tracebacks this CLI does not use.
``draw_help`` draws the same page (usage, help text, the Arguments, Options and Commands panels,
in typer's styles) with the rich parts those need; a page using anything else (Markdown mode,
named panels, deprecation, an epilog) is left to typer (``draw_help`` returns False).
tests/test_cli_help.py checks every page against typer's own, plain and in colour.

Cost: O(parameters + commands) of the page, plus rich's layout of it.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable
from typing import Any

from rich.align import Align
from rich.columns import Columns
from rich.console import Console, RenderableType, group
from rich.highlighter import RegexHighlighter
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.theme import Theme
from typer.core import TyperArgument, TyperGroup, TyperOption

__all__ = ["draw_help"]

# typer.rich_utils' styles and strings (typer 0.2x); the pages must not tell the two apart.
_THEME = {
    "option": "bold cyan",
    "switch": "bold green",
    "negative_option": "bold magenta",
    "negative_switch": "bold red",
    "types": "bold yellow",
    "types_sep": "dim",
    "usage": "yellow",
}
_STYLE_USAGE_COMMAND = "bold"
_STYLE_HELPTEXT = "dim"
_STYLE_TYPES = "bold yellow"
_STYLE_OPTION_DEFAULT = "dim"
_STYLE_OPTION_ENVVAR = "dim yellow"
_STYLE_REQUIRED_SHORT = "red"
_STYLE_REQUIRED_LONG = "dim red"
_STYLE_PANEL_BORDER = "dim"
_STYLE_COMMAND_NAME = "bold cyan"
_TABLE = {
    "show_lines": False,
    "leading": 0,
    "box": None,
    "border_style": None,
    "row_styles": None,
    "pad_edge": False,
    "padding": (0, 1),
}


class _Options(RegexHighlighter):
    highlights = [  # noqa: RUF012 - rich's own attribute
        r"(^|\W)(?P<switch>\-\w+)(?![a-zA-Z0-9])",
        r"(^|\W)(?P<option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
        r"(?P<types>\<[^\>]+\>)",
        r"(?P<usage>Usage: )",
    ]


class _NegativeOptions(RegexHighlighter):
    highlights = [  # noqa: RUF012 - rich's own attribute
        r"(^|\W)(?P<negative_switch>\-\w+)(?![a-zA-Z0-9])",
        r"(^|\W)(?P<negative_option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
    ]


class _Types(RegexHighlighter):
    highlights = [  # noqa: RUF012 - rich's own attribute
        r"^(?P<types_sep>(\[|<))",
        r"(?P<types_sep>\|)",
        r"(?P<types_sep>(\]|>))(\.\.\.)?$",
    ]


_options, _negative, _types = _Options(), _NegativeOptions(), _Types()
_VERBATIM = "\b\n"  # click marks a paragraph kept as written with \b on a line of its own


def _console() -> Console:
    """The console typer prints help through: its theme; TERMINAL_WIDTH, FORCE_COLOR honoured."""
    width = os.getenv("TERMINAL_WIDTH")
    force = (
        True if any(os.getenv(v) for v in ("GITHUB_ACTIONS", "FORCE_COLOR", "PY_COLORS")) else None
    )
    if os.getenv("_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    return Console(
        theme=Theme(_THEME),
        highlighter=_options,
        color_system="auto",
        force_terminal=force,
        width=int(width) if width else None,
    )


def _rich_text(text: str, style: str = "") -> Text:
    text = inspect.cleandoc(text)
    if "\033[" in text:
        return _options(Text.from_ansi(text, style=style))
    return _options(Text.from_markup(text, style=style))


def _drawable(obj: Any, ctx: Any) -> bool:
    """Whether the page uses only what ``draw_help`` draws."""
    if getattr(obj, "rich_markup_mode", "rich") != "rich" or obj.deprecated or obj.epilog:
        return False
    parts: list[Any] = list(obj.get_params(ctx))
    if isinstance(obj, TyperGroup):
        parts += [obj.get_command(ctx, name) for name in obj.list_commands(ctx)]
    return not any(
        getattr(part, "rich_help_panel", None) or getattr(part, "deprecated", False)
        for part in parts
        if part is not None
    )


@group()
def _help_text(obj: Any) -> Iterable[RenderableType]:
    """The first paragraph as written, the rest dimmed (typer's _get_help_text, rich mode)."""
    help_text = inspect.cleandoc(obj.help or "").partition("\f")[0]
    first, *rest = help_text.split("\n\n")
    if not first.startswith("\b"):
        first = first.replace("\n", " ")
    yield _rich_text(first.strip())
    if rest:
        yield Text("")
        yield _rich_text("\n\n".join(rest), style=_STYLE_HELPTEXT)


def _param_help(param: Any, ctx: Any) -> Columns:
    """Help, env var, default and required mark of one parameter (typer's _get_parameter_help)."""
    items: list[Text] = []
    envvar = getattr(param, "envvar", None)
    if envvar is None and getattr(param, "allow_from_autoenv", None) and param.name:
        prefix = getattr(ctx, "auto_envvar_prefix", None)
        envvar = f"{prefix}_{param.name.upper()}" if prefix is not None else None
    help_value: str | None = getattr(param, "help", None)
    if help_value:
        paragraphs = [
            p.replace("\n", " ").strip() if not p.startswith("\b") else f"{p.strip(_VERBATIM)}\n"
            for p in help_value.split("\n\n")
        ]
        items.append(_rich_text("\n".join(paragraphs).strip()))
    if envvar and getattr(param, "show_envvar", None):
        names = envvar if isinstance(envvar, str) else ", ".join(str(d) for d in envvar)
        items.append(Text(f"[env var: {names}]", style=_STYLE_OPTION_ENVVAR))
    if isinstance(param, (TyperOption, TyperArgument)):
        default_value = param._extract_default_help_str(ctx=ctx)
        show_default_is_str = isinstance(param.show_default, str)
        if show_default_is_str or (
            default_value is not None and (param.show_default or ctx.show_default)
        ):
            default = param._get_default_string(
                ctx=ctx, show_default_is_str=show_default_is_str, default_value=default_value
            )
            if default:
                items.append(Text(f"[default: {default}]", style=_STYLE_OPTION_DEFAULT))
    if param.required:
        items.append(Text("[required]", style=_STYLE_REQUIRED_LONG))
    return Columns(items)


def _param_row(param: Any, ctx: Any) -> list[RenderableType]:
    """Long names, short names, negative long and short, type, help (typer's option rows)."""
    display = None
    if isinstance(param, TyperArgument):
        display = param.display_name_raw + (
            "..." if param.metavar is None and param.nargs != 1 else ""
        )
    longs: list[str] = []
    shorts: list[str] = []
    neg_longs: list[str] = []
    neg_shorts: list[str] = []
    for opt in param.opts:
        (longs if "--" in opt else shorts).append(opt if "--" in opt or not display else display)
    for opt in param.secondary_opts:
        (neg_longs if "--" in opt else neg_shorts).append(
            opt if "--" in opt or not display else display
        )
    types = Text(style=_STYLE_TYPES, overflow="fold")
    shown = param.display_type_rich(ctx=ctx)
    if shown is not None:
        types.append(shown)
    number_range = param._get_number_range_help_str()
    if number_range:
        types.append(f" [{number_range}]")
    return [
        _options(",".join(longs)),
        _options(",".join(shorts)),
        _negative(",".join(neg_longs)),
        _negative(",".join(neg_shorts)),
        _types(types),
        _param_help(param, ctx),
    ]


def _params_panel(title: str, params: list[Any], ctx: Any, console: Console) -> None:
    if not params:
        return
    rows = [_param_row(p, ctx) for p in params]
    required: list[RenderableType] = [
        Text("*", style=_STYLE_REQUIRED_SHORT) if p.required else "" for p in params
    ]
    table = Table(highlight=True, show_header=False, expand=True, **_TABLE)  # type: ignore[arg-type]
    for mark, row in zip(required, rows, strict=True):
        table.add_row(*([mark, *row] if any(required) else row))
    console.print(Panel(table, border_style=_STYLE_PANEL_BORDER, title=title, title_align="left"))


def _commands_panel(group_: Any, ctx: Any, console: Console) -> None:
    commands = [group_.get_command(ctx, name) for name in group_.list_commands(ctx)]
    shown = [c for c in commands if c is not None and not c.hidden]
    table = Table(highlight=False, show_header=False, expand=True, **_TABLE)  # type: ignore[arg-type]
    table.add_column(
        style=_STYLE_COMMAND_NAME,
        no_wrap=True,
        width=max((len(c.name or "") for c in shown), default=0),
    )
    table.add_column("Description", justify="left", no_wrap=False, ratio=10)
    for command in shown:
        first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        first = first.replace("\b\n", "") if first.startswith("\b") else first
        table.add_row(Text(command.name or ""), _rich_text(first.strip()))
    if table.row_count:
        console.print(
            Panel(table, border_style=_STYLE_PANEL_BORDER, title="Commands", title_align="left")
        )


def draw_help(obj: Any, ctx: Any) -> bool:
    """Print ``obj``'s help page as typer would; False (nothing printed) if it needs typer's own."""
    if not _drawable(obj, ctx):
        return False
    console = _console()
    console.print(Padding(_options(obj.get_usage(ctx)), 1), style=_STYLE_USAGE_COMMAND)
    if obj.help:
        console.print(Padding(Align(_help_text(obj), pad=False), (0, 1, 1, 1)))
    params = [p for p in obj.get_params(ctx) if not getattr(p, "hidden", False)]
    _params_panel("Arguments", [p for p in params if isinstance(p, TyperArgument)], ctx, console)
    _params_panel("Options", [p for p in params if isinstance(p, TyperOption)], ctx, console)
    if isinstance(obj, TyperGroup):
        _commands_panel(obj, ctx, console)
    return True
