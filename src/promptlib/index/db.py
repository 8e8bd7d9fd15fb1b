"""The search index: SQLite FTS5 in the cache dir over every collection, kept in step with the disk.

This module is the index's public face and its file: the schema (here rather than with the code
that fills it, since every reader depends on it too: the version check, `WEIGHTS` and
index/search.py name its columns), opening the file, the write lock, and the calls the rest of
promptlib makes (`fresh` and `recheck` for search, `find_files` for `catalog.lookup.find`).
The work behind those calls is split by when it runs:

- index/fresh.py: the freshness checks every search makes (HEADs read from `.git`, folder mtimes,
  a bounded sweep of file stats), cheap by design; its docstring says how they are bounded.
- index/build.py: listing dirty folders again, parsing what changed (in a pool when there is a lot
  of it) and writing the rows; imported only when the index has something to catch up on.

A missing, corrupt or old-format index file is deleted and built again. Writers serialize on a
lock file and re-check under it, so two searches never build twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from promptlib import paths as config
from promptlib.errors import PromptlibError, RecipeError
from promptlib.index.fresh import (
    Plan,
    Progress,
    changed,
    disk_collections,
    plan,
)
from promptlib.index.stamps import SCHEMA_VERSION, dir_sig

if TYPE_CHECKING:
    from promptlib.store.collections import Collection, RecipeFile

# name > tags = title > description > variables > template (DESIGN §6 and issue #4).
WEIGHTS = (10.0, 6.0, 6.0, 3.0, 2.0, 1.0)


_SCHEMA = """
CREATE TABLE collections(name TEXT PRIMARY KEY, head TEXT NOT NULL);
CREATE TABLE dirs(
    id INTEGER PRIMARY KEY, collection TEXT NOT NULL, reldir TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL, ino INTEGER NOT NULL, nfiles INTEGER NOT NULL,
    names TEXT NOT NULL, stats BLOB NOT NULL, UNIQUE(collection, reldir));
CREATE TABLE files(
    id INTEGER PRIMARY KEY, dir_id INTEGER NOT NULL, collection TEXT NOT NULL,
    relpath TEXT NOT NULL, name TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', problem TEXT,
    -- Each variable's Variable.to_dict() plus its name, as a JSON list: `promptlib mcp` lists
    -- prompt arguments from here, never parsing YAML (index/pages.py).
    variables TEXT NOT NULL DEFAULT '[]',
    UNIQUE(collection, relpath));
CREATE INDEX files_name ON files(name);
CREATE INDEX files_dir ON files(dir_id);
CREATE INDEX files_problem ON files(collection, relpath) WHERE problem IS NOT NULL;
CREATE TABLE tags(file_id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY(file_id, tag))
    WITHOUT ROWID;
CREATE INDEX tags_tag ON tags(tag);
CREATE VIRTUAL TABLE recipes USING fts5(
    name, tags, title, description, variables, template,
    tokenize = 'porter unicode61 remove_diacritics 2');
