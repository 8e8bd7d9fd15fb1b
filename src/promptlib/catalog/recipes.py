"""What the recipe commands do: add, edit, remove, show, list, tags, history, lint.

Each function is one CLI command's single core call. Every write validates first, then happens
under the collection's lock as one atomic file write and exactly one commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from promptlib.catalog import lookup
from promptlib.errors import (
    ConflictError,
    InvalidError,
    PromptlibError,
    RecipeError,
    SecretFoundError,
    TemplateError,
)
from promptlib.recipe.loader import load as load_recipe
from promptlib.recipe.model import Recipe, check_name
from promptlib.store import collections as store
from promptlib.store.collections import Collection, LoadedRecipe, RecipeFile
from promptlib.utils.files import write_atomic
from promptlib.utils.yamltext import dump_yaml

if TYPE_CHECKING:
    from pathlib import Path

    from promptlib.gitops.versions import Version
    from promptlib.redact.allow import AllowList


@dataclass(frozen=True)
class RecipeFields:
    """A recipe as given on the command line: `add NAME --title … --template …`."""

    name: str
    title: str
    description: str
    tags: Sequence[str]
    template: str


def recipe_from_fields(fields: RecipeFields) -> bytes:
    """YAML for a recipe built from flags. Variables the template reads are declared for it,
    since a one-line `add` has no way to spell them out."""
    from promptlib.sandbox import api as sandbox  # noqa: PLC0415  (start-up: only this path loads it)

    check_name(fields.name)
    try:
        used = sorted(sandbox.template_variables(fields.template))
    except InvalidError as exc:
        raise RecipeError(str(exc), field="template") from None
    data: dict[str, Any] = {
        "name": fields.name,
        "title": fields.title,
        "description": fields.description or fields.title,
        "tags": list(fields.tags),
    }
    if used:
        data["variables"] = {v: {"description": v.replace("_", " ")} for v in used}
    data["template"] = fields.template if fields.template.endswith("\n") else fields.template + "\n"
    data["format"] = 1
    return dump_yaml(data).encode("utf-8")


def validate(data: bytes, *, path: str, expected_name: str | None = None,
             collection: Path | None = None) -> Recipe:
    """Everything `add` and `edit` check before writing: structure, template, secrets (with the
    allow-lists of the user and of the `collection` it is written to)."""
    recipe = load_recipe(data, path=path, expected_name=expected_name)
    try:
        check_template(recipe)
    except RecipeError as exc:
        raise exc.at(path) from None
    refuse_secrets(data.decode("utf-8"), path, collection=collection)
    problems, _ = example_problems(recipe, path)
    if problems:
        raise InvalidError(problems[0], hint="fix the example, or its `expect`"
                           + (f" ({len(problems) - 1} more problem(s))" if len(problems) > 1
                              else ""))
    return recipe


def check_template(recipe: Recipe) -> None:
    """Every variable the template reads is declared, and every declared one is read.

    Analysing a template compiles it, and Jinja2 folds constants while compiling, so this goes
    through the bounded sandbox: a hostile template fails here, fast, instead of hanging.
    """
    from promptlib.sandbox import api as sandbox  # noqa: PLC0415  (start-up: only this path loads it)

    try:
        used = sandbox.template_variables(recipe.template)
    except TemplateError as exc:
        raise RecipeError(str(exc), line=recipe.template_line, field="template") from None
    recipe.check_variables_used(used)


def refuse_secrets(text: str, where: str, *, collection: Path | None = None) -> None:
    from promptlib.redact import detector as redact  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.store import allow_lists  # noqa: PLC0415  (start-up: only this path loads it)

    findings = redact.find_secrets(text, allow=allow_lists.for_collection(collection))
    if findings:
        first = findings[0]
        kinds = ", ".join(sorted({f.kind for f in findings}))
        raise SecretFoundError(
            f"{where}:{first.line}: looks like a credential ({kinds}); refusing to store it",
            hint="remove it, or use a placeholder such as <API_KEY>",
        )


def _with_author(data: bytes, recipe: Recipe, coll: Collection) -> tuple[bytes, Recipe]:
    if recipe.author:
        return data, recipe
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)

    name, email = gitops.identity(coll.path)
    author = f"{name} <{email}>"
    # Append rather than re-dump: the user's layout and comments are theirs to keep.
    appended = data.rstrip(b"\n") + f"\nauthor: {json.dumps(author)}\n".encode()
    try:
        return appended, load_recipe(appended)
    except RecipeError:
        recipe = replace(recipe, author=author)
        return recipe.dump().encode("utf-8"), recipe


def default_collection() -> str:
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)

    return settings.load().default_collection


def add(data: bytes, *, to: str | None = None, source: str = "<new recipe>") -> RecipeFile:
    """Validate a new recipe, write it into a collection, commit. Nothing is written on error."""
    coll = store.collection(to or default_collection())
    recipe = validate(data, path=source, collection=coll.path)
    data, recipe = _with_author(data, recipe, coll)
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)

    with locked(coll.name):
        existing = [rf for rf in store.iter_recipe_files(coll) if rf.name == recipe.name]
        if existing:
            raise InvalidError(f"{existing[0].id} already exists",
                               hint=f"edit it with `promptlib edit {existing[0].id}`, "
                                    "or choose another name")
        rf = store.new_recipe_path(coll, recipe)
        write_atomic(rf.path, data)
        gitops.commit(coll.path, [rf.relpath], f"Add {recipe.name}: {recipe.title}")
    return rf


def read_source(ref: str) -> tuple[RecipeFile, bytes]:
    """The file and the bytes that `edit` opens."""
    rf = lookup.find(ref)
    return rf, store.read_bytes_nofollow(rf.path)


def save_edit(rf: RecipeFile, data: bytes, *, opened: bytes) -> bool:
    """Validate an edited recipe and commit it. False when there was nothing to commit.

    `opened` is the text the edit started from: if the file changed meanwhile (a pull, another
    edit), saving would silently undo that change, so it is a conflict instead (exit 5).
    """
    recipe = validate(data, path=store.display_path(rf), expected_name=rf.name,
                      collection=rf.root)
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)

    with locked(rf.collection):
        current = store.read_bytes_nofollow(rf.path)
        if current != opened:
            raise ConflictError(f"{rf.id} changed while you were editing it (a pull or another "
                                "edit); not saved over it")
        if current != data:
            write_atomic(rf.path, data)
        elif gitops.tracked_in_head(rf.root, rf.relpath) and not _uncommitted(rf):
            return False
        gitops.commit(rf.root, [rf.relpath], f"Edit {recipe.name}: {recipe.title}")
    return True


def _uncommitted(rf: RecipeFile) -> bool:
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)

    return bool(gitops.run(rf.root, "status", "--porcelain", "--", gitops.literal(rf.relpath)))


def remove(ref: str) -> tuple[RecipeFile, bool]:
    """Delete a recipe and commit that. Returns the file and whether a commit was made: a file
    that was never committed (dropped in by hand, or an `add` killed before its commit) is
    simply deleted and unstaged."""
    rf = lookup.find(ref)
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)

    with locked(rf.collection):
        path = store.safe_path(store.Collection(rf.collection, rf.root), rf.relpath)
        if not gitops.tracked_in_head(rf.root, rf.relpath):
            path.unlink()
            gitops.run(rf.root, "rm", "--cached", "--quiet", "--ignore-unmatch", "--",
                       gitops.literal(rf.relpath))
            return rf, False
        data = store.read_bytes_nofollow(path)
        path.unlink()
        try:
            gitops.commit(rf.root, [rf.relpath], f"Remove {rf.name}")
        except PromptlibError:
            write_atomic(path, data)  # nothing lost when the commit fails
            raise
    return rf, True


def show(ref: str) -> LoadedRecipe:
    rf = lookup.find(ref)
    return LoadedRecipe(rf, store.read(rf))


@dataclass(frozen=True)
class Shown:
    """A recipe as `render` and `show` read it: the file on disk, or a version out of git."""

    item: LoadedRecipe
    version: Version | None  # None: the file on disk
    blob: str  # git's object id of the bytes read: which version it is, found without git


def show_version(ref: str) -> Shown:
    """`NAME` (the file on disk) or `NAME@REV` (that version, read out of git)."""
    parsed = lookup.split_rev(ref)
    rf = lookup.find(parsed.name)
    if parsed.rev is None:
        data = store.read_bytes_nofollow(rf.path)
        recipe = load_recipe(data, path=store.display_path(rf), expected_name=rf.name)
        return Shown(LoadedRecipe(rf, recipe), None, blob_id(data))
    at = lookup.read_at(rf, parsed.rev)
    return Shown(LoadedRecipe(rf, at.recipe), at.version, at.version.blob)


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob (`git hash-object`), computed without git."""
    try:
        # CPython's own SHA-1: hashlib would load OpenSSL first, ~4 ms of every render.
        from _sha1 import sha1 as _sha1  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:  # a Python built without it
        from hashlib import sha1 as _sha1  # noqa: PLC0415

    digest: str = _sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324  (git's id)
    return digest


def recipe_json(item: LoadedRecipe) -> dict[str, Any]:
    return {"id": item.id, "collection": item.file.collection, "path": item.file.relpath,
            **item.recipe.to_dict()}


def history(ref: str) -> tuple[RecipeFile, list[Any]]:
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)

    rf, rev = lookup.find_rev(ref)
    if rev is not None:
        return rf, history_at(rf, rev)
    return rf, gitops.log(rf.root, rf.relpath)


