"""`promptlib search` without Typer: one core call, then print. The fast path and the Typer
command both run `run_search`, so they print the same thing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promptlib.index.search import Hit


def run_search(words: Sequence[str], *, tags: Sequence[str], teams: Sequence[str], limit: int,
               as_json: bool, explain: bool = False) -> None:
    """`promptlib search`: one core call, then print. Shared by the fast path and Typer."""
    from promptlib.cli import console  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.index import search as core  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.metrics import popularity  # noqa: PLC0415  (start-up: only this path loads it)

    results = core.search(words, tags=tags, teams=teams, limit=limit, progress=index_progress,
                          uses=popularity.recent_renders(), explain=explain)
    for problem in results.problems:
        console.warn(f"skipped {problem}")
    for note in results.notes:
        console.hint(note)
    if as_json:
        console.json([h.to_dict() for h in results.hits])
    for hit in [] if as_json else results.hits:
        if explain:
            console.out(console.style(hit.id, "bold", "cyan") + "  " + explanation(hit))
            continue
        # console.out drops any control character a recipe could carry (DESIGN §7).
        console.out(console.style(hit.id, "bold", "cyan") + f"  {hit.title}  "
                    + console.style(f"[{', '.join(hit.tags)}]", "dim"))
        if hit.marked:
            console.out("    " + _highlight(hit.marked))
    if not results.hits:
        console.hint("no recipes match; try fewer words, or `promptlib list`")


def explanation(hit: Hit) -> str:
    """`score 1.90 (text 1.81, use +4.9%: 6 renders in 8 weeks) · 1/1 words · name: log; …`"""
    from promptlib.metrics.popularity import WINDOW_DAYS  # noqa: PLC0415  (explain only)

    weeks = WINDOW_DAYS // 7
    renders = (f"{hit.renders} render{'' if hit.renders == 1 else 's'}" if hit.renders
               else "no renders")
    fields = "; ".join(f"{field}: {', '.join(words)}"
                       for field, words in (hit.fields or {}).items())
    return (f"score {hit.score:.2f} (text {hit.text_score:.2f}, use +{hit.usage_boost:.1%}: "
            f"{renders} in {weeks} weeks) · {hit.words_matched}/{hit.words} words · "
            f"{fields or 'listed by name'}")


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
