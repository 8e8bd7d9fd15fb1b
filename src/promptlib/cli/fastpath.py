"""The Typer-free fast path: a plain `promptlib search …`, `render …`, `redact …` or `report …`
is answered here, without importing Typer. Why: importing Typer and Click costs ~50 ms on the
2-core machine the budgets are set for, most of what a search may take in all (1.5x `grep -ril`
over 10,000 recipes, ~67 ms), half of what render may add to Jinja2 and redaction, and a tenth
of a warm report (docs/architecture.md, "Budgets"). The fast path knows only those commands'
options; anything else — `--help`, an unknown option, an odd `--limit` — falls through to the
Typer app, which owns every usage message. Both paths run the same functions
(`search_flow.run_search`, `render_flow.run_render`, `report_flow.run_report`, …) and turn
errors into the same message and exit code; tests/test_fastpath.py checks that they print the
same thing."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

# Options of `promptlib search` that take a value, by every spelling the fast path accepts.
_VALUE_OPTIONS = {"--tag": "tags", "-t": "tags", "--team": "teams", "--limit": "limit",
                  "-n": "limit"}


def fast_command(args: Sequence[str]) -> Callable[[], None] | None:
    """The command to run without Typer, or None when Typer should parse `args`."""
    if args[:1] == ["search"]:
        search = parse_search_args(args[1:])
        if search is not None:
            from promptlib.cli.search_flow import run_search  # noqa: PLC0415  (start-up: only this path loads it)

            return lambda: run_search(search.words, tags=search.tags, teams=search.teams,
                                      limit=search.limit, as_json=search.as_json,
                                      explain=search.explain)
    if args[:1] == ["render"]:
        from promptlib.cli import render_flow  # noqa: PLC0415  (start-up: only this path loads it)

        render = render_flow.parse_render_args(args[1:])
        if render is not None:
            return lambda: render_flow.run_render(render)
    if args[:1] == ["report"]:
        from promptlib.cli import report_flow  # noqa: PLC0415  (start-up: only this path loads it)

        report = report_flow.parse_report_args(args[1:])
        if report is not None:
            return lambda: report_flow.run_in_process(report)
    if args[:1] == ["redact"]:
        from promptlib.cli import redact_flow  # noqa: PLC0415  (start-up: only this path loads it)

        redact = redact_flow.parse_redact_args(list(args[1:]))
        if redact is not None:
            return lambda: redact_flow.run_redact(redact)
    return None


class SearchArgs(NamedTuple):
    words: list[str]
    tags: list[str]
    teams: list[str]
    limit: int
    as_json: bool
    explain: bool = False


def parse_search_args(args: Sequence[str]) -> SearchArgs | None:
    """The arguments of a plain search, parsed as Click would; None for anything unusual."""
    found: dict[str, list[str]] = {"words": [], "tags": [], "teams": [], "limit": []}
    as_json, explain, rest = False, False, list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            found["words"] += rest
            break
        if arg == "--json":
            as_json = True
        elif arg == "--explain":
            explain = True
        elif not arg.startswith("-") or arg == "-":
            found["words"].append(arg)
        else:
            name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
            if name not in _VALUE_OPTIONS or (not eq and not rest):
                return None
            value = value if eq else rest.pop(0)
            if value.startswith("-"):
                return None
            found[_VALUE_OPTIONS[name]].append(value)
    limits = found["limit"]
    if limits and not (limits[-1].isdigit() and int(limits[-1]) >= 1):
        return None
    return SearchArgs(found["words"], found["tags"], found["teams"],
                      int(limits[-1]) if limits else 20, as_json, explain)


def guarded(command: Callable[[], None]) -> int:
    """The error boundary of the fast path, as PromptlibGroup.invoke is for the Typer app."""
    from promptlib.cli import console  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.errors import PromptlibError  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.utils import notes  # noqa: PLC0415  (start-up: only this path loads it)

    try:
        with notes.listening(console.info):
            command()
    except PromptlibError as exc:
        console.error(exc.message, exc.hint)
        return exc.exit_code
    except BrokenPipeError:
        _silence_stdout()
    except (KeyboardInterrupt, EOFError):
        console.info("\nAborted!")
        return 1
    return 0


def _silence_stdout() -> None:
    """`promptlib search x | head` closed the pipe: not an error, and no noise at exit."""
    import os  # noqa: PLC0415  (stdlib, kept off the start-up path)

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


