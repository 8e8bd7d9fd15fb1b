"""The search index: SQLite FTS5 in the cache dir over every collection, kept in step with the disk.

Freshness, cheapest check first. Measured on the 2-core VM this was built on, one lstat() costs
~1.2 µs and up (a sweep of 10,000 files is 12-25 ms, of 100,000 ten times that: far over a
search's budget of 1.5x `grep -ril`), so only the third check grows with the number of files,
and it is bounded:

1. Each collection's HEAD, read from the `.git` files (no git process, no GitPython).
2. The mtime of every indexed folder. It changes whenever a file in it is created, removed or
   renamed: `add`, `edit`, `remove` (atomic writes rename), `git checkout`/`pull` (git unlinks and
   re-creates every file it updates), and every editor that saves by rename (vim, emacs, sed -i).
3. A sweep that lstat()s recipe files and compares (mtime, ctime, size, inode) with what was
   indexed: the only way to see an in-place write (nano, VS Code, `>>`). Each search sweeps up to
   SWEEP_FILES files, so up to that size (the 10,000 recipes the budgets are set for) a hand edit
   shows in the very next search; a bigger library is swept in turns, and a file about to be
   shown as a hit is re-checked first (`recheck`). When a collection's HEAD moved, all of its
   files are swept at once. At 10,000 recipes a search takes ~60 ms sweeping 5,000 files and
   ~72 ms sweeping all of them, against 64 ms for grep: all of them it is.

Only folders found dirty are listed again, and only files whose stat changed are parsed again: an
`add` re-indexes one file, a `pull` the files it touched, never the whole library. A stat taken in
the same clock tick as a later write could miss that write, so a "racy" stat (younger than
RACY_NS) is stored as unknown and checked again next time, as git does for its index.

A missing, corrupt or old-format index file is deleted and built again. Writers serialize on a
lock file and re-check under it, so two searches never build twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import stat
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from promptlib import config
from promptlib.errors import PromptlibError, RecipeError

if TYPE_CHECKING:
    from promptlib.store import Collection, RecipeFile

SCHEMA_VERSION = 1
SWEEP_FILES = 12_000  # recipe files lstat()ed per search (~12-25 ms); see the docstring
RACY_NS = 20_000_000  # two clock ticks at HZ=100: a stat this young may hide a later write
POOL_MIN = 1_500  # parse in worker processes from this many files (~0.2 s of parsing) up
PROGRESS_MIN = 2_000  # a build this big takes long enough to show a progress bar
BATCH = 500  # rows per executemany while streaming parsed recipes in
SLICE, IN_FLIGHT = 2_000, 3  # files per slice of pool work, slices queued at once

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")

# name > tags = title > description > variables > template (DESIGN §6 and issue #4).
WEIGHTS = (10.0, 6.0, 6.0, 3.0, 2.0, 1.0)

Sig = tuple[int, int, int, int]  # a file's (mtime_ns, ctime_ns, size, inode)
_UNKNOWN: Sig = (0, 0, 0, 0)  # a racy stat: check the file again next time

Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]

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


class _Dir(NamedTuple):
    """A folder as the index last saw it."""

    id: int
    collection: str
    reldir: str
    mtime_ns: int
    ino: int
    nfiles: int


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


# --- opening --------------------------------------------------------------------------------------


def fresh(progress: Progress | None = None) -> Index:
    """The index, brought up to date with every collection: the one call `search` makes."""
    colls = _disk_collections()
    path = config.index_file()
    conn, plan, version = _read_plan(path, colls)
    if conn is not None and plan is not None and plan.clean:
        return Index(conn, colls)
    with _write_lock():
        # Another process may have updated the index while this one waited for the lock.
        if conn is None or plan is None or _data_version(conn) != version:
            if conn is not None:
                conn.close()
            conn = _open_for_writing(path)
            plan = _plan(conn, colls)
        try:
            if not plan.clean:
                _apply(conn, plan, colls, progress)
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
        if row is None or _changed(idx.roots[collection], reldir, names, *row):
            stale.add((collection, reldir))
    if not stale:
        return False
    with _write_lock():
        plan = _plan(idx.conn, idx.roots)
        plan.dirty.update(stale)
        _apply(idx.conn, plan, idx.roots, None)
    return True


def _by_folder(files: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    folders: dict[tuple[str, str], list[str]] = {}
    for collection, relpath in files:
        reldir, _, name = relpath.rpartition("/")
        folders.setdefault((collection, reldir), []).append(name)
    return folders


def _changed(root: Path, reldir: str, names: list[str], stored_names: str, stats: bytes) -> bool:
    position = {name: i for i, name in enumerate(stored_names.split("\n"))}
    sigs: array[int] = array("q")
    sigs.frombytes(stats)
    for name in names:
        if name not in position:
            return True
        stored = _sig_at(sigs, position[name])
        current = _file_sigs(root, reldir, name)
        # A racy stat was taken moments ago, by this search or one just before; the next sweep
        # looks at it again. Re-reading it here would only repeat that work.
        if stored != _UNKNOWN and current != array("q", stored).tobytes():
            return True
    return False


def _read_plan(path: Path, colls: dict[str, Path]
               ) -> tuple[sqlite3.Connection | None, _Plan | None, int]:
    """Check the index without taking the write lock: the common, clean case."""
    if not path.exists():
        return None, None, 0
    conn = _connect(path)
    try:
        if _usable(conn):
            return conn, _plan(conn, colls), _data_version(conn)
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


def _disk_collections() -> dict[str, Path]:
    """Collections on disk, `local` first (as `store.collections()`), without importing store."""
    local = config.collection_dir(config.LOCAL_COLLECTION)
    if not (local / ".git").is_dir():
        from promptlib import store

        store.ensure_home()
    root = config.collections_dir()
    found = {}
    for entry in sorted(os.scandir(root), key=lambda e: (e.name != config.LOCAL_COLLECTION,
                                                          e.name)):
        if (entry.is_dir(follow_symlinks=False) and _valid_name(entry.name)
                and (Path(entry.path) / ".git").is_dir()):
            found[entry.name] = Path(entry.path)
    return found


def _valid_name(name: str) -> bool:
    """`recipe.is_valid_name` without importing the recipe loader or compiling its regex, neither
    of which a search needs (a property test checks the two agree)."""
    return (0 < len(name) <= 64 and name[0] != "-" and name[-1] != "-"
            and _NAME_CHARS.issuperset(name))


# --- reading HEAD without git ---------------------------------------------------------------------


def read_head(repo: Path) -> str:
    """The commit HEAD points at, from `.git/HEAD` and the loose or packed ref; '' if unborn."""
    git_dir = f"{repo}/.git"
    head = _read_small(f"{git_dir}/HEAD")
    if not head.startswith("ref: "):
        return head  # detached: the sha itself
    ref = head[5:]
    if not ref.startswith("refs/") or ".." in ref.split("/"):
        return ""
    loose = _read_small(f"{git_dir}/{ref}")
    if loose:
        return loose
    packed = _read_small(f"{git_dir}/packed-refs", limit=1 << 24)
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name == ref:
            return sha
    return ""


def _read_small(path: str, limit: int = 4096) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return ""
    try:
        return os.read(fd, limit).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    finally:
        os.close(fd)


# --- what changed ---------------------------------------------------------------------------------


class _Plan(NamedTuple):
    dirty: set[tuple[str, str]]  # (collection, reldir) to list again
    dirs: dict[tuple[str, str], _Dir]  # everything the index knows
    heads: dict[str, str]
    gone: list[str]  # collections no longer on disk
    head_changed: bool

    @property
    def clean(self) -> bool:
        return not (self.dirty or self.gone or self.head_changed)


def _plan(conn: sqlite3.Connection, colls: dict[str, Path]) -> _Plan:
    stored_heads = dict(conn.execute("SELECT name, head FROM collections"))
    dirs = {(d.collection, d.reldir): d for d in map(_Dir._make, conn.execute(
        "SELECT id, collection, reldir, mtime_ns, ino, nfiles FROM dirs ORDER BY id"))}
    heads = {name: read_head(path) for name, path in colls.items()}
    moved = {name for name, head in heads.items() if stored_heads.get(name) != head}
    dirty = {(name, "") for name in colls if name not in stored_heads}
    for key, d in dirs.items():
        if d.collection in colls and _dir_sig(colls[d.collection], d.reldir) != (d.mtime_ns, d.ino):
            dirty.add(key)
    _sweep(conn, colls, dirs, dirty, moved)
    gone = [name for name in stored_heads if name not in colls]
    return _Plan(dirty, dirs, heads, gone, bool(moved))


def _sweep(conn: sqlite3.Connection, colls: dict[str, Path], dirs: dict[tuple[str, str], _Dir],
           dirty: set[tuple[str, str]], moved: set[str]) -> None:
    """lstat() the files of every folder of a collection whose HEAD moved, plus up to SWEEP_FILES
    others, resuming where the last search stopped. Marks folders with a changed file dirty."""
    live = [d for key, d in dirs.items() if d.collection in colls and key not in dirty]
    window = _window(live)
    swept = {d.id for d in window}
    window += [d for d in live if d.collection in moved and d.id not in swept]
    ids = [d.id for d in window]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for collection, reldir, names, stats in conn.execute(
                f"SELECT collection, reldir, names, stats FROM dirs "  # noqa: S608
                f"WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            if _file_sigs(colls[collection], reldir, names) != stats:
                dirty.add((collection, reldir))


def _window(live: list[_Dir]) -> list[_Dir]:
    """This search's share of the sweep: everything in a library of up to SWEEP_FILES files,
    else the next SWEEP_FILES files after the previous search's share (remembered in a file)."""
    if sum(d.nfiles for d in live) <= SWEEP_FILES:
        return live
    cursor_file = config.index_cursor_file()
    start = _read_small(str(cursor_file))
    first = int(start) if start.isdigit() else 0
    ordered = [d for d in live if d.id >= first] + [d for d in live if d.id < first]
    window, budget = [], SWEEP_FILES
    for d in ordered:
        if budget <= 0:
            with contextlib.suppress(OSError):
                cursor_file.write_text(str(d.id))
            break
        window.append(d)
        budget -= d.nfiles
    return window


