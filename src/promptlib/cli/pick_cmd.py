"""pick: find a recipe as you type, fill it in, print it (or copy it) — the 3 AM path."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated

import typer

from promptlib.cli import picker
from promptlib.cli.render_flow import RenderArgs, run_render

if TYPE_CHECKING:
    from promptlib.index.search import Hit

EXIT_LEFT = 130  # what a shell reports for Ctrl-C: the user left, nothing was printed


def pick(
    query: Annotated[list[str] | None, typer.Argument(help="Words to start the search with.")
                     ] = None,
    copy: Annotated[bool, typer.Option("--copy", "-c", help="Put the prompt on the clipboard "
                                       "instead of printing it.")] = False,
) -> None:
    """Find a recipe as you type, answer its questions, and print the prompt (Esc leaves)."""
    from promptlib.catalog import recipes as catalog  # noqa: PLC0415  (pick only)
    from promptlib.index import search  # noqa: PLC0415  (pick only)

    preview: Callable[[str], str] = cache(lambda recipe_id: picker.preview(
        catalog.show(recipe_id)))
    with picker.terminal() as term:
        with search.session() as find:
            hit: Hit | None = picker.choose(" ".join(query or []),
                                            lambda words: find(words, picker.SHOWN),
                                            lambda hit: _safe(preview, hit.id), term)
        if hit is None:
            raise typer.Exit(EXIT_LEFT)
        try:
            run_render(RenderArgs(hit.id, copy=copy), ask=picker.asker(term), via="pick")
        except (KeyboardInterrupt, EOFError):
            raise typer.Exit(EXIT_LEFT) from None


def _safe(preview: Callable[[str], str], recipe_id: str) -> str:
    """The preview, or why there is none: a broken file must not end the finder."""
    from promptlib.errors import PromptlibError  # noqa: PLC0415  (pick only)

    try:
        return preview(recipe_id)
    except PromptlibError as exc:
        return f"{recipe_id}: {exc.message}"
