"""Is the index still in step with the disk? The checks every search makes, cheapest first.

Kept apart from writing the index (index/build.py) because these checks run on every search,
a clean index included, and must stay cheap: they read `.git` files, lstat() folders and files,
and never parse a recipe, start a process, or import the store or the YAML loader.

Measured on the 2-core VM this was built on, one lstat() costs ~1.2 µs and up (a sweep of 10,000
files is 12-25 ms, of 100,000 ten times that: far over a search's budget of 1.5x `grep -ril`), so
only the third check grows with the number of files, and it is bounded:

1. Each collection's HEAD, read from the `.git` files (no git process, no GitPython).
2. The mtime of every indexed folder. It changes whenever a file in it is created, removed or
   renamed: `add`, `edit`, `remove` (atomic writes rename), `git checkout`/`pull` (git unlinks and
   re-creates every file it updates), and every editor that saves by rename (vim, emacs, sed -i).
3. A sweep that lstat()s recipe files and compares (mtime, ctime, size, inode) with what was
   indexed: the only way to see an in-place write (nano, VS Code, `>>`). Each search sweeps up to
   SWEEP_FILES files, so up to that size (the 10,000 recipes the budgets are set for) a hand edit
   shows in the very next search; a bigger library is swept in turns, and a file about to be
   shown as a hit is re-checked first (`changed`, for `index.recheck`). When a collection's HEAD
   moved, all of its files are swept at once. At 10,000 recipes a search takes ~60 ms sweeping
   5,000 files and ~72 ms sweeping all of them, against 64 ms for grep: all of them it is.

A stat taken in the same clock tick as a later write could miss that write, so a "racy" stat
(younger than RACY_NS) is stored as unknown and checked again next time, as git does for its
index.
"""

from __future__ import annotations

import contextlib
import os
from array import array
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from promptlib import paths as config
from promptlib.index.stamps import (
    dir_path,
    dir_sig,
    read_head,
    read_small,
    valid_name,
)

if TYPE_CHECKING:
    import sqlite3

# A progress bar for a long build: called with the total, it gives the per-step advance.
Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]

SWEEP_FILES = 12_000  # recipe files lstat()ed per search (~12-25 ms); see the docstring
RACY_NS = 20_000_000  # two clock ticks at HZ=100: a stat this young may hide a later write


Sig = tuple[int, int, int, int]  # a file's (mtime_ns, ctime_ns, size, inode)
UNKNOWN: Sig = (0, 0, 0, 0)  # a racy stat: check the file again next time


class Dir(NamedTuple):
    """A folder as the index last saw it."""

    id: int
    collection: str
    reldir: str
    mtime_ns: int
    ino: int
    nfiles: int


# --- what changed ---------------------------------------------------------------------------------


class Plan(NamedTuple):
    dirty: set[tuple[str, str]]  # (collection, reldir) to list again
    dirs: dict[tuple[str, str], Dir]  # everything the index knows
    heads: dict[str, str]
    gone: list[str]  # collections no longer on disk
    head_changed: bool

    @property
    def clean(self) -> bool:
        return not (self.dirty or self.gone or self.head_changed)


def plan(conn: sqlite3.Connection, colls: dict[str, Path], *, sweep: bool = True) -> Plan:
    """What changed. `sweep=False` skips the third check (in-place edits) except for collections
    whose HEAD moved: for a caller that runs the full check often on its own (`promptlib mcp`'s
    change watcher) and must answer each request in a few milliseconds."""
    stored_heads = dict(conn.execute("SELECT name, head FROM collections"))
    dirs = {(d.collection, d.reldir): d for d in map(Dir._make, conn.execute(
        "SELECT id, collection, reldir, mtime_ns, ino, nfiles FROM dirs ORDER BY id"))}
    heads = {name: read_head(path) for name, path in colls.items()}
    moved = {name for name, head in heads.items() if stored_heads.get(name) != head}
    dirty = {(name, "") for name in colls if name not in stored_heads}
    for key, d in dirs.items():
        if d.collection in colls and dir_sig(colls[d.collection], d.reldir) != (d.mtime_ns, d.ino):
            dirty.add(key)
    _sweep(conn, colls, dirs, dirty, moved, bounded=sweep)
    gone = [name for name in stored_heads if name not in colls]
    return Plan(dirty, dirs, heads, gone, bool(moved))


