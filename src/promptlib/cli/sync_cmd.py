"""pull, push, share, resolve: keeping collections in step with their team remotes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from promptlib import paths as config
from promptlib.cli import console
from promptlib.cli.options import JsonOpt

if TYPE_CHECKING:
    from promptlib.sync.resolve import Settled
    from promptlib.sync.state import Conflict, SyncReport

TeamsArg = Annotated[list[str] | None, typer.Argument(help="Collections to sync (default: every "
                                                      "collection with a remote).")]
SHOWN = 5


def _names(label: str, names: Sequence[str]) -> str:
    listed = ", ".join(names[:SHOWN]) + (", …" if len(names) > SHOWN else "")
    return f"{len(names)} {label} ({listed})"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def summary(report: SyncReport) -> str:
    """`sre: 3 new (disk-full-triage, …), 2 updated (…), 1 removed (…), 2 wins, 1 usage file,
    pushed 2 commits` — or `sre: 4 commits, no recipe changes`; `up to date` only when nothing
    came in."""
    parts = []
    if report.new:
        parts.append(_names("new", report.new))
    if report.updated:
        parts.append(_names("updated", report.updated))
    if report.removed:
        parts.append(_names("removed", report.removed))
    counts = report.file_counts()
    for kind, one, many in (("wins", "win", "wins"), ("usage", "usage file", "usage files"),
                            ("other", "other file", "other files")):
        if counts[kind]:
            parts.append(_count(counts[kind], one, many))
    if report.incoming and not parts:
        parts.append(_count(report.incoming, "commit", "commits") + ", no recipe changes")
    if report.pushed:
        parts.append(f"pushed {_count(report.pushed, 'commit', 'commits')}")
    if not parts:
        parts.append("remote is empty" if report.how == "empty-remote" else "up to date")
    return f"{report.collection}: " + ", ".join(parts)


def resolve_command(conflict: Conflict, ambiguous: set[str]) -> str:
    name = conflict.id if conflict.name in ambiguous else conflict.name
    return f"promptlib resolve {name} --keep mine|theirs|both"


def print_reports(reports: Sequence[SyncReport]) -> None:
    """The human report of a sync: messages, so on stderr (DESIGN §4); stdout is for `--json`."""
    from promptlib.cli.teams import warn_tree  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.sync.conflicts import THEIRS_REF  # noqa: PLC0415  (start-up: only this path loads it)

    counts = Counter(c.name for r in reports for c in r.conflicts)
    ambiguous = {name for name, n in counts.items() if n > 1}
    for report in reports:
        if report.committed:
            console.info(f"{report.collection}: committed your hand edits first "
                         f"({', '.join(report.committed)})")
        if report.error is not None:
            if len(reports) > 1:
                console.warn(f"{report.collection}: {report.error.message}")
            continue
        if report.conflicts:
            n = len(report.conflicts)
            console.info(f"{report.collection}: {n} conflict{'s' if n != 1 else ''} — changed "
                         "on both sides; yours is unchanged, theirs is kept. Settle each with:")
            width = max(len(c.name) for c in report.conflicts)
            for conflict in report.conflicts:
                note = f"   (recorded: keep {conflict.decided})" if conflict.decided else ""
                console.info(f"  {conflict.name.ljust(width)}  "
                             f"{resolve_command(conflict, ambiguous)}{note}")
            first = report.conflicts[0]
            console.hint(f"to read theirs: git -C {config.collection_dir(report.collection)} "
                         f"show {THEIRS_REF}:{first.relpath}")
            continue
        if not _only_review_news(report):
            console.info(summary(report))
        print_review(report)
        warn_tree(report.problems)


def _only_review_news(report: SyncReport) -> bool:
    """A review was published or found merged, and main has nothing else to say: no
    `up to date` line beside it."""
    return (bool(report.review or report.in_review or report.landed)
            and summary(report).endswith(": up to date"))


def print_review(report: SyncReport) -> None:
    """What `push --review` published, and which reviews a pull found merged."""
    for landed in report.landed:
        gone = "deleted here and on the remote" if landed.deleted_on_remote else "deleted here"
        console.info(f"{report.collection}: review {landed.branch} was merged; back on main "
                     f"(branch {gone})")
    review = report.review
    if review is not None:
        n = review.commits
        console.info(f"{report.collection}: pushed {n} commit{'s' if n != 1 else ''} for review "
                     f"to branch {review.branch}; main is untouched")
        if review.options:
            console.info(f"{report.collection}: asked the server to open the merge request")
        if review.link:
            console.info(f"open the request: {review.link}")
    elif report.in_review:
        console.info(f"{report.collection}: nothing new to review: already on "
                     f"{', '.join(report.in_review)}")


def _finish(reports: Sequence[SyncReport], as_json: bool, verb: str) -> None:
    from promptlib.sync import state as sync_report  # noqa: PLC0415  (start-up: only this path loads it)

    if as_json:
        console.json([r.to_dict() for r in reports])
    else:
        print_reports(reports)
        if not reports:
            console.hint(f"nothing to {verb}: no collection has a remote "
                         "(add one with `promptlib team add NAME URL`)")
    error = sync_report.overall_error(reports)
    if error is not None:
        raise error


def pull(teams: TeamsArg = None, as_json: JsonOpt = False) -> None:
    """Bring in the team's changes (commits your hand edits first; never loses work)."""
    from promptlib.sync import core as sync  # noqa: PLC0415  (start-up: only this path loads it)

    _finish(sync.pull(teams or []), as_json, "pull")


