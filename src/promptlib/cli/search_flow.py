"""`promptlib search` without Typer: one core call, then print. The fast path and the Typer
command both run `run_search`, so they print the same thing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager


def run_search(words: Sequence[str], *, tags: Sequence[str], teams: Sequence[str], limit: int,
               as_json: bool) -> None:
    """`promptlib search`: one core call, then print. Shared by the fast path and Typer."""
    from promptlib.cli import console  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.index import search as core  # noqa: PLC0415  (start-up: only this path loads it)

    results = core.search(words, tags=tags, teams=teams, limit=limit, progress=index_progress)
    for problem in results.problems:
        console.warn(f"skipped {problem}")
    if results.note:
        console.hint(results.note)
    if as_json:
        console.json([h.to_dict() for h in results.hits])
    for hit in [] if as_json else results.hits:
        # console.out drops any control character a recipe could carry (DESIGN §7).
        console.out(console.style(hit.id, "bold", "cyan") + f"  {hit.title}  "
                    + console.style(f"[{', '.join(hit.tags)}]", "dim"))
        if hit.marked:
            console.out("    " + _highlight(hit.marked))
    if not results.hits:
        console.hint("no recipes match; try fewer words, or `promptlib list`")


def _highlight(marked: str) -> str:
    from promptlib.cli import console  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.index.search import MARK_END, MARK_START  # noqa: PLC0415  (start-up: only this path loads it)

    parts = marked.replace(MARK_END, MARK_START).split(MARK_START)
    # Odd-numbered parts sat between a start and an end mark: the words that matched.
    return "".join(console.style(p, "bold", "yellow") if i % 2 else p
                   for i, p in enumerate(parts))


def index_progress(total: int) -> AbstractContextManager[Callable[[int], None]]:
    """A progress bar for a big index build (on a terminal): search, list and tags use it."""
    from promptlib.cli import console  # noqa: PLC0415  (start-up: only this path loads it)

    return console.progress(total, "indexing recipes")
