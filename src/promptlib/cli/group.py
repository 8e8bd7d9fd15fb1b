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


class PromptlibGroup(TyperGroup):
    """Turns every PromptlibError from any command into one message on stderr and its exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PromptlibError as exc:
            console.error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # `promptlib list | head` closed the pipe: not an error worth a traceback.
            raise typer.Exit(0) from None


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
