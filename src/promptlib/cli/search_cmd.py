"""search: ranked search over every collection."""

from __future__ import annotations

from typing import Annotated

import typer

from promptlib import console
from promptlib.cli.app import app
from promptlib.cli.recipes import JsonOpt, TagOpt, TeamOpt, warn_problems


@app.command()
def search(
    query: Annotated[list[str] | None, typer.Argument(help="Words to look for; all must "
                                                      "match.")] = None,
    tag: TagOpt = None,
    team: TeamOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many "
                                       "results.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Find recipes: name, title and tags count more than the text."""
    from promptlib import search as core

    results = core.search(query or [], tags=tag or [], teams=team or [], limit=limit)
    warn_problems(results.problems)
    if results.note:
        console.hint(results.note)
    if as_json:
        console.json([h.to_dict() for h in results.hits])
    else:
        for hit in results.hits:
            r = hit.item.recipe
            console.out(console.style(hit.item.id, "bold", "cyan") + f"  {r.title}  "
                        + console.style(f"[{', '.join(r.tags)}]", "dim"))
            if hit.snippet:
                console.out(f"    {hit.snippet}")
    if not results.hits:
        console.hint("no recipes match; try fewer words, or `promptlib list`")