ReviewOpt = Annotated[bool | None, typer.Option(
    "--review/--no-review", help="Push to a new review branch promptlib/<you>/<topic> and print "
    "the pull/merge request link, never to main (default: the team's `review` setting).",
    show_default=False)]


def push(teams: TeamsArg = None, review: ReviewOpt = None, as_json: JsonOpt = False) -> None:
    """Publish your commits (pulls first when the remote moved; refuses credentials; never
    forces)."""
    from promptlib.sync import core as sync  # noqa: PLC0415  (start-up: only this path loads it)

    _finish(sync.push(teams or [], review=review), as_json, "push")


def share(
    name: Annotated[str, typer.Argument(help="Recipe name or collection/name.")],
    to: Annotated[str, typer.Option("--to", help="The team (collection) to share it with.")],
    as_name: Annotated[str | None, typer.Option("--as", help="A new name, when the team "
                                                "already has one by that name.")] = None,
    review: ReviewOpt = None,
) -> None:
    """Copy a recipe into another team's collection, commit and push it."""
    from promptlib.sync import core as sync  # noqa: PLC0415  (start-up: only this path loads it)

    result = sync.share(name, to, as_name, review=review)
    console.success(f"shared {result.source} → {result.target.id} "
                    f"(shared_from: {result.source})")
    if result.report is not None:
        _finish([result.report], False, "push")


class Keep(StrEnum):
    """`resolve --keep`: a Click choice, so a bad value is a usage error (exit 2)."""

    mine = "mine"
    theirs = "theirs"
    both = "both"


def kept(settled: Settled) -> str:
    """`kept mine` / `kept both; theirs is now sre/x-theirs`: what the merge did to one file."""
    if settled.keep != "both":
        return f"kept {settled.keep}"
    if settled.copy:
        return f"kept both; theirs is now {settled.copy}"
    return "kept both; theirs had deleted it, so there was nothing to copy"


def resolve(
    name: Annotated[str, typer.Argument(help="The conflicting recipe (name or collection/name).")],
    keep: Annotated[Keep, typer.Option("--keep", help="mine: your version; theirs: the "
                                       "remote's; both: yours, plus theirs as NAME-theirs.",
                                       case_sensitive=False)],
) -> None:
    """Settle a sync conflict on one recipe; merges and pushes once none is left open."""
    from promptlib.sync import resolve as sync_resolve  # noqa: PLC0415  (start-up: only this path loads it)

    result = sync_resolve.resolve(name, keep.value)
    conflict = result.conflict
    if not result.settled:
        console.success(f"recorded: keep {result.keep} for {conflict.id}"
                        + (" (theirs is copied beside it once every conflict is settled)"
                           if result.keep == "both" else ""))
        console.info("still to settle:")
        for other in result.remaining:
            console.info(f"  {other.name}  {resolve_command(other, set())}")
        return
    this = result.this
    console.success(f"resolved {conflict.id}: {kept(this) if this else f'kept {result.keep}'}"
                    "; merged with the remote")
    others = [s for s in result.merged if s is not this]
    if others:
        n = len(result.merged)
        console.info(f"the merge settled {n} conflicts in {conflict.collection}:")
        width = max(len(s.conflict.name) for s in result.merged)
        for settled in result.merged:
            console.info(f"  {settled.conflict.name.ljust(width)}  {kept(settled)}")
    if result.report is not None:
        _finish([result.report], False, "push")
