"""`promptlib report` without Typer: the flow both the Typer command and the fast path run.

Importing Typer and Click costs ~50 ms, a tenth of a warm report, so a plain report (only its
own options, each spelled out) is parsed here (`parse_report_args`); anything unusual
(`--help`, an unknown option, a `--by` that is not `week` or `month`, a value that starts with
`-`) returns None and goes to Typer, which owns every usage message.

The report allocates about a million small objects (renders, history events, the document) and
reference counting frees them: they hold no reference cycles for the cyclic collector to find.
The collector would still walk them a couple of hundred times on the way (0.06-0.1 s of a cold
report's ~1 s, measured at 10,000 recipes), so it is paused for the command (`collector_paused`)
and runs again, as usual, after it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from promptlib.cli import console

if TYPE_CHECKING:
    from promptlib.report.periods import By


# Options of `promptlib report` that take a value, by the field they fill.
_VALUE_OPTIONS = {"--since": "since", "--until": "until", "--by": "by", "--team": "teams",
                  "--html": "html"}


@dataclass(frozen=True)
class ReportArgs:
    since: str | None = None
    until: str | None = None
    by: By = "week"
    teams: tuple[str, ...] = ()
    as_json: bool = False
    html: Path | None = None


def parse_report_args(args: Sequence[str]) -> ReportArgs | None:
    """report's options, parsed as Click would (the last of a repeated option wins; `--team`
    adds up); None for anything unusual."""
    found: dict[str, list[str]] = {field: [] for field in _VALUE_OPTIONS.values()}
    as_json, rest = False, list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--json":
            as_json = True
            continue
        option, eq, value = arg.partition("=")
        if option not in _VALUE_OPTIONS or (not eq and not rest):
            return None
        value = value if eq else rest.pop(0)
        if not value or value.startswith("-"):
            return None
        found[_VALUE_OPTIONS[option]].append(value)
    by = found["by"][-1] if found["by"] else "week"
    if by not in ("week", "month"):
        return None
    since, until, html = (found[key][-1] if found[key] else None
                          for key in ("since", "until", "html"))
    return ReportArgs(since, until, cast("By", by), tuple(found["teams"]), as_json,
                      None if html is None else Path(html))


def run_in_process(args: ReportArgs) -> None:
    """`run_report` as the whole process (the fast path), which ends right after it."""
    run_report(args.since, args.until, args.by, args.teams, args.as_json, args.html)
    import gc  # noqa: PLC0415  (stdlib, kept off the start-up path)

    # On its way out Python collects every object still alive (every module's), ~20 ms after a
    # report. Nothing left needs it: the report's files are closed and its git processes waited
    # for. Frozen objects are left out of that last collection.
    gc.freeze()


def run_report(since: str | None, until: str | None, by: By, teams: Sequence[str],
               as_json: bool, html: Path | None) -> None:
    with collector_paused():
        _run(since, until, by, teams, as_json, html)


def _run(since: str | None, until: str | None, by: By, teams: Sequence[str], as_json: bool,
         html: Path | None) -> None:
    """The body. Its objects are gone when it returns, so the collector, enabled again after
    it, has hardly anything of the report's left to walk."""
    from promptlib.report import document as core  # noqa: PLC0415  (start-up: only this path loads it)

    if html is not None:
        from promptlib.cli import report_html  # noqa: PLC0415  (start-up: only this path loads it)

        report_html.target(html)  # a missing folder fails before the work, not after it
    result = core.build(since, until, by, list(teams))
    for problem in result.problems:
        console.warn(f"skipped {problem}")
    if html is not None:
        report_html.write(result.doc, html)
        console.success(f"wrote {html}")
    if as_json:
        console.json(result.doc)
    elif html is None:
        from promptlib.cli import report_view  # noqa: PLC0415  (start-up: only this path loads it)

        report_view.show(result.doc)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block, back as it was after it."""
    import gc  # noqa: PLC0415  (stdlib, kept off the start-up path)

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
