"""Bringing the index up to date: list the dirty folders, parse what changed, write the rows.

Only folders found dirty (index/fresh.py) are listed again, and only files whose stat changed are
parsed again: an `add` re-indexes one file, a `pull` the files it touched, never the whole
library. A big build parses in a pool of worker processes and streams the rows in, in batches.

Kept apart from index/db.py and index/fresh.py because a search with a fresh index needs none of
it: index/db.py imports this module only when there is something to write. It runs under the
index's write lock, inside one transaction (`apply`). The tables it writes are defined in
index/db.py, with the rest of what makes the index file (its schema version, opening it, the lock).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import stat
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from promptlib import paths as config
from promptlib.errors import RecipeError
from promptlib.index.fresh import (
    UNKNOWN,
    Dir,
    Plan,
    Progress,
    Sig,
    file_sig,
    racy_guard,
    sig_at,
    unpack,
)
from promptlib.index.stamps import dir_path
from promptlib.index.terms import index_fields, index_text

if TYPE_CHECKING:
    import sqlite3


POOL_MIN = 1_500  # parse in worker processes from this many files (~0.2 s of parsing) up
PROGRESS_MIN = 2_000  # a build this big takes long enough to show a progress bar
BATCH = 500  # rows per executemany while streaming parsed recipes in
SLICE, IN_FLIGHT = 2_000, 3  # files per slice of pool work, slices queued at once


class _Listing(NamedTuple):
    """A folder as it is on disk now."""

    collection: str
    reldir: str
    mtime_ns: int
    ino: int
    subdirs: list[str]
    names: list[str]
    stats: array[int]


class _Job(NamedTuple):
    """One file to (re)parse: where it is, and its stat from before it was read."""

    collection: str
    root: str
    relpath: str
    sig: Sig


# --- listing folders again ------------------------------------------------------------------------


def _list_dir(root: Path, collection: str, reldir: str, now: int) -> _Listing | None:
    """One folder as `store.iter_recipe_files` sees it: hidden entries and symlinks skipped,
    reserved folders skipped at the top, `*.yaml` regular files kept."""
    path = dir_path(root, reldir)
    try:
        st = os.lstat(path)
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    subdirs, names, stats = [], [], array("q")
    for entry in entries:
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            if reldir or entry.name not in config.RESERVED_DIRS:
                subdirs.append(entry.name)
        elif entry.name.endswith(config.RECIPE_SUFFIX) and entry.is_file(follow_symlinks=False):
            try:
                fst = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            names.append(entry.name)
            stats.extend(file_sig(fst, now))
    mtime, ino = racy_guard(st.st_mtime_ns, st.st_ino, now)
    return _Listing(collection, reldir, mtime, ino, subdirs, names, stats)


def _join(reldir: str, name: str) -> str:
    return f"{reldir}/{name}" if reldir else name


class _Changes(NamedTuple):
    listings: list[_Listing]  # dirty and new folders as they are now
    removed_dirs: list[int]
    removed_files: list[int]
    jobs: list[_Job]


def _changes(conn: sqlite3.Connection, plan: Plan, colls: dict[str, Path]) -> _Changes:
    """List every dirty folder (and any new folder under it); compare with what is indexed."""
    now = time.time_ns()
    listings, removed_dirs, removed_files, jobs = [], [], [], []
    queue = sorted(plan.dirty)
    while queue:
        collection, reldir = queue.pop()
        root = colls[collection]
        listing = _list_dir(root, collection, reldir, now)
        known = plan.dirs.get((collection, reldir))
        children = _stored_children(plan.dirs, collection, reldir)
        if listing is None:  # the folder went away: forget it and everything under it
            removed_dirs += [d.id for d in [*children, *([known] if known else [])]]
            continue
        listings.append(listing)
        present = {_join(reldir, s) for s in listing.subdirs}
        removed_dirs += [d.id for d in children if _top(d.reldir, reldir) not in present]
        queue += [(collection, sub) for sub in present if (collection, sub) not in plan.dirs]
        old = _stored_files(conn, known)
        new_sigs = {name: sig_at(listing.stats, i) for i, name in enumerate(listing.names)}
        changed = {name for name, sig in new_sigs.items()
                   if sig == UNKNOWN or old.get(name, (None, UNKNOWN))[1] != sig}
        jobs += [_Job(collection, str(root), _join(reldir, name), new_sigs[name])
                 for name in sorted(changed)]
        removed_files += [fid for name, (fid, _) in old.items()
                          if fid is not None and (name in changed or name not in new_sigs)]
    gone_ids = [d.id for d in plan.dirs.values() if d.collection in plan.gone]
    return _Changes(listings, removed_dirs + gone_ids, removed_files, jobs)


def _top(child: str, parent: str) -> str:
    """The immediate subfolder of `parent` that `child` lies in."""
    rest = child[len(parent) + 1:] if parent else child
    return _join(parent, rest.split("/", 1)[0])


def _stored_children(dirs: dict[tuple[str, str], Dir], collection: str, reldir: str
                     ) -> list[Dir]:
    prefix = f"{reldir}/" if reldir else ""
    return [d for (c, r), d in dirs.items() if c == collection and r != reldir
            and r.startswith(prefix)]


def _stored_files(conn: sqlite3.Connection, known: Dir | None
                  ) -> dict[str, tuple[int | None, Sig]]:
    """name -> (file id, stored stat) for the files indexed in one folder."""
    if known is None:
        return {}
    position, sigs = unpack(*conn.execute("SELECT names, stats FROM dirs WHERE id = ?",
                                          (known.id,)).fetchone())
    ids = {relpath.rpartition("/")[2]: fid for fid, relpath in conn.execute(
        "SELECT id, relpath FROM files WHERE dir_id = ?", (known.id,))}
    return {name: (ids.get(name), sig_at(sigs, i)) for name, i in position.items()}


# --- parsing --------------------------------------------------------------------------------------


# (name, title, description, tags, variables as FTS text, template, variables as JSON)
Fields = tuple[str, str, str, tuple[str, ...], str, str, str]
Parsed = tuple[_Job, Fields | None, str | None]


@functools.lru_cache(maxsize=64)
def _root(root: str) -> Path:
    return Path(root)  # the same few collections for every file of a build


# json.dumps builds a new encoder for every call with options; one is enough.
_ARGUMENTS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def parse(job: _Job) -> Parsed:
    """Load one recipe with the strict loader: (job, fields, None) or (job, None, problem), the
    problem as JSON that `index.problem_error` turns back into the RecipeError."""
    from promptlib.store import collections as store  # noqa: PLC0415  (start-up: only this path loads it)

    rf = store.RecipeFile(job.collection, _root(job.root), job.relpath)
    try:
        r = store.read(rf)
    except RecipeError as exc:
        return job, None, json.dumps({"message": exc.reason, "path": exc.path, "line": exc.line,
                                      "field": exc.field, "hint": exc.hint})
    except OSError as exc:
        return job, None, json.dumps({"message": f"cannot read: {exc.strerror}",
                                      "path": store.display_path(rf)})
    variables = "\n".join(f"{v.name} {v.description}".strip() for v in r.variables)
    # The variables and the template go only into the `recipes` table: their compound words are
    # split here, in the worker processes of a big build (see `_insert_batch` for the others).
    # Each variable in full, as JSON: what `promptlib mcp` lists as a prompt's arguments.
    arguments = _ARGUMENTS_JSON.encode([{"name": v.name, **v.to_dict()} for v in r.variables])
    return job, (r.name, r.title, r.description, r.tags, index_text(variables),
                 index_text(r.template), arguments), None


def _parse_all(jobs: Sequence[_Job]) -> Iterator[Parsed]:
    """Parse in a pool of worker processes when there are many files: the strict loader costs
    ~130 µs a file, 1.3 s for 10,000 on one core. Results come back in order."""
    cpus = os.cpu_count() or 1
    if len(jobs) < POOL_MIN or cpus < 2:
        yield from map(parse, jobs)
        return
    import multiprocessing  # noqa: PLC0415  (stdlib, kept off the start-up path)
    from collections import deque  # noqa: PLC0415  (stdlib, kept off the start-up path)

    from promptlib.store import collections as store  # noqa: F401, PLC0415  (start-up: only this path loads it)

    # fork: the workers start with the loader already imported; spawn would import it again.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ctx.Pool(min(cpus, 4)) as pool:
        # At most IN_FLIGHT slices queued: when writing the index is the slower side, parsed
        # recipes would otherwise pile up in memory (~2 KB each, 100,000 of them).
        pending: deque[tuple[Sequence[_Job], Iterator[_Remote]]] = deque()
        for start in range(0, len(jobs), SLICE):
            part = jobs[start:start + SLICE]
            plain = [(j.collection, j.root, j.relpath) for j in part]
            pending.append((part, pool.imap(_parse_remote, plain, chunksize=100)))
            if len(pending) >= IN_FLIGHT:
                yield from _joined(*pending.popleft())
        while pending:
            yield from _joined(*pending.popleft())


_Remote = tuple[Fields | None, str | None]


def _parse_remote(job: tuple[str, str, str]) -> _Remote:
    """`parse` in a worker: plain tuples in and out, the least there is to pickle."""
    _, fields, problem = parse(_Job(*job, UNKNOWN))
    return fields, problem


def _joined(jobs: Sequence[_Job], results: Iterator[_Remote]) -> Iterator[Parsed]:
    for job, (fields, problem) in zip(jobs, results, strict=True):
        yield job, fields, problem


# --- writing --------------------------------------------------------------------------------------


def apply(conn: sqlite3.Connection, plan: Plan, colls: dict[str, Path],
          progress: Progress | None) -> None:
    """Write every change `plan` found, in one transaction (the caller holds the write lock)."""
    changes = _changes(conn, plan, colls)
    conn.execute("BEGIN IMMEDIATE")
    try:
        _forget_files(conn, changes.removed_files)
        for dir_id in changes.removed_dirs:
            _forget_files(conn, [r[0] for r in conn.execute(
                "SELECT id FROM files WHERE dir_id = ?", (dir_id,))])
            conn.execute("DELETE FROM dirs WHERE id = ?", (dir_id,))
        dir_ids = _save_dirs(conn, changes.listings)
        _insert_parsed(conn, changes.jobs, dir_ids, progress)
        for name in plan.gone:
            conn.execute("DELETE FROM collections WHERE name = ?", (name,))
        conn.executemany("INSERT OR REPLACE INTO collections(name, head) VALUES (?, ?)",
                         plan.heads.items())
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
            conn.execute("ROLLBACK")
        raise


def _forget_files(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    rows = [conn.execute("SELECT id, name, tags, title, description, problem FROM files "
                         "WHERE id = ?", (i,)).fetchone() for i in ids]
    rows = [r for r in rows if r is not None]
    valid = [r for r in rows if r[5] is None]
    conn.executemany("INSERT INTO words(words, rowid, text) VALUES ('delete', ?, ?)",
                     [(r[0], _words_text(r[1], r[2], r[3], r[4])) for r in valid])
    conn.executemany("DELETE FROM recipes WHERE rowid = ?", [(r[0],) for r in valid])
    conn.executemany("DELETE FROM tags WHERE file_id = ?", [(r[0],) for r in valid])
    conn.executemany("DELETE FROM files WHERE id = ?", [(r[0],) for r in rows])


def _words_text(name: str, tags: str, title: str, description: str) -> str:
    # Deterministic from the `files` columns: `_forget_files` deletes with the same text that
    # `_insert_batch` inserted (there through `terms.index_fields`, which gives this text too).
    return index_text(f"{name} {tags} {title} {description}")


def _save_dirs(conn: sqlite3.Connection, listings: list[_Listing]) -> dict[tuple[str, str], int]:
    ids = {}
    for ls in listings:
        conn.execute(
            "INSERT INTO dirs(collection, reldir, mtime_ns, ino, nfiles, names, stats) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(collection, reldir) DO UPDATE SET "
            "mtime_ns = excluded.mtime_ns, ino = excluded.ino, nfiles = excluded.nfiles, "
            "names = excluded.names, stats = excluded.stats",
            (ls.collection, ls.reldir, ls.mtime_ns, ls.ino, len(ls.names), "\n".join(ls.names),
             ls.stats.tobytes()))
        ids[(ls.collection, ls.reldir)] = conn.execute(
            "SELECT id FROM dirs WHERE collection = ? AND reldir = ?",
            (ls.collection, ls.reldir)).fetchone()[0]
    return ids


def _insert_parsed(conn: sqlite3.Connection, jobs: list[_Job], dir_ids: dict[tuple[str, str], int],
                   progress: Progress | None) -> None:
    next_id = (conn.execute("SELECT max(id) FROM files").fetchone()[0] or 0) + 1
    show = progress if progress is not None and len(jobs) >= PROGRESS_MIN else _no_progress
    with show(len(jobs)) as advance:
        batch: list[Parsed] = []
        for parsed in _parse_all(jobs):
            batch.append(parsed)
            if len(batch) >= BATCH:
                next_id = _insert_batch(conn, batch, dir_ids, next_id)
                advance(len(batch))
                batch = []
        _insert_batch(conn, batch, dir_ids, next_id)
        advance(len(batch))


@contextlib.contextmanager
def _no_progress(_total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _done: None


def _insert_batch(conn: sqlite3.Connection, batch: list[Parsed],
                  dir_ids: dict[tuple[str, str], int], next_id: int) -> int:
    files, fts, words, tags = [], [], [], []
    for job, fields, problem in batch:
        fid, next_id = next_id, next_id + 1
        reldir, _, filename = job.relpath.rpartition("/")
        dir_id = dir_ids[(job.collection, reldir)]
        name = filename.removesuffix(config.RECIPE_SUFFIX)
        if fields is None:
            files.append((fid, dir_id, job.collection, job.relpath, name, "", "", "", problem,
                          "[]"))
            continue
        _, title, description, tag_list, variables, template, arguments = fields
        tag_text = " ".join(tag_list)
        files.append((fid, dir_id, job.collection, job.relpath, name, title, tag_text,
                      description, None, arguments))
        # Each field with its compound words split and joined (terms.index_text), so `OOMKilled`
        # is found as `oom killed`, `on-call` as `oncall`; `variables` and `template` come from
        # `parse` that way already. The words row is `_words_text` of the same fields.
        (name_t, tags_t, title_t, description_t), words_t = index_fields(
            (name, tag_text, title, description))
        fts.append((fid, name_t, tags_t, title_t, description_t, variables, template))
        words.append((fid, words_t))
        tags += [(fid, t) for t in dict.fromkeys(tag_list)]
    conn.executemany("INSERT INTO files(id, dir_id, collection, relpath, name, title, tags, "
                     "description, problem, variables) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     files)
    conn.executemany("INSERT INTO recipes(rowid, name, tags, title, description, variables, "
                     "template) VALUES (?, ?, ?, ?, ?, ?, ?)", fts)
    conn.executemany("INSERT INTO words(rowid, text) VALUES (?, ?)", words)
    conn.executemany("INSERT INTO tags(file_id, tag) VALUES (?, ?)", tags)
    return next_id
