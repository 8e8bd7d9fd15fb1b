"""Collections on disk: the home, safe paths, atomic writes, and iterating recipes.

A collection is a plain git repository under `collections/`. Names are validated before they
touch a path, every path is checked to resolve inside its collection, and symlinks inside a
collection are never followed (a pulled tree may hold `leak.yaml -> /etc/passwd`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from promptlib import paths as config
from promptlib.errors import InvalidError, NotFoundError, PromptlibError, RecipeError
from promptlib.recipe.loader import load as load_recipe
from promptlib.recipe.model import Recipe, check_name, is_valid_name
from promptlib.utils.files import NotRegularFileError, read_nofollow

# What a lookup may be: a full name, or the start of one (`log-` is a fine prefix, not a name).
SEED_MESSAGE = "Seed the local collection from the promptlib starter library"


@dataclass(frozen=True)
class Collection:
    name: str
    path: Path


@dataclass(frozen=True)
class RecipeFile:
    """Where one recipe lives: its collection and its path inside it."""

    collection: str
    root: Path
    relpath: str  # POSIX-style, relative to the collection root

    @property
    def name(self) -> str:
        return Path(self.relpath).stem

    @property
    def id(self) -> str:
        return f"{self.collection}/{self.name}"

    @property
    def path(self) -> Path:
        return self.root / self.relpath


@dataclass(frozen=True)
class LoadedRecipe:
    file: RecipeFile
    recipe: Recipe

    @property
    def id(self) -> str:
        return self.file.id


# --- the home -------------------------------------------------------------------------------------


def ensure_home() -> Path:
    """Create the home on first use, with `local` seeded from the starter library in one commit.

    Serialized on the `local` lock, so two first commands started together seed it once.
    """
    local = config.collection_dir(config.LOCAL_COLLECTION)
    if (local / ".git").is_dir():
        return config.home()
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)

    with locked(config.LOCAL_COLLECTION):
        if not (local / ".git").is_dir():
            _create_collection(local, seed=True)
    return config.home()


def init_home(*, empty: bool) -> Collection:
    """`promptlib init`: create the home explicitly, seeded unless `empty`."""
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)

    local = config.collection_dir(config.LOCAL_COLLECTION)
    with locked(config.LOCAL_COLLECTION):
        if (local / ".git").is_dir():
            raise InvalidError(f"promptlib is already set up in {config.home()}",
                               hint="remove that folder first to start again")
        _create_collection(local, seed=not empty)
    return Collection(config.LOCAL_COLLECTION, local)


def create_collection(name: str) -> Collection:
    """A new, empty collection of your own (a git repository with no remote): `import --to`
    a name that is not a collection yet."""
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (only this path loads it)

    check_name(name, "collection name")
    ensure_home()
    path = config.collection_dir(name)
    with locked(name):
        if not (path / ".git").is_dir():
            _create_collection(path, seed=False)
    return Collection(name, path)


def _create_collection(path: Path, *, seed: bool) -> None:
    import shutil  # noqa: PLC0415  (with tempfile ~4 ms: a render or search never creates one)
    import tempfile  # noqa: PLC0415

    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)

    # Build beside the final place and rename, so a crash never leaves half a collection.
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".seed-", dir=path.parent))
    try:
        gitops.init(staging)
        if seed:
            copied = _copy_starter_library(staging)
            gitops.commit(staging, copied, SEED_MESSAGE)
        if path.exists():
            path.rmdir()  # an empty leftover folder; a non-empty one makes this fail loudly
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _copy_starter_library(dest: Path) -> list[str]:
    source = config.starter_library()
    if not source.is_dir():
        raise PromptlibError(f"the starter library is missing from this install ({source})",
                             hint="reinstall promptlib, or run `promptlib init --empty`")
    copied = []
    for rf in iter_recipe_files(Collection("starter", source)):
        target = dest / rf.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rf.path.read_bytes())
        copied.append(rf.relpath)
    return copied


# --- collections ----------------------------------------------------------------------------------


def collections() -> list[Collection]:
    """Every collection in the home, `local` first, then by name."""
    ensure_home()
    root = config.collections_dir()
    found = [
        Collection(entry.name, Path(entry.path))
        for entry in os.scandir(root)
        if entry.is_dir(follow_symlinks=False) and is_valid_name(entry.name)
        and Path(entry.path, ".git").is_dir()
    ]
    return sorted(found, key=lambda c: (c.name != config.LOCAL_COLLECTION, c.name))


def collection(name: str) -> Collection:
    check_name(name, "collection name")
    path = config.collection_dir(name)
    ensure_home()
    if not (path / ".git").is_dir():
        known = ", ".join(c.name for c in collections())
        raise NotFoundError(f"no collection named {name!r}", hint=f"collections: {known}")
    return Collection(name, path)


def selected(names: Iterable[str] | None) -> list[Collection]:
    """The named collections (`--team`), or all of them."""
    wanted = list(names or [])
    if not wanted:
        return collections()
    return [collection(n) for n in dict.fromkeys(wanted)]


# --- recipe files ---------------------------------------------------------------------------------


def iter_recipe_files(coll: Collection) -> Iterator[RecipeFile]:
    """Every `*.yaml` in a collection outside hidden folders and the reserved top-level ones."""
    for rel in walk_yaml(coll.path, skip_reserved=True):
        yield RecipeFile(coll.name, coll.path, rel)


def is_recipe_path(relpath: str) -> bool:
    """The rule `iter_recipe_files` applies, for a `/`-separated path in a git tree (where
    there is no folder to scan): a `.yaml` outside hidden and reserved top-level folders."""
    parts = relpath.split("/")
    return (relpath.endswith(config.RECIPE_SUFFIX)
            and not any(p.startswith(".") for p in parts)
            and not (len(parts) > 1 and parts[0] in config.RESERVED_DIRS))


def walk_yaml(root: Path, prefix: str = "", *, skip_reserved: bool = False) -> Iterator[str]:
    """`prefix` + the relative path of every `*.yaml` file under `root`, hidden ones left out.

    Symlinks are skipped, never followed: neither to files nor to folders. With
    `skip_reserved`, the reserved top-level folders (`wins/`, `usage/`) are left out too.
    """
    stack = [(root, prefix)]
    while stack:
        folder, rel_folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.is_symlink():
                continue
            rel = f"{rel_folder}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                top_level = folder == root
                if not (skip_reserved and top_level and entry.name in config.RESERVED_DIRS):
                    stack.append((Path(entry.path), rel + "/"))
            elif entry.name.endswith(config.RECIPE_SUFFIX) and entry.is_file(follow_symlinks=False):
                yield rel


def read(rf: RecipeFile) -> Recipe:
    """Load and validate one recipe file, refusing to follow a symlink to it."""
    data = read_bytes_nofollow(rf.path)
    return load_recipe(data, path=display_path(rf), expected_name=rf.name)


def read_bytes_nofollow(path: Path) -> bytes:
    try:
        # One byte past the limit, so the loader can say the file is too large.
        return read_nofollow(path, config.MAX_RECIPE_BYTES + 1)
    except NotRegularFileError:
        raise RecipeError("not a regular file", path=str(path)) from None
    except OSError as exc:
        raise RecipeError(f"cannot read: {exc.strerror}", path=str(path)) from None


def display_path(rf: RecipeFile) -> str:
    return f"{rf.collection}/{rf.relpath}"


def new_recipe_path(coll: Collection, recipe: Recipe) -> RecipeFile:
    """Where `add` puts a new recipe: a folder per use case, like the starter library — but never
    in a reserved folder (`wins/`, `usage/`), where it would not be read as a recipe."""
    folder = recipe.use_case if recipe.use_case not in config.RESERVED_DIRS else "recipes"
    relpath = f"{folder}/{recipe.name}{config.RECIPE_SUFFIX}"
    safe_path(coll, relpath)
    return RecipeFile(coll.name, coll.path, relpath)


def safe_path(coll: Collection, relpath: str) -> Path:
    """`relpath` inside `coll`, refusing anything that escapes it or passes through a symlink."""
    candidate = coll.path / relpath
    root = coll.path.resolve()
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root) or Path(relpath).is_absolute():
        raise InvalidError(f"path {relpath!r} leaves the collection {coll.name!r}")
    for parent in [candidate, *candidate.relative_to(coll.path).parents]:
        part = coll.path / parent
        if part.is_symlink():
            raise InvalidError(f"path {relpath!r} in {coll.name!r} goes through a symlink")
    return candidate
