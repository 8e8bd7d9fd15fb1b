"""import, export: other tools' prompt files in and out (fabric, llm, Prompty, GitHub Models,
Dotprompt)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

import typer

from promptlib.cli import console
from promptlib.cli.options import JsonOpt
from promptlib.errors import UsageError

if TYPE_CHECKING:
    from promptlib.catalog.transfer import OnConflict, Progress

FormatArg = Annotated[str, typer.Argument(metavar="FORMAT", help="fabric, llm, prompty, github "
                                          "(.prompt.yml) or dotprompt.")]
ON_CONFLICT = ("skip", "rename", "replace")


def _bar(label: str) -> Progress:
    """A progress bar on a terminal (nothing elsewhere) for the core to drive."""
    return lambda total: console.progress(total, label)


def import_cmd(
    fmt: FormatArg,
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="Files or folders (for "
                                               "fabric: the patterns folder).")],
    to: Annotated[str | None, typer.Option("--to", help="Collection to import into (created "
                                           "if new; default: the default collection).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Tag every imported "
                                                  "recipe; the first names the use case. "
                                                  "Repeatable.")] = None,
    on_conflict: Annotated[str, typer.Option("--on-conflict", metavar="skip|rename|replace",
                                             help="When a name is taken (default: skip).")]
    = "skip",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the report, write "
                                          "nothing.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Import prompts from fabric, llm, Prompty, GitHub Models or Dotprompt files: every one
    validated like `add`, all in one commit, every file named in the report."""
    from promptlib.catalog import transfer  # noqa: PLC0415  (only this command loads it)

    if on_conflict not in ON_CONFLICT:
        raise UsageError(f"--on-conflict {on_conflict!r}: use skip, rename or replace")
    report = transfer.import_files(fmt, paths, to=to, tags=tag or [],
                                   on_conflict=cast("OnConflict", on_conflict),
                                   dry_run=dry_run, progress=_bar("importing"))
    if json_out:
        console.json(report.to_dict())
    else:
        for item in report.items:
            _line(item.status, item.source, item.recipe, item.reason, item.notes)
        verb = "would import" if dry_run else "imported"
        where = report.collection + (" (a new collection)" if report.created_collection else "")
        summary = (f"{verb} {report.imported} of {len(report.items)} file(s) into {where}"
                   + (f" in one commit ({report.commit[:10]})" if report.commit else ""))
        skipped = report.count("skipped")
        console.success(summary + (f"; {skipped} skipped" if skipped else "")
                        + ("; dry run: nothing written" if dry_run else ""))
    if report.imported == 0:
        raise typer.Exit(4)


def export_cmd(
    fmt: FormatArg,
    names: Annotated[list[str] | None, typer.Argument(metavar="[NAME]...", help="Recipes to "
                                                      "export.")] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Folder to write into.")] = "",
    every: Annotated[bool, typer.Option("--all", help="Every recipe.")] = False,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Every recipe with this "
                                                  "tag (repeat: all of them).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Export recipes as fabric patterns, llm templates, .prompty, .prompt.yml or .prompt
    files; a recipe the format cannot express is refused with the reason."""
    from promptlib.catalog import export  # noqa: PLC0415  (only this command loads it)

    if not out:
        raise UsageError("missing --out DIR")
    report = export.export_recipes(fmt, names or [], every=every, tags=tag or [], out=out,
                                   progress=_bar("exporting"))
    if json_out:
        console.json(report.to_dict())
    else:
        for item in report.items:
            _line(item.status, item.source, ", ".join(item.files) or None, item.reason,
                  item.notes)
        refused = len(report.items) - report.exported
        console.success(f"exported {report.exported} of {len(report.items)} recipe(s) to "
                        f"{out} as {report.format}" + (f"; {refused} refused" if refused else ""))
    if report.exported == 0:
        raise typer.Exit(4)


def _line(status: str, source: str, target: str | None, reason: str, notes: list[str]) -> None:
    shown = f"{status:<9} {source}" + (f" → {target}" if target else "") \
        + (f": {reason}" if reason and status in ("skipped", "refused") else "") \
        + (f" ({reason})" if reason and status not in ("skipped", "refused") else "")
    console.out(shown)
    for note in notes:
        console.out(f"          note: {note}")
