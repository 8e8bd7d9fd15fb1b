"""`promptlib report` without Typer: the flow the Typer command runs.

The report allocates about a million small objects (renders, history events, the document) and
frees them all by reference counting: none of them is ever in a reference cycle. Python's cyclic
collector would still walk them a couple of hundred times on the way (0.06-0.1 s of a cold
report's ~1 s, measured at 10,000 recipes), so it is paused for the command (`collector_paused`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promptlib.cli import console

if TYPE_CHECKING:
    from promptlib.report.periods import By


def run_report(since: str | None, until: str | None, by: By, teams: Sequence[str],
               as_json: bool, html: Path | None) -> None:
    with collector_paused():
        _run(since, until, by, teams, as_json, html)


def _run(since: str | None, until: str | None, by: By, teams: Sequence[str], as_json: bool,
         html: Path | None) -> None:
    """The body. Every object it makes is gone when it returns, so the collector, enabled again
    after it, has nothing of the report's left to walk."""
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
