"""`--help` reads well at any width: prose wraps at the terminal, options show readable labels."""

from __future__ import annotations

import itertools
import re

import pytest
import typer
from typer.testing import CliRunner

from forensics.cli import app
from forensics.cli.group import readable_type, reflow

WIDTH = 80
_PROSE = re.compile(r"^ \S")
_PYTHON_TYPE_LABEL = re.compile(r"<(?:str|bool|int|float|path|list\[[^\]]*\])>", re.IGNORECASE)


def _command_paths() -> list[list[str]]:
    found: list[list[str]] = [[]]

    def walk(group: object, prefix: list[str]) -> None:
        for name, command in sorted(getattr(group, "commands", {}).items()):
            found.append([*prefix, name])
            walk(command, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return found


def _help(args: list[str], width: int = WIDTH) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.output


def _prose_lines(text: str) -> list[str]:
    """The description above the first panel, right-stripped (the panels wrap on their own)."""
    head = text.split("╭", 1)[0]
    return [line.rstrip() for line in head.splitlines()]


@pytest.mark.parametrize("args", _command_paths(), ids=lambda a: " ".join(a) or "forensics")
def test_help_has_no_orphan_lines_and_no_python_type_labels(args: list[str]) -> None:
    text = _help(args)
    assert not _PYTHON_TYPE_LABEL.search(text), text
    lines = _prose_lines(text)
    block = False  # inside a block introduced by "Example:" (verbatim lines, may be dedented)
    for line, following in itertools.pairwise(lines):
        block = (block or line.endswith(":")) and bool(line.strip())
        # Prose lines sit one column in; examples are indented further.
        if block or not (_PROSE.match(line) and _PROSE.match(following)):
            continue
        next_word = following.split()[0]
        # rich wraps a paragraph (one column of padding each side) only when the next word
        # does not fit; a shorter line is a hard break from the docstring, left as an orphan.
        assert len(line) + 1 + len(next_word) > WIDTH - 1, f"orphan line:\n{line}\n{following}"


def test_reflow_joins_prose_and_keeps_examples_and_bullets() -> None:
    text = (
        "Resumes where a killed run stopped. A source that still\n"
        "fails is a data gap.\n\n"
        "- first point\n- second\n  point\n\n"
        "Example:\n    forensics collect --hours 24\n    forensics collect --explain"
    )
    assert reflow(text) == (
        "Resumes where a killed run stopped. A source that still fails is a data gap.\n\n"
        "- first point\n- second\n  point\n\n"
        "Example:\n    forensics collect --hours 24\n    forensics collect --explain"
    )


def test_readable_type_names_what_one_occurrence_takes() -> None:
    from pathlib import Path

    assert readable_type(list[str] | None) == "TEXT"
    assert readable_type(list[Path]) == "PATH"
    assert readable_type(float) == "NUMBER"
    assert readable_type(int | None) == "INTEGER"


def test_flags_have_no_value_label_and_options_do() -> None:
    text = _help(["collect"], width=120)
    assert re.search(r"--service\s+TEXT\s", text)
    assert re.search(r"--hours\s+NUMBER\s", text)
    explain = next(line for line in text.splitlines() if "│ --explain" in line)
    assert re.search(r"--explain\s+Print the filters", explain), explain


def _typers_own_help(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]
) -> tuple[str, str]:
    """``args --help`` as forensics.cli.helppage draws it, and as typer.rich_utils draws it."""
    import typer.rich_utils

    from forensics.cli import helppage

    ours = CliRunner().invoke(app, [*args, "--help"], env=env)
    with monkeypatch.context() as patch:
        patch.setattr(helppage, "draw_help", lambda command, ctx: False)
        patch.setattr(typer.rich_utils, "FORCE_TERMINAL", True if "FORCE_COLOR" in env else None)
        theirs = CliRunner().invoke(app, [*args, "--help"], env=env)
    assert ours.exit_code == theirs.exit_code == 0, (ours.output, theirs.output)
    return ours.output, theirs.output


@pytest.mark.parametrize("args", _command_paths(), ids=lambda a: " ".join(a) or "forensics")
def test_help_page_is_typers_own(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    """helppage draws each page without typer.rich_utils' imports, and draws the same page."""
    for env in ({"COLUMNS": "80"}, {"COLUMNS": "123", "FORCE_COLOR": "1"}):
        ours, theirs = _typers_own_help(monkeypatch, args, env)
        assert ours == theirs
    assert "\x1b[" in ours  # the colour run was in colour


def test_every_command_draws_its_own_help() -> None:
    from forensics.cli.group import ForensicsCommand, ForensicsGroup

    root = typer.main.get_command(app)
    for args in _command_paths()[1:]:
        command = root
        for name in args:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert isinstance(command, (ForensicsCommand, ForensicsGroup)), args


def test_a_page_helppage_cannot_draw_is_left_to_typer() -> None:
    from forensics.cli.group import ForensicsTyper

    panels = ForensicsTyper()

    @panels.command()
    def one(
        flag: bool = typer.Option(False, "--flag", help="A flag.", rich_help_panel="Extra"),
    ) -> None:
        """One command."""

    @panels.command()
    def two() -> None:
        """Another."""

    result = CliRunner().invoke(panels, ["one", "--help"])
    assert result.exit_code == 0, result.output
    assert "─ Extra ─" in result.output and "A flag." in result.output


@pytest.mark.parametrize("args", _command_paths(), ids=lambda a: " ".join(a) or "forensics")
def test_help_shows_bracketed_words_as_written(args: list[str]) -> None:
    """`(or [bigquery] source)` read `(or  source)`: rich took `[bigquery]` for a style tag."""
    from forensics.cli.group import as_written

    command = typer.main.get_command(app)
    for name in args:
        command = command.commands[name]  # type: ignore[attr-defined]
    page = " ".join(_help(args, width=400).split())
    texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
    for text in texts:
        for bracketed in re.findall(r"\[[a-z#/@][^\[\]]*\]", as_written(text)):
            assert bracketed in page, (bracketed, text)


def test_escaping_for_rich_markup_is_idempotent_and_reversible() -> None:
    from forensics.cli.group import as_written, literal

    text = "Else [bigquery] source; PROJECT.DATASET [x/y] or [Z] and a [] pair."
    once = literal(text)
    assert once is not None
    assert literal(once) == once
    assert as_written(once) == text
    assert "[Z]" in once and "[]" in once  # no tag: left alone