def _sweep(conn: sqlite3.Connection, colls: dict[str, Path], dirs: dict[tuple[str, str], Dir],
           dirty: set[tuple[str, str]], moved: set[str], *, bounded: bool = True) -> None:
    """lstat() the files of every folder of a collection whose HEAD moved, plus up to SWEEP_FILES
    others (unless not `bounded`), resuming where the last search stopped. Marks folders with a
    changed file dirty."""
    live = [d for key, d in dirs.items() if d.collection in colls and key not in dirty]
    window = _window(live) if bounded else []
    swept = {d.id for d in window}
    window += [d for d in live if d.collection in moved and d.id not in swept]
    ids = [d.id for d in window]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for collection, reldir, names, stats in conn.execute(
                f"SELECT collection, reldir, names, stats FROM dirs "  # noqa: S608
                f"WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            if file_sigs(colls[collection], reldir, names) != stats:
                dirty.add((collection, reldir))


def _window(live: list[Dir]) -> list[Dir]:
    """This search's share of the sweep: everything in a library of up to SWEEP_FILES files,
    else the next SWEEP_FILES files after the previous search's share (remembered in a file)."""
    if sum(d.nfiles for d in live) <= SWEEP_FILES:
        return live
    cursor_file = config.index_cursor_file()
    start = read_small(str(cursor_file))
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


def changed(root: Path, reldir: str, names: list[str], stored_names: str, stats: bytes) -> bool:
    """Whether any of the named files in one folder differs from its stored stat (a hit about
    to be shown: see `index.recheck`)."""
    position, sigs = unpack(stored_names, stats)
    for name in names:
        if name not in position:
            return True
        stored = sig_at(sigs, position[name])
        current = file_sigs(root, reldir, name)
        # A racy stat was taken moments ago, by this search or one just before; the next sweep
        # looks at it again. Re-reading it here would only repeat that work.
        if stored != UNKNOWN and current != array("q", stored).tobytes():
            return True
    return False


# --- stats, as the index stores them --------------------------------------------------------------


def unpack(names: str, stats: bytes) -> tuple[dict[str, int], array[int]]:
    """A folder's stored `names` and `stats` columns: each file's position, and the packed stats
    that `sig_at` reads a file's stat from."""
    sigs: array[int] = array("q")
    sigs.frombytes(stats)
    return {name: i for i, name in enumerate(names.split("\n") if names else [])}, sigs


def sig_at(stats: array[int], i: int) -> Sig:
    return stats[4 * i], stats[4 * i + 1], stats[4 * i + 2], stats[4 * i + 3]


def racy_guard(mtime_ns: int, ino: int, now: int) -> tuple[int, int]:
    return (0, 0) if mtime_ns >= now - RACY_NS else (mtime_ns, ino)


def file_sig(st: os.stat_result, now: int) -> Sig:
    if max(st.st_mtime_ns, st.st_ctime_ns) >= now - RACY_NS:
        return UNKNOWN
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def file_sigs(root: Path, reldir: str, names: str) -> bytes | None:
    """The stats of the named files, packed as the index stores them; None if one is missing."""
    if not names:
        return b""
    sigs: array[int] = array("q")
    try:
        fd = os.open(dir_path(root, reldir), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
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


# --- collections on disk --------------------------------------------------------------------------


def disk_collections() -> dict[str, Path]:
    """Collections on disk, `local` first (as `store.collections()`), without importing store."""
    local = config.collection_dir(config.LOCAL_COLLECTION)
    if not (local / ".git").is_dir():
        from promptlib.store import collections as store  # noqa: PLC0415  (start-up: only this path loads it)

        store.ensure_home()
    root = config.collections_dir()
    found = {}
    for entry in sorted(os.scandir(root), key=lambda e: (e.name != config.LOCAL_COLLECTION,
                                                          e.name)):
        if (entry.is_dir(follow_symlinks=False) and valid_name(entry.name)
                and (Path(entry.path) / ".git").is_dir()):
            found[entry.name] = Path(entry.path)
    return found