def history_at(rf: RecipeFile, rev: str) -> list[Any]:
    """`history NAME@REV`: the recipe's history up to that version, newest first."""
    version = lookup.resolve_rev(rf, rev)
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)

    return [gitops.Commit(v.commit, v.author, v.email, v.date, v.message)
            for v in lookup.recipe_versions(rf, version.commit)]


# --- lint -----------------------------------------------------------------------------------------


@dataclass
class LintResult:
    id: str
    path: str
    problems: list[str] = field(default_factory=list)
    examples: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "ok": self.ok, "examples": self.examples,
                "problems": self.problems}


def lint(refs: Sequence[str] = ()) -> list[LintResult]:
    """Validate recipes, render each example and check its `expect`s, scan for secrets."""
    from promptlib.redact import detector as redact  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.sandbox import api as sandbox  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.store import allow_lists  # noqa: PLC0415  (start-up: only this path loads it)

    targets = [_lint_target(r) for r in refs] if refs else [
        (rf, None) for c in store.collections() for rf in store.iter_recipe_files(c)]
    results: list[LintResult] = []
    loaded: list[tuple[LintResult, Recipe]] = []
    allows: dict[Path, AllowList | None] = {}  # by collection
    for rf, version in targets:
        result = LintResult(rf.id if version is None else f"{rf.id}@{version[0].short}",
                            store.display_path(rf) if version is None
                            else lookup.version_path(rf, version[0]))
        results.append(result)
        try:
            data = store.read_bytes_nofollow(rf.path) if version is None else version[1]
            recipe = load_recipe(data, path=result.path, expected_name=rf.name)
        except RecipeError as exc:
            result.problems.append(str(exc))
            continue
        if rf.root not in allows:
            allows[rf.root] = allow_lists.for_collection(rf.root)
        allow = allows[rf.root]
        for finding in redact.find_secrets(data.decode("utf-8"), allow=allow):
            result.problems.append(f"{result.path}:{finding.line}: looks like a credential "
                                   f"({finding.kind})")
        loaded.append((result, recipe))
    # One bounded worker analyses every template: lint over thousands of recipes cannot fork
    # once per recipe.
    analyses = sandbox.check_templates([recipe.template for _, recipe in loaded])
    for (result, recipe), used in zip(loaded, analyses, strict=True):
        try:
            if isinstance(used, Exception):
                raise RecipeError(str(used), path=result.path, line=recipe.template_line,
                                  field="template")
            recipe.check_variables_used(used)
        except RecipeError as exc:
            result.problems.append(str(exc.at(result.path)) if exc.path is None else str(exc))
            continue
        _lint_examples(result, recipe)
    return results


