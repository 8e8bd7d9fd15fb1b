"""`promptlib import FORMAT PATH…`: other tools' prompt files into a collection, as one batch.

Every converted recipe passes what `add` checks — the strict loader (name rules, fields), the
template's variables declared and used, no credential, every example rendered — and the valid
ones are written and committed together, in one commit. The report names every source file
with what happened to it: imported (as which recipe), renamed because the name was taken,
replaced, or skipped with the reason. `dry_run` builds the same report and writes nothing.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from promptlib.catalog import formats
from promptlib.catalog.formats import text
from promptlib.catalog.formats.base import Draft, Format, Skip
from promptlib.catalog.recipes import default_collection, example_problems, refuse_secrets
from promptlib.errors import (
    ConflictError,
    InvalidError,
    NotFoundError,
    PromptlibError,
    RecipeError,
)
from promptlib.recipe.loader import load as load_recipe
from promptlib.recipe.model import Recipe, is_valid_name
from promptlib.store import collections as store
from promptlib.utils.files import write_atomic, write_atomic_many

OnConflict = Literal["skip", "rename", "replace"]
# `progress(total)` is a context manager yielding `advance(n)`: the CLI passes a bar.
Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]


@dataclass
class Item:
    """One source file (import) or recipe (export) and what became of it."""

    source: str
    status: str  # imported | renamed | replaced | skipped | exported | refused
    recipe: str | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "status": self.status, "recipe": self.recipe,
                "reason": self.reason or None, "notes": self.notes,
                **({"files": self.files} if self.files else {})}


@dataclass
class ImportReport:
    format: str
    collection: str
    dry_run: bool
    items: list[Item]
    commit: str | None = None
    created_collection: bool = False

    def count(self, *statuses: str) -> int:
        return sum(1 for item in self.items if item.status in statuses)

    @property
    def imported(self) -> int:
        return self.count("imported", "renamed", "replaced")

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "collection": self.collection, "dry_run": self.dry_run,
                "commit": self.commit, "created_collection": self.created_collection,
                "imported": self.imported, "skipped": self.count("skipped"),
                "items": [item.to_dict() for item in self.items]}


@dataclass
class _Ready:
    """A draft that passed validation, with its recipe file's bytes."""

    draft: Draft
    data: bytes
    recipe: Recipe
    item: Item
    replaces: store.RecipeFile | None = None


