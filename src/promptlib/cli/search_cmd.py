"""search: ranked search over every collection.

A plain `promptlib search …` never gets here: `promptlib.cli.fastpath` answers it without importing
Typer. This command serves everything else (`--help`, odd spellings, CliRunner in tests) and
prints through the same `run_search`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from promptlib.cli.options import JsonOpt, TagOpt, TeamOpt
from promptlib.cli.search_flow import run_search


def search(
    query: Annotated[list[str] | None, typer.Argument(
        help='Words to look for (recipes with all of them first, else with most). Also '
             '"a phrase", log* (a prefix), tag:TAG and team:COLLECTION.')] = None,
    tag: TagOpt = None,
    team: TeamOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many "
                                       "results.")] = 20,
    as_json: JsonOpt = False,
    explain: Annotated[bool, typer.Option("--explain", help="One line per hit: the fields and "
                                          "words it matched, and its usage boost.")] = False,
) -> None:
    """Find recipes: name, title and tags count more than the text; the team's use breaks ties."""
    run_search(query or [], tags=tag or [], teams=team or [], limit=limit, as_json=as_json,
               explain=explain)
