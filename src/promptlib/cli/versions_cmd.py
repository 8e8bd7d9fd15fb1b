"""diff, restore, tag: comparing, rolling back and labelling versions of a recipe."""

from __future__ import annotations

from typing import Annotated

import typer

from promptlib.cli import console
from promptlib.cli.options import JsonOpt

VersionedName = Annotated[str, typer.Argument(
    help="Recipe name or collection/name, with @REV: a commit (or its start), a tag, a branch, "
         "a label, or ~N (N versions back).")]
_DIFF_STYLES = (("+++", ("bold",)), ("---", ("bold",)), ("@@", ("cyan",)), ("+", ("green",)),
                ("-", ("red",)))


def diff(
    name: Annotated[str, typer.Argument(help="Recipe name or collection/name (NAME@REV: that "
                                        "version is the old side).")],
    revs: Annotated[list[str] | None, typer.Argument(
        help="Up to two versions: REV compares it with the current file, REV REV the two. "
             "Default: the previous version against the current one.", show_default=False)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show how a recipe changed between two versions, as a unified diff."""
    from promptlib.catalog import versions  # noqa: PLC0415  (start-up: only this path loads it)

    result = versions.diff(name, revs or [])
    if as_json:
        console.json(result.to_dict())
        return
    for line in result.text.splitlines():
        styles = next((s for prefix, s in _DIFF_STYLES if line.startswith(prefix)), ())
        console.out(console.style(line, *styles))
    if not result.changed:
        console.info(f"{result.old.label} and {result.new.label} are the same")


def restore(name: VersionedName) -> None:
    """Bring back an old version of a recipe as a new commit (validated like `edit`)."""
    from promptlib.catalog import versions  # noqa: PLC0415  (start-up: only this path loads it)

    restored = versions.restore(name)
    short = restored.version.short
    if restored.commit is None:
        console.info(f"{restored.file.id} already is the version {short}: nothing to restore")
        return
    console.success(f"restored {restored.file.id} to {short} (new commit "
                    f"{restored.commit[:7]}; history keeps every version)")


def tag(
    name: VersionedName,
    label: Annotated[str, typer.Argument(help="The label, e.g. prod or v3 (then "
                                         "`render NAME@prod`).")],
    move: Annotated[bool, typer.Option("--move", help="Move the label if it is on another "
                                       "version already.")] = False,
) -> None:
    """Label a version of a recipe for the team (a git tag promptlib/NAME/LABEL, pushed)."""
    from promptlib.catalog import versions  # noqa: PLC0415  (start-up: only this path loads it)

    tagged = versions.tag(name, label, move=move)
    where = f"{tagged.file.id}@{tagged.version.short}"
    if tagged.unchanged:
        console.info(f"{tagged.file.id}: {label} already is {tagged.version.short}")
        return
    moved = f" (moved from {tagged.moved_from[:7]})" if tagged.moved_from else ""
    console.success(f"labelled {where} as {label!r}{moved}: `promptlib render "
                    f"{tagged.file.id}@{label}`")
    if tagged.pushed:
        console.info(f"{tagged.file.collection}: pushed {tagged.ref}")
    else:
        console.info(f"{tagged.file.collection} has no remote: the label stays on this machine")