-- The words people type, unstemmed, for "did you mean" when a query finds nothing.
CREATE VIRTUAL TABLE words USING fts5(
    text, content = '', detail = none, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE words_vocab USING fts5vocab(words, 'row');
-- Terms held in memory before FTS5 writes them out as a segment (1 MB by default): a full build
-- writes and merges a quarter as many, for ~12% fewer instructions in the process that writes the
-- index (the rows and the results are the same), for a few MB more while it runs.
INSERT INTO recipes(recipes, rank) VALUES('hashsize', 4194304);
"""


class Index(NamedTuple):
    """An open, fresh index and the collections it covers (in `store.collections()` order)."""

    conn: sqlite3.Connection
    roots: dict[str, Path]

    @property
    def collections(self) -> list[str]:
        return list(self.roots)

    def close(self) -> None:
        self.conn.close()


# --- opening --------------------------------------------------------------------------------------


def fresh(progress: Progress | None = None, *, sweep: bool = True) -> Index:
    """The index, brought up to date with every collection: the one call `search` makes.
    (`sweep=False`: see `index.fresh.plan`.)"""
    colls = disk_collections()
    path = config.index_file()
    conn, found, version = _read_plan(path, colls, sweep=sweep)
    if conn is not None and found is not None and found.clean:
        return Index(conn, colls)
    with _write_lock():
        # Another process may have updated the index while this one waited for the lock.
        if conn is None or found is None or _data_version(conn) != version:
            if conn is not None:
                conn.close()
            conn = _open_for_writing(path)
            found = plan(conn, colls, sweep=sweep)
        try:
            if not found.clean:
                from promptlib.index import build as index_build  # noqa: PLC0415  (start-up: only this path loads it)

                index_build.apply(conn, found, colls, progress)
        except BaseException:
            conn.close()
            raise
    return Index(conn, colls)


def recheck(idx: Index, files: Iterable[tuple[str, str]]) -> bool:
    """Re-check the files a search is about to show, given as (collection, relpath): the sweep of
    a big library comes round to each file only now and then, but a hit is never shown stale.
    Re-indexes the folders of any that changed; True if it did."""
    stale: set[tuple[str, str]] = set()
    for (collection, reldir), names in _by_folder(files).items():
        row = idx.conn.execute("SELECT names, stats FROM dirs WHERE collection = ? AND "
                               "reldir = ?", (collection, reldir)).fetchone()
        if row is None or changed(idx.roots[collection], reldir, names, *row):
            stale.add((collection, reldir))
    if not stale:
        return False
    from promptlib.index import build as index_build  # noqa: PLC0415  (start-up: only this path loads it)

    with _write_lock():
        found = plan(idx.conn, idx.roots)
        found.dirty.update(stale)
        index_build.apply(idx.conn, found, idx.roots, None)
    return True


def _by_folder(files: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    folders: dict[tuple[str, str], list[str]] = {}
    for collection, relpath in files:
        reldir, _, name = relpath.rpartition("/")
        folders.setdefault((collection, reldir), []).append(name)
    return folders


def _read_plan(path: Path, colls: dict[str, Path], *, sweep: bool = True
               ) -> tuple[sqlite3.Connection | None, Plan | None, int]:
    """Check the index without taking the write lock: the common, clean case."""
    if not path.exists():
        return None, None, 0
    conn = _connect(path)
    try:
        if _usable(conn):
            return conn, plan(conn, colls, sweep=sweep), _data_version(conn)
    except sqlite3.DatabaseError:
        pass
    conn.close()
    return None, None, 0


def _data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection commits to the file."""
    version: int = conn.execute("PRAGMA data_version").fetchone()[0]
    return version


def discard() -> None:
    """Delete the index (found corrupt while reading it); the next `fresh` builds it again."""
    path = config.index_file()
    with _write_lock():
        _unlink(path)


def _unlink(path: Path) -> None:
    for stale in (path, path.with_name(path.name + "-journal")):
        stale.unlink(missing_ok=True)


def _connect(path: Path, timeout: float = 30.0) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    # A cache: losing it to a power cut only costs a rebuild, so skip the fsyncs.
    conn.execute("PRAGMA synchronous = OFF")
    return conn


def _usable(conn: sqlite3.Connection) -> bool:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version == SCHEMA_VERSION


def _open_for_writing(path: Path) -> sqlite3.Connection:
    """Open the index, replacing a corrupt or old-format file with a new, empty one."""
    try:
        conn = _connect(path)
        if _usable(conn):
            return conn
        conn.close()
    except sqlite3.DatabaseError:
        pass
    _unlink(path)
    conn = _connect(path)
    conn.executescript(f"BEGIN; {_SCHEMA}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    return conn


@contextlib.contextmanager
def _write_lock() -> Iterator[None]:
    lock = config.index_lock_file()
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        handle = lock.open("a")
    except OSError as exc:
        raise PromptlibError(f"cannot write the search index in {lock.parent}: {exc.strerror}",
                             hint=f"check the permissions of {lock.parent}") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def problem_error(problem: str) -> RecipeError:
    """The RecipeError a stored problem stands for (`index.build.parse` stores it as JSON)."""
    data: dict[str, Any] = json.loads(problem)
    return RecipeError(data["message"], path=data.get("path"), line=data.get("line"),
                       field=data.get("field"), hint=data.get("hint"))


# --- lookups for store.find -----------------------------------------------------------------------


def find_files(colls: Sequence[Collection], prefix: str) -> list[RecipeFile] | None:
    """The recipe files in `colls` whose name starts with `prefix` — or, when none does, all of
    their files (for "did you mean") — in `store.iter_recipe_files` order. None when the index
    cannot vouch for the set of files (missing, busy, or a folder changed since it was built):
    the caller then walks the collections itself."""
    path = config.index_file()
    if not path.exists():
        return None
    try:
        conn = _connect(path, timeout=0.05)
        try:
            return _find_files(conn, colls, prefix)
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def _find_files(conn: sqlite3.Connection, colls: Sequence[Collection], prefix: str
                ) -> list[RecipeFile] | None:
    from promptlib.store.collections import RecipeFile  # noqa: PLC0415  (start-up: only this path loads it)

    if not _usable(conn):
        return None
    conn.execute("BEGIN")  # one consistent snapshot for the check and the lookup
    names = [c.name for c in colls]
    marks = ",".join("?" * len(names))
    stored = {r[0] for r in conn.execute(
        f"SELECT name FROM collections WHERE name IN ({marks})", names)}  # noqa: S608
    if len(stored) != len(names):
        return None
    roots = {c.name: c.path for c in colls}
    for collection, reldir, mtime_ns, ino in conn.execute(
            f"SELECT collection, reldir, mtime_ns, ino FROM dirs "  # noqa: S608
            f"WHERE collection IN ({marks})", names):
        if dir_sig(roots[collection], reldir) != (mtime_ns, ino):
            return None
    rows = conn.execute(
        f"SELECT collection, relpath FROM files WHERE collection IN ({marks}) "  # noqa: S608
        "AND name >= ? AND name < ?", [*names, prefix, prefix + "\U0010ffff"]).fetchall()
    if not rows:
        rows = conn.execute(f"SELECT collection, relpath FROM files "  # noqa: S608
                            f"WHERE collection IN ({marks})", names).fetchall()
    conn.execute("COMMIT")
    order = {name: i for i, name in enumerate(names)}
    rows.sort(key=lambda r: (order[r[0]], walk_key(r[1])))
    return [RecipeFile(c, roots[c], relpath) for c, relpath in rows]


def walk_key(relpath: str) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """Sort key giving `store.iter_recipe_files` order: in each folder its files by name, then its
    subfolders in reverse name order (the walk pops them off a stack)."""
    *folders, filename = relpath.split("/")
    key = [(1, (*(-ord(ch) for ch in folder), 1)) for folder in folders]
    key.append((0, tuple(ord(ch) for ch in filename)))
    return tuple(key)
