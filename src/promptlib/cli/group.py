"""The Typer group with the one error boundary, and how every (sub-)app is made.

Plain click help (`rich_markup_mode=None`): Rich formatting would import `rich` on every
`--help`, ~45 ms of a budget of ~110 ms.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from promptlib.cli import console
from promptlib.errors import PromptlibError
from promptlib.utils import notes

PICK_TIP = "New here? `promptlib pick` finds a recipe as you type, fills it in and prints it."


class PromptlibGroup(TyperGroup):
    """Turns every PromptlibError from any command into one message on stderr and its exit code;
    shows the core's notes on stderr as they come; lists the commands by section in --help."""

    def invoke(self, ctx: Any) -> Any:
        try:
            with notes.listening(console.info):
                return super().invoke(ctx)
        except PromptlibError as exc:
            console.error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # `promptlib list | head` closed the pipe: not an error worth a traceback.
            raise typer.Exit(0) from None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """`promptlib` alone, typed at a terminal: the help and where to start, not an error.
        (In a script it stays a usage error, exit 2, with the help on stderr.)"""
        if not args and ctx.parent is None and console.interactive():
            console.out(ctx.get_help())
            console.out("")
            console.out(PICK_TIP)
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands under their sections (`rich_help_panel`, as registered in app.py), in
        the order they were registered: everyday ones first, then sharing, then metrics."""
        sections: dict[str, list[tuple[str, str]]] = {}
        commands = [(name, self.get_command(ctx, name)) for name in self.list_commands(ctx)]
        shown = [(name, cmd) for name, cmd in commands if cmd is not None and not cmd.hidden]
        if not shown:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in shown)
        for name, cmd in shown:
            section = getattr(cmd, "rich_help_panel", None) or "Commands"
            sections.setdefault(section, []).append((name, cmd.get_short_help_str(limit)))
        for section, rows in sections.items():
            with formatter.section(section):
                formatter.write_dl(rows)


def new_app(help_text: str, **kwargs: Any) -> typer.Typer:
    return typer.Typer(
        cls=PromptlibGroup,
        help=help_text,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        **kwargs,
    )
