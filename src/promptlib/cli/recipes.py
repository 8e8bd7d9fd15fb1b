"""init, add, edit, show, list, tags, remove, history, lint."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from promptlib import paths as config
from promptlib.catalog import recipes as catalog
from promptlib.cli import console, editor
from promptlib.cli.options import JsonOpt, TagOpt, TeamOpt
from promptlib.errors import InvalidError, PromptlibError, RecipeError, UsageError
from promptlib.recipe.loader import load as load_recipe
from promptlib.recipe.model import Variable
from promptlib.store import collections as store


def warn_problems(problems: list[RecipeError]) -> None:
    """One bad file never stops a listing: say which, once, and carry on."""
    for problem in problems:
        console.warn(f"skipped {problem}")


def init(
    empty: Annotated[bool, typer.Option("--empty", help="Start with no recipes at all.")] = False,
    from_url: Annotated[str | None, typer.Option("--from", help="Clone this team repository as "
                                                 "the default collection for `add`.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name for the --from collection "
                                             "(default: from the URL).")] = None,
) -> None:
    """Create the promptlib home, with `local` seeded from the starter library."""
    if from_url is not None:
        from promptlib.cli.teams import warn_tree  # noqa: PLC0415  (start-up: only this path loads it)
        from promptlib.sync import teams  # noqa: PLC0415  (start-up: only this path loads it)

        added = teams.init_from(from_url, empty=empty, name=name)
        warn_tree(added.problems)
        console.success(f"{config.home()}: team {added.collection.name!r} cloned from "
                        f"{added.url} ({added.recipes} recipes) is the default collection "
                        "for `add`")
        return
    coll = store.init_home(empty=empty)
    count = sum(1 for _ in store.iter_recipe_files(coll))
    console.success(f"created {config.home()} with collection {coll.name!r} ({count} recipes)")


def add(
    name: Annotated[str | None, typer.Argument(help="Recipe name, e.g. disk-full-triage; `-` "
                                               "reads the recipe YAML from stdin.")] = None,
    file: Annotated[str | None, typer.Option("--file", "-f", help="Read the recipe YAML from "
                                             "this file, or `-` for stdin.")] = None,
    title: Annotated[str | None, typer.Option(help="One-line title.")] = None,
    description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; the first names "
                                                  "the use case. Repeatable.")] = None,
    template: Annotated[str | None, typer.Option(help="The Jinja2 prompt template.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Collection to add to (default: "
                                           "the default collection).")] = None,
    edit: Annotated[bool, typer.Option("--edit", help="Write or finish it in $EDITOR.")] = False,
) -> None:
    """Add a recipe from flags, a file, stdin or $EDITOR; validate, write and commit it."""
    if name == "-" and file is None:
        name, file = None, "-"
    if file is not None:
        if title or description or tag or template or edit:
            raise UsageError("--file takes the whole recipe from the file: leave out --title, "
                             "--description, --tag, --template and --edit")
        data, source = _read_recipe_file(file)
        if name is not None:
            _check_same_name(data, name, source)
    else:
        fields = catalog.RecipeFields(name or "", title or "", description or "", tag or [],
                                      template or "")
        if edit:
            data, source = editor.compose_new(fields), "<editor>"
        else:
            _require_flags(name, title, tag, template)
            data, source = catalog.recipe_from_fields(fields), "<flags>"
    if edit and file is None:
        rf = editor.add_new(data, lambda d: catalog.add(d, to=to, source=source))
    else:
        rf = catalog.add(data, to=to, source=source)
    console.success(f"added {rf.id} ({rf.relpath})")


def _read_recipe_file(path: str) -> tuple[bytes, str]:
    """The file's bytes, read no further than one byte past the recipe size limit, so that
    `add --file /dev/zero` is refused as too large instead of filling memory."""
    limit = config.MAX_RECIPE_BYTES + 1
    if path == "-":
        return sys.stdin.buffer.read(limit), "<stdin>"
    try:
        with Path(path).open("rb") as handle:
            return handle.read(limit), path
    except OSError as exc:
        raise InvalidError(f"cannot read {path}: {exc.strerror}") from None


def _check_same_name(data: bytes, name: str, source: str) -> None:
    recipe = load_recipe(data, path=source)
    if recipe.name != name:
        raise InvalidError(f"{source}: the file's name is {recipe.name!r}, not {name!r}")


def _require_flags(name: str | None, title: str | None, tag: list[str] | None,
                   template: str | None) -> None:
    absent = [flag for flag, value in (("NAME", name), ("--title", title), ("--tag", tag),
                                       ("--template", template)) if not value]
    if absent:
        raise UsageError(f"missing {', '.join(absent)}",
                         hint="give NAME --title --tag --template, or --file F, or --edit")


def edit_cmd(
    name: Annotated[str, typer.Argument(help="Recipe name or collection/name.")],
    file: Annotated[str | None, typer.Option("--file", "-f", help="Take the new text from this "
                                             "file (or `-` for stdin) instead of $EDITOR.")
                    ] = None,
) -> None:
    """Open a recipe in $EDITOR; re-validate on save (offering to re-open on error) and commit."""
    rf, opened = catalog.read_source(name)
    if file is not None:
        changed = catalog.save_edit(rf, _read_recipe_file(file)[0], opened=opened)
    else:
        changed = editor.edit_existing(rf, opened)
    if changed:
        console.success(f"saved {rf.id}")
    else:
        console.info(f"{rf.id}: no changes")


def show(name: Annotated[str, typer.Argument(help="Recipe name or collection/name; NAME@REV "
                                             "for a version (commit, tag, label, ~N).")],
         as_json: JsonOpt = False) -> None:
    """Show a recipe: metadata, variables and template."""
    shown = catalog.show_version(name)
    item, version = shown.item, shown.version
    if as_json:
        console.json({**catalog.recipe_json(item),
                      "commit": version.commit if version else None})
        return
    r = item.recipe
    console.out(console.style(item.id, "bold", "cyan") + f"  {r.title}")
    if version is not None:
        console.out(f"version: {version.short} ({version.date[:10]}, {version.author}: "
                    f"{version.message})")
    console.out(f"tags: {', '.join(r.tags)}")
    if r.author:
        console.out(f"author: {r.author}")
    if r.shared_from:
        console.out(f"shared from: {r.shared_from}")
    console.out("")
    console.out(r.description)
    if r.variables:
        console.out("")
        console.out(console.style("variables:", "bold"))
        for v in r.variables:
            console.out(f"  {v.name}{variable_notes(v)}" + (f" — {v.description}"
                                                            if v.description else ""))
    console.out("")
    console.out(console.style("template:", "bold"))
    console.out(r.template.rstrip("\n"))


def variable_notes(v: Variable) -> str:
    """` (required; stdin)`: what `show` (and pick's preview) says about a variable."""
    notes = []
    if v.required and v.default is None:
        notes.append("required")
    if v.default is not None:
        notes.append(f"default {v.default}" if v.default != "" else "default \"\"")
    if v.choices:
        notes.append("one of " + "|".join(v.choices))
    if v.stdin:
        notes.append("stdin")
    if v.max_chars:
        notes.append(f"max {v.max_chars} chars, keeps {v.truncate}")
    return f" ({'; '.join(notes)})" if notes else ""


def list_cmd(tag: TagOpt = None, team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """List all recipes (optionally by tag or collection)."""
    from promptlib.cli.search_flow import index_progress  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.index import search  # noqa: PLC0415  (start-up: only this path loads it)

    entries, problems = search.listing(tags=tag or [], teams=team or [],
                                       progress=index_progress)
    warn_problems(problems)
    if as_json:
        console.json([e.to_dict() for e in entries])
        return
    console.table(["ID", "TAGS", "TITLE"], [(e.id, ", ".join(e.tags), e.title) for e in entries])
    if not entries:
        console.hint("no recipes" + (" with that tag" if tag else ""))


def tags(team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """List tags with how many recipes carry each."""
    from promptlib.cli.search_flow import index_progress  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.index import search  # noqa: PLC0415  (start-up: only this path loads it)

    counts, problems = search.tag_counts(teams=team or [], progress=index_progress)
    warn_problems(problems)
    if as_json:
        console.json([{"tag": t, "count": n} for t, n in counts])
        return
    console.table(["TAG", "RECIPES"], [(t, str(n)) for t, n in counts])


def remove(name: Annotated[str, typer.Argument(help="Recipe name or collection/name.")]) -> None:
    """Delete a recipe and commit the removal (git history keeps it)."""
    rf, committed = catalog.remove(name)
    console.success(f"removed {rf.id} (its history stays in git)" if committed else
                    f"removed {rf.id} (it had never been committed)")


def history(name: Annotated[str, typer.Argument(help="Recipe name or collection/name; NAME@REV "
                                                "for its history up to that version.")],
            as_json: JsonOpt = False) -> None:
    """The recipe's git log: who changed it, when, and why."""
    _, commits = catalog.history(name)
    if as_json:
        console.json([c.to_dict() for c in commits])
        return
    console.table(["COMMIT", "DATE", "AUTHOR", "MESSAGE"],
                  [(c.sha[:10], c.date[:10], c.author, c.message) for c in commits])


def lint(names: Annotated[list[str] | None, typer.Argument(help="Recipes to check, NAME or "
                                                           "NAME@REV (default: all).")] = None,
         as_json: JsonOpt = False) -> None:
    """Validate recipes, render their examples, and scan them for secrets."""
    results = catalog.lint(names or [])
    failed = [r for r in results if not r.ok]
    if as_json:
        console.json([r.to_dict() for r in results])
    else:
        for result in failed:
            console.out(console.style(f"✗ {result.id}", "red", "bold"))
            for problem in result.problems:
                console.out(f"    {problem}")
        examples = sum(r.examples for r in results)
        console.info(f"{len(results) - len(failed)} of {len(results)} recipes ok, "
                     f"{examples} examples rendered")
    if failed:
        raise PromptlibError(f"{len(failed)} recipe(s) failed lint", exit_code=4)
