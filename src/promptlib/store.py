"""Collections on disk: the home, safe paths, atomic writes, and iterating recipes.

A collection is a plain git repository under `collections/`. Names are validated before they
touch a path, every path is checked to resolve inside its collection, and symlinks inside a
collection are never followed (a pulled tree may hold `leak.yaml -> /etc/passwd`).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from promptlib import config
from promptlib.errors import InvalidError, NotFoundError, PromptlibError, RecipeError
from promptlib.recipe import Recipe, check_name, is_valid_name
from promptlib.recipe import load as load_recipe

# What a lookup may be: a full name, or the start of one (`log-` is a fine prefix, not a name).
_PREFIX_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
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
    from promptlib import gitops

    with gitops.locked(config.LOCAL_COLLECTION):
        if not (local / ".git").is_dir():
            _create_collection(local, seed=True)
    return config.home()


def init_home(*, empty: bool) -> Collection:
    """`promptlib init`: create the home explicitly, seeded unless `empty`."""
    from promptlib import gitops

    local = config.collection_dir(config.LOCAL_COLLECTION)
    with gitops.locked(config.LOCAL_COLLECTION):
        if (local / ".git").is_dir():
            raise InvalidError(f"promptlib is already set up in {config.home()}",
                               hint="remove that folder first to start again")
        _create_collection(local, seed=not empty)
    return Collection(config.LOCAL_COLLECTION, local)


def _create_collection(path: Path, *, seed: bool) -> None:
    from promptlib import gitops

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
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise RecipeError(f"cannot read: {exc.strerror}", path=str(path)) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise RecipeError("not a regular file", path=str(path))
        # Read one byte past the limit so the loader can say the file is too large.
        return handle.read(config.MAX_RECIPE_BYTES + 1)


def display_path(rf: RecipeFile) -> str:
    return f"{rf.collection}/{rf.relpath}"


def find(ref: str) -> RecipeFile:
    """A recipe by `collection/name`, a bare name, or a unique prefix of a name.

    Not found (exit 3) lists up to five close names; ambiguous (exit 3) lists the candidates.
    """
    coll_name, sep, name = ref.rpartition("/")
    if not _PREFIX_RE.fullmatch(name):
        check_name(name)
    colls = [collection(coll_name)] if sep else collections()
    from promptlib import index

    # The search index knows every file's name: asking it spares `render` a walk over every
    # collection (tens of ms at 10,000 recipes). It answers only when it can vouch that no file
    # came or went since it was built; otherwise walk.
    files = index.find_files(colls, name)
    if files is None:
        files = [rf for c in colls for rf in iter_recipe_files(c)]
    return pick(ref, name, files)


def pick(ref: str, name: str, files: list[RecipeFile]) -> RecipeFile:
    """Choose `name` among candidate files: exact name first, then a unique prefix."""
    exact = [rf for rf in files if rf.name == name]
    matches = exact or [rf for rf in files if rf.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = ", ".join(rf.id for rf in matches[:10]) + (", …" if len(matches) > 10 else "")
        what = "is in several collections" if exact else "matches several recipes"
        raise NotFoundError(f"{name!r} {what}: {ids}", hint=f"name one, e.g. `{matches[0].id}`")
    raise NotFoundError(f"no recipe named {ref!r}",
                        hint=did_you_mean(name, sorted({rf.name for rf in files})))


def did_you_mean(name: str, names: list[str]) -> str | None:
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    return f"did you mean: {', '.join(close)}?" if close else None


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


# --- writing --------------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
