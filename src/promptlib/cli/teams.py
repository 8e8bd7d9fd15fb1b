"""team add/list/remove: team collections (git clones of a team's shared repository)."""

from __future__ import annotations

from typing import Annotated

import typer

from promptlib.cli import console
from promptlib.cli.options import JsonOpt


def warn_tree(problems: list[str]) -> None:
    """Files in a pulled tree that are not valid recipes: named once, never followed."""
    for problem in problems:
        console.warn(f"not a usable recipe: {problem}")


def team_add(
    name: Annotated[str, typer.Argument(help="Name for the team's collection, e.g. sre.")],
    url: Annotated[str, typer.Argument(help="The team repository: https://…, ssh://…, "
                                       "user@host:path, git://…, file://… or a local path.")],
    review: Annotated[bool, typer.Option("--review", help="Its main is protected: `push` goes "
                                         "to a review branch by default.")] = False,
) -> None:
    """Clone a team's recipe repository as a collection."""
    from promptlib.sync import teams  # noqa: PLC0415  (start-up: only this path loads it)

    added = teams.add(name, url, review=review)
    warn_tree(added.problems)
    console.success(f"added team {added.collection.name} from {url} "
                    f"({added.recipes} recipe{'s' if added.recipes != 1 else ''})")


def team_list(as_json: JsonOpt = False) -> None:
    """Teams with their URL, recipe count, commits ahead/behind and last sync."""
    from promptlib.metrics import wins as metrics  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.sync import teams  # noqa: PLC0415  (start-up: only this path loads it)

    infos = teams.list_teams()
    usage = {i.name: metrics.publishing(i.name) for i in infos}  # `team usage NAME --publish`
    if as_json:
        console.json([{**info.to_dict(), "publish_usage": usage[info.name]} for info in infos])
        return
    console.table(["NAME", "RECIPES", "AHEAD", "BEHIND", "LAST SYNC", "USAGE", "REVIEWS", "URL"],
                  [(i.name, str(i.recipes), str(i.ahead), str(i.behind),
                    (i.last_sync or "never").replace("T", " ").replace("+00:00", "Z"),
                    "published" if usage[i.name] else "private", str(len(i.reviews)), i.url)
                   for i in infos])
    for info in infos:
        for branch in info.reviews:
            console.info(f"{info.name}: open review branch {branch}")
    if not infos:
        console.hint("no teams yet: `promptlib team add NAME URL`")


def team_remove(
    name: Annotated[str, typer.Argument(help="The team to remove.")],
    force: Annotated[bool, typer.Option("--force", help="Remove even with unpushed work "
                                        "(it is lost).")] = False,
) -> None:
    """Remove a team's collection (refused while it holds unpushed work, unless --force)."""
    from promptlib.sync import teams  # noqa: PLC0415  (start-up: only this path loads it)

    removed = teams.remove(name, force=force)
    lost = removed.discarded_commits + removed.discarded_changes
    console.success(f"removed team {removed.name}" + (f" (discarded {lost} unpushed change"
                                                      f"{'s' if lost != 1 else ''})"
                                                      if lost else ""))