def import_files(fmt_name: str, paths: Sequence[str], *, to: str | None = None,
                 tags: Sequence[str] = (), on_conflict: OnConflict = "skip",
                 dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
    """Convert, validate and (unless `dry_run`) write and commit every file under `paths`."""
    fmt = formats.get(fmt_name)
    given = [_tag(t) for t in tags]
    sources = _sources(fmt, paths)
    coll_name = to or default_collection()
    coll, created = _collection(coll_name, create=not dry_run)
    report = ImportReport(fmt.name, coll_name, dry_run, [], created_collection=created)
    show = progress or no_progress
    with show(2 * len(sources)) as advance:
        drafts: list[Draft] = []
        for source in sources:
            converted = fmt.read(source)
            if isinstance(converted, Skip):
                report.items.append(Item(converted.source, "skipped", reason=converted.reason))
            else:
                converted.tags = list(dict.fromkeys([*given, *converted.tags]))
                drafts.append(converted)
            advance(1)
        ready = _validate(drafts, fmt.name, coll, report, advance)
    report.items.sort(key=lambda item: item.source)  # the order the files were found in
    _resolve_names(ready, coll, on_conflict, report)
    if not dry_run and ready:
        report.commit = _write(coll, ready, fmt.name) if coll else None
    return report


@contextlib.contextmanager
def no_progress(_total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None


def _tag(tag: str) -> str:
    if not is_valid_name(tag):
        raise InvalidError(f"invalid tag {tag!r}: use lowercase letters, digits and inner "
                           "hyphens")
    return tag


def _sources(fmt: Format, paths: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise NotFoundError(f"{raw}: no such file or folder")
        found += fmt.find(path)
    if not found:
        raise NotFoundError(f"no {fmt.name} files in {', '.join(paths)}",
                            hint=_HINTS.get(fmt.name))
    return list(dict.fromkeys(found))


_HINTS = {
    "fabric": "give fabric's patterns folder (holding one folder per pattern, each with a "
              "system.md) or one pattern folder",
    "llm": "give llm's templates folder (`llm templates path`) or a template .yaml",
    "prompty": "give a .prompty file or a folder holding some",
    "github": "give a .prompt.yml file or a folder holding some",
    "dotprompt": "give a .prompt file or a folder holding some",
}


def _collection(name: str, *, create: bool) -> tuple[store.Collection | None, bool]:
    """The target collection; one that does not exist yet is created (not in a dry run)."""
    try:
        return store.collection(name), False
    except NotFoundError:
        if not create:
            return None, True  # a dry run: `store.collection` checked the name already
        return store.create_collection(name), True


# --- validation, as `add` does it, batched ----------------------------------------------------


def _validate(drafts: list[Draft], fmt: str, coll: store.Collection | None, report: ImportReport,
              advance: Callable[[int], None]) -> list[_Ready]:
    from promptlib.sandbox import api as sandbox  # noqa: PLC0415  (Jinja2 only when importing)

    # One bounded worker analyses every template: a fork per file would cost seconds.
    analyses = sandbox.check_templates([d.template for d in drafts])
    author = _author(coll) if any(d.author is None for d in drafts) else None
    ready: list[_Ready] = []
    for draft, used in zip(drafts, analyses, strict=True):
        item = Item(draft.source, "imported", notes=draft.notes)
        try:
            if isinstance(used, Exception):
                raise RecipeError(f"template: {used}")
            _reconcile(draft, used)
            draft.author = draft.author or author
            data = draft.yaml(fmt)
            recipe = load_recipe(data, path=draft.source)
            recipe.check_variables_used(used)
            refuse_secrets(data.decode("utf-8"), draft.source)
            problems, _ = example_problems(recipe, draft.source)
            if problems:
                raise InvalidError(problems[0])
        except PromptlibError as exc:
            item.status, item.reason = "skipped", _reason(exc, draft.source)
            report.items.append(item)
        else:
            ready.append(_Ready(draft, data, recipe, item))
            report.items.append(item)
        advance(1)
    return ready


def _reason(exc: PromptlibError, source: str) -> str:
    """Why a converted recipe failed, without the line numbers of the recipe file it would
    have become (the report already names the source file)."""
    if isinstance(exc, RecipeError):
        return f"{exc.field}: {exc.reason}" if exc.field else exc.reason
    return re.sub(rf"^{re.escape(source)}(:\d+)?: ", "", exc.message)


def _reconcile(draft: Draft, used: frozenset[str]) -> None:
    """Fit declared variables (Prompty inputs, a Dotprompt schema) to what the template reads,
    and keep only the examples that give every required value."""
    if draft.reconcile:
        for name in [n for n in draft.variables if n not in used]:
            del draft.variables[name]
            draft.notes.append(f"input {name!r} is declared but the template never uses it: "
                               "dropped")
        for name in sorted(used - set(draft.variables)):
            draft.variables[name] = {"description": text.humanize(name)}
            draft.notes.append(f"{name!r} is used but not declared: declared")
    kept = []
    for example in draft.examples:
        values = {k: v for k, v in (example.get("vars") or {}).items() if k in draft.variables}
        missing = [n for n, v in draft.variables.items() if n not in values
                   and v.get("default") is None and v.get("required", True)]
        if missing:
            draft.notes.append(f"an example without {', '.join(missing)} dropped")
        elif values:
            kept.append({**example, "vars": values})
    draft.examples = kept


def _author(coll: store.Collection | None) -> str | None:
    if coll is None:
        return None
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (git only when it is needed)

    name, email = gitops.identity(coll.path)
    return f"{name} <{email}>" if name or email else None


# --- names taken, and writing ------------------------------------------------------------------


def _resolve_names(ready: list[_Ready], coll: store.Collection | None, on_conflict: OnConflict,
                   report: ImportReport) -> None:
    existing = {rf.name: rf for rf in store.iter_recipe_files(coll)} if coll else {}
    taken: set[str] = set()
    for entry in list(ready):
        name = entry.recipe.name
        clash = existing.get(name)
        if name not in taken and clash is None:
            _accept(entry, name, "imported", taken, report)
        elif on_conflict == "replace" and name not in taken and clash is not None:
            entry.replaces = clash
            _accept(entry, name, "replaced", taken, report)
            entry.item.reason = f"replaced {clash.id}"
        elif on_conflict == "rename":
            new = _free_name(name, set(existing) | taken)
            entry.draft.name = new
            entry.data = entry.draft.yaml(report.format)
            entry.recipe = load_recipe(entry.data, path=entry.draft.source)
            _accept(entry, new, "renamed", taken, report)
            entry.item.reason = f"{name} was taken"
        else:
            where = clash.id if clash is not None else "another file of this import"
            entry.item.status = "skipped"
            entry.item.reason = (f"{report.collection}/{name} already exists ({where}); "
                                 "use --on-conflict rename or replace")
            ready.remove(entry)


def _accept(entry: _Ready, name: str, status: str, taken: set[str], report: ImportReport) -> None:
    taken.add(name)
    entry.item.status = status
    entry.item.recipe = f"{report.collection}/{name}"


def _free_name(name: str, taken: set[str]) -> str:
    for n in range(2, 10_000):
        suffix = f"-{n}"
        candidate = name[:64 - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
    raise InvalidError(f"no free name for {name}")


def _write(coll: store.Collection, ready: list[_Ready], fmt: str) -> str:
    """Every file written, then one commit; when the commit fails, the collection is put back
    as it was (new files removed, replaced ones restored)."""
    from promptlib.gitops import lock  # noqa: PLC0415  (git only when writing)
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (git only when writing)

    with lock.locked(coll.name):
        batch: list[tuple[Path, bytes]] = []
        before: list[tuple[Path, bytes | None]] = []
        relpaths: list[str] = []
        for entry in ready:
            if entry.replaces is not None:
                rf = entry.replaces
                path = store.safe_path(coll, rf.relpath)
                before.append((path, store.read_bytes_nofollow(path)))
            else:
                rf = store.new_recipe_path(coll, entry.recipe)  # checks the path is safe
                path = rf.path
                if path.exists():  # another promptlib wrote it since the names were checked
                    raise ConflictError(f"{rf.id} appeared while importing; nothing written",
                                        hint="run the import again")
                before.append((path, None))
            batch.append((path, entry.data))
            relpaths.append(rf.relpath)
            entry.item.files = [rf.relpath]
        count = len(ready)
        try:
            write_atomic_many(batch)
            return gitops.commit(coll.path, relpaths,
                                 f"Import {count} {fmt} recipe{'s' if count != 1 else ''}")
        except BaseException:
            for path, old in before:
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    write_atomic(path, old)
            raise