def _dir_sig(root: Path, reldir: str) -> tuple[int, int] | None:
    try:
        st = os.lstat(_path(root, reldir))
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    # Raw, never guarded: a folder stored as racy (0, 0) must never look unchanged.
    return st.st_mtime_ns, st.st_ino


def _racy_guard(mtime_ns: int, ino: int, now: int) -> tuple[int, int]:
    return (0, 0) if mtime_ns >= now - RACY_NS else (mtime_ns, ino)


def _file_sigs(root: Path, reldir: str, names: str) -> bytes | None:
    """The stats of the named files, packed as the index stores them; None if one is missing."""
    if not names:
        return b""
    sigs: array[int] = array("q")
    try:
        fd = os.open(_path(root, reldir), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        for name in names.split("\n"):
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            sigs.extend((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
    except OSError:
        return None
    finally:
        os.close(fd)
    return sigs.tobytes()


# --- listing folders again ------------------------------------------------------------------------


def _list_dir(root: Path, collection: str, reldir: str, now: int) -> _Listing | None:
    """One folder as `store.iter_recipe_files` sees it: hidden entries and symlinks skipped,
    reserved folders skipped at the top, `*.yaml` regular files kept."""
    path = _path(root, reldir)
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
            stats.extend(_file_sig(fst, now))
    mtime, ino = _racy_guard(st.st_mtime_ns, st.st_ino, now)
    return _Listing(collection, reldir, mtime, ino, subdirs, names, stats)


def _file_sig(st: os.stat_result, now: int) -> Sig:
    if max(st.st_mtime_ns, st.st_ctime_ns) >= now - RACY_NS:
        return _UNKNOWN
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _sig_at(stats: array[int], i: int) -> Sig:
    return stats[4 * i], stats[4 * i + 1], stats[4 * i + 2], stats[4 * i + 3]


def _path(root: Path, reldir: str) -> str:
    return f"{root}/{reldir}" if reldir else str(root)


def _join(reldir: str, name: str) -> str:
    return f"{reldir}/{name}" if reldir else name


class _Changes(NamedTuple):
    listings: list[_Listing]  # dirty and new folders as they are now
    removed_dirs: list[int]
    removed_files: list[int]
    jobs: list[_Job]


def _changes(conn: sqlite3.Connection, plan: _Plan, colls: dict[str, Path]) -> _Changes:
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
        new_sigs = {name: _sig_at(listing.stats, i) for i, name in enumerate(listing.names)}
        changed = {name for name, sig in new_sigs.items()
                   if sig == _UNKNOWN or old.get(name, (None, _UNKNOWN))[1] != sig}
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


def _stored_children(dirs: dict[tuple[str, str], _Dir], collection: str, reldir: str
                     ) -> list[_Dir]:
    prefix = f"{reldir}/" if reldir else ""
    return [d for (c, r), d in dirs.items() if c == collection and r != reldir
            and r.startswith(prefix)]


def _stored_files(conn: sqlite3.Connection, known: _Dir | None
                  ) -> dict[str, tuple[int | None, Sig]]:
    """name -> (file id, stored stat) for the files indexed in one folder."""
    if known is None:
        return {}
    names, stats = conn.execute("SELECT names, stats FROM dirs WHERE id = ?",
                                (known.id,)).fetchone()
    sigs: array[int] = array("q")
    sigs.frombytes(stats)
    ids = {relpath.rpartition("/")[2]: fid for fid, relpath in conn.execute(
        "SELECT id, relpath FROM files WHERE dir_id = ?", (known.id,))}
    return {name: (ids.get(name), _sig_at(sigs, i))
            for i, name in enumerate(names.split("\n") if names else [])}


# --- parsing --------------------------------------------------------------------------------------


Parsed = tuple[_Job, tuple[str, str, str, tuple[str, ...], str, str] | None, str | None]


def parse(job: _Job) -> Parsed:
    """Load one recipe with the strict loader: (job, fields, None) or (job, None, problem)."""
    from promptlib import store

    rf = store.RecipeFile(job.collection, Path(job.root), job.relpath)
    try:
        r = store.read(rf)
    except RecipeError as exc:
        return job, None, json.dumps({"message": exc.reason, "path": exc.path, "line": exc.line,
                                      "field": exc.field, "hint": exc.hint})
    except OSError as exc:
        return job, None, json.dumps({"message": f"cannot read: {exc.strerror}",
                                      "path": store.display_path(rf)})
    variables = "\n".join(f"{v.name} {v.description}".strip() for v in r.variables)
    return job, (r.name, r.title, r.description, r.tags, variables, r.template), None


def problem_error(problem: str) -> RecipeError:
    """The RecipeError a stored problem stands for."""
    data: dict[str, Any] = json.loads(problem)
    return RecipeError(data["message"], path=data.get("path"), line=data.get("line"),
                       field=data.get("field"), hint=data.get("hint"))


def _parse_all(jobs: Sequence[_Job]) -> Iterator[Parsed]:
    """Parse in a pool of worker processes when there are many files: the strict loader costs
    ~130 µs a file, 1.3 s for 10,000 on one core. Results come back in order."""
    cpus = os.cpu_count() or 1
    if len(jobs) < POOL_MIN or cpus < 2:
        yield from map(parse, jobs)
        return
    import multiprocessing
    from collections import deque

    from promptlib import store  # noqa: F401  (imported once here, inherited by every worker)

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


_Remote = tuple[tuple[str, str, str, tuple[str, ...], str, str] | None, str | None]


def _parse_remote(job: tuple[str, str, str]) -> _Remote:
    """`parse` in a worker: plain tuples in and out, the least there is to pickle."""
    _, fields, problem = parse(_Job(*job, _UNKNOWN))
    return fields, problem


def _joined(jobs: Sequence[_Job], results: Iterator[_Remote]) -> Iterator[Parsed]:
    for job, (fields, problem) in zip(jobs, results, strict=True):
        yield job, fields, problem


# --- writing --------------------------------------------------------------------------------------


def _apply(conn: sqlite3.Connection, plan: _Plan, colls: dict[str, Path],
           progress: Progress | None) -> None:
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
    return f"{name} {tags} {title} {description}"


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
            files.append((fid, dir_id, job.collection, job.relpath, name, "", "", "", problem))
            continue
        _, title, description, tag_list, variables, template = fields
        tag_text = " ".join(tag_list)
        files.append((fid, dir_id, job.collection, job.relpath, name, title, tag_text,
                      description, None))
        fts.append((fid, name, tag_text, title, description, variables, template))
        words.append((fid, _words_text(name, tag_text, title, description)))
        tags += [(fid, t) for t in dict.fromkeys(tag_list)]
    conn.executemany("INSERT INTO files(id, dir_id, collection, relpath, name, title, tags, "
                     "description, problem) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", files)
    conn.executemany("INSERT INTO recipes(rowid, name, tags, title, description, variables, "
                     "template) VALUES (?, ?, ?, ?, ?, ?, ?)", fts)
    conn.executemany("INSERT INTO words(rowid, text) VALUES (?, ?)", words)
    conn.executemany("INSERT INTO tags(file_id, tag) VALUES (?, ?)", tags)
    return next_id


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
    from promptlib.store import RecipeFile

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
        if _dir_sig(roots[collection], reldir) != (mtime_ns, ino):
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
