"""win, report, team usage: the evidence that good prompts spread (metrics*.py, report*.py)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from promptlib.cli import console
from promptlib.cli.options import JsonOpt, TeamOpt


class Period(StrEnum):
    week = "week"
    month = "month"


class OnOff(StrEnum):
    on = "on"
    off = "off"


def win(
    name: Annotated[str, typer.Argument(help="Recipe name, collection/name, or a unique prefix "
                                        "(NAME@REV: the version that saved it; default: the "
                                        "one you last rendered).")],
    saved: Annotated[str | None, typer.Option("--saved", "-s", metavar="DURATION",
                                              help="Time it saved: 90s, 25m, 2h, 1h30m.")] = None,
    before: Annotated[str | None, typer.Option(
        "--before", metavar="DURATION",
        help="How long the task took without the recipe (with --after).")] = None,
    after: Annotated[str | None, typer.Option(
        "--after", metavar="DURATION",
        help="How long it takes with the recipe: saved = before - after.")] = None,
    note: Annotated[str | None, typer.Option(
        "--note", "-n", metavar="TEXT",
        help="What it saved you, in a sentence: the report quotes the best.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a concrete time saving from a recipe (a small file in wins/, committed)."""
    from promptlib.metrics import wins as metrics  # noqa: PLC0415  (start-up: only this path loads it)

    recorded = metrics.record_win(name, saved, note, before=before, after=after)
    if as_json:
        console.json(recorded.to_dict())
    w = recorded.win
    story = (f" ({metrics.format_minutes(w.before)} → {metrics.format_minutes(w.after)})"
             if w.before is not None and w.after is not None else "")
    console.success(f"recorded a win for {w.recipe}: "
                    f"{metrics.format_minutes(w.minutes)} saved{story}")
    if recorded.remote:
        console.hint(f"it travels with `promptlib push {recorded.collection}`")
    else:
        console.hint(f"recorded locally: {recorded.collection} has no remote, so the win stays "
                     "on this machine")


def report(
    since: Annotated[str | None, typer.Option("--since", metavar="DATE", help="First day "
                                              "(YYYY-MM-DD; default: 12 periods ago); the "
                                              "periods start at the first with data.")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DATE", help="Last day "
                                              "(YYYY-MM-DD; default: today).")] = None,
    by: Annotated[Period, typer.Option("--by", help="Group by ISO week or by "
                                       "month.")] = Period.week,
    team: TeamOpt = None,
    as_json: JsonOpt = False,
    html: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Also write one "
                                              "self-contained HTML page (inline SVG charts).")
                    ] = None,
) -> None:
    """Adoption, peer sharing and time saved, per week or month, with the trend."""
    from promptlib.cli.report_flow import run_report  # noqa: PLC0415  (start-up: only this path loads it)

    run_report(since, until, by.value, team or [], as_json, html)


def team_usage(
    name: Annotated[str, typer.Argument(help="The collection.")],
    publish: Annotated[OnOff | None, typer.Option("--publish", help="Publish daily per-person "
                                                  "render counts into its usage/ folder "
                                                  "(off by default).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or set whether a collection publishes usage counts; publish them now when on."""
    from promptlib.metrics import usage as metrics_usage  # noqa: PLC0415  (start-up: only this path loads it)

    result = metrics_usage.set_and_publish(name, None if publish is None else publish is OnOff.on)
    if as_json:
        console.json(result.to_dict())
    if not result.publishing:
        console.info(f"{name}: usage publishing is off (turn it on with "
                     f"`promptlib team usage {name} --publish on`)")
        return
    done = (f"published {len(result.paths)} usage file(s), committed"
            if result.paths else "nothing new to publish")
    console.info(f"{name}: usage publishing is on; {done}")
    if result.paths:
        console.hint(f"they travel with `promptlib push {name}`")
