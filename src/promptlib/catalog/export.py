"""`promptlib export FORMAT NAME…|--all|--tag T --out DIR`: recipes as other tools' files.

Each recipe is written in the target format, or refused with the reason when its template has
no faithful form there (Jinja2 control flow into a `{{var}}`-only format). What the target
cannot hold (defaults in fabric, examples in llm, …) is said per recipe. Nothing in a collection
changes; the output folder gets one file (or pattern folder) per recipe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptlib.catalog import formats, lookup
from promptlib.catalog.formats.base import UnexpressibleError
from promptlib.catalog.transfer import Item, Progress, no_progress
from promptlib.errors import InvalidError, NotFoundError, PromptlibError, RecipeError
from promptlib.store import collections as store
from promptlib.store.collections import LoadedRecipe
from promptlib.utils.files import write_atomic_many


@dataclass
class ExportReport:
    format: str
    out: str
    items: list[Item]

    @property
    def exported(self) -> int:
        return sum(1 for item in self.items if item.status == "exported")

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "out": self.out, "exported": self.exported,
                "refused": len(self.items) - self.exported,
                "items": [item.to_dict() for item in self.items]}


def export_recipes(fmt_name: str, refs: Sequence[str], *, every: bool = False,
                   tags: Sequence[str] = (), out: str,
                   progress: Progress | None = None) -> ExportReport:
    """Write the chosen recipes into `out` in the format `fmt_name`."""
    fmt = formats.get(fmt_name)
    chosen = _choose(refs, every=every, tags=tags)
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise InvalidError(f"{out} exists and is not a folder")
    report = ExportReport(fmt.name, out, [])
    files: dict[str, bytes] = {}
    written = []
    with (progress or no_progress)(len(chosen)) as advance:
        for loaded in chosen:
            item = Item(loaded.id, "exported", recipe=loaded.id)
            report.items.append(item)
            try:
                exported = fmt.write(loaded.recipe)
            except UnexpressibleError as exc:
                item.status, item.reason = "refused", exc.reason
            else:
                clash = [rel for rel in exported.files if rel in files]
                if clash:
                    item.status = "refused"
                    item.reason = f"{clash[0]} is already written by another recipe of that name"
                else:
                    files.update(exported.files)
                    item.files, item.notes = list(exported.files), exported.notes
                    written.append(loaded.recipe)
            advance(1)
    if written:
        files.update(fmt.finish(root, written))
    write_atomic_many([(_inside(root, rel), data) for rel, data in files.items()])
    return report


def _choose(refs: Sequence[str], *, every: bool, tags: Sequence[str]) -> list[LoadedRecipe]:
    if refs and (every or tags):
        raise InvalidError("name recipes, or use --all or --tag, not both")
    if refs:
        return [LoadedRecipe(rf, store.read(rf)) for rf in map(lookup.find, refs)]
    if not every and not tags:
        raise InvalidError("say which recipes: NAME…, --all or --tag TAG")
    chosen = []
    for coll in store.collections():
        for rf in store.iter_recipe_files(coll):
            try:
                recipe = store.read(rf)
            except RecipeError:
                continue  # a broken file is `lint`'s to report, not an export's
            if every or all(t in recipe.tags for t in tags):
                chosen.append(LoadedRecipe(rf, recipe))
    if not chosen:
        raise NotFoundError("no recipe has the tag(s) " + ", ".join(tags))
    return chosen


def _inside(root: Path, rel: str) -> Path:
    path = root / rel
    if not path.resolve().is_relative_to(root.resolve()):
        raise PromptlibError(f"refusing to write outside {root}: {rel}")
    return path