def _lint_target(ref: str) -> tuple[RecipeFile, tuple[Version, bytes] | None]:
    """What `lint NAME[@REV]` checks: the file on disk, or that version's bytes."""
    rf, rev = lookup.find_rev(ref)
    return rf, None if rev is None else lookup.version_bytes(rf, rev)


def _lint_examples(result: LintResult, recipe: Recipe) -> None:
    problems, rendered = example_problems(recipe, result.path)
    result.problems += problems
    result.examples += rendered


def example_problems(recipe: Recipe, path: str) -> tuple[list[str], int]:
    """Render each example and check its `expect` substrings (DESIGN §2: each must render).
    Returns the problems found and how many examples rendered."""
    from promptlib.render import fill as render  # noqa: PLC0415  (start-up: only this path loads it)

    problems: list[str] = []
    rendered = 0
    for i, example in enumerate(recipe.examples):
        where = f"{path}:{example.line}: examples[{i}]"
        try:
            text = render.render_example(recipe, example.vars)
        except InvalidError as exc:
            problems.append(f"{where}: does not render: {exc}")
            continue
        rendered += 1
        missing = [e for e in example.expect if e not in text]
        if missing:
            problems.append(f"{where}: rendered prompt lacks expected text "
                            + ", ".join(repr(m) for m in missing))
    return problems, rendered
