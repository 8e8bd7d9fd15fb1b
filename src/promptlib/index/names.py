"""Names for shell completion, straight from the search index: recipes, tags, collections.

A TAB must answer within 0.5x `grep -ril` at 10,000 recipes (~30 ms, DESIGN §6), and Python
alone takes a third of that to start. So this module imports nothing but sqlite3 and the
index's stamps (not even pathlib: it uses paths' plain-string forms), and checks freshness the
cheap way: each collection's HEAD and the (mtime, inode) of every indexed folder, which change
whenever a recipe is added, removed, renamed, pulled, or saved by an editor that writes a new
file — not the per-file sweep a search makes (an edit in place changes a title, never a name).
When those checks find the index behind, it is brought up to date as a search would
(`db.fresh`), once. A home that does not exist yet
offers nothing: a TAB never creates it.
"""

from __future__ import annotations

import os
import sqlite3

from promptlib import paths
from promptlib.index.stamps import SCHEMA_VERSION, dir_sig, read_head, valid_name

_LAST = "\U0010ffff"  # sorts after every character: [prefix, prefix + _LAST) is a prefix range
_REMOTE_SECTION = '[remote "origin"]'  # a team: gitops.remote's REMOTE, as .git/config spells it

# One connection for the process: a TAB asks a question or two.
_conn: list[sqlite3.Connection] = []


def recipes(prefix: str, *, collection: str | None = None) -> list[tuple[str, str]]:
    """(name, title) of every valid recipe whose name starts with `prefix`, by name: in one
    collection, or in all of them (a name in several once, with local's title, else the first
    collection's)."""
    conn = _index()
    if conn is None:
        return []
    only = " AND collection = ?" if collection is not None else ""
    rows = conn.execute(
        "SELECT name, title FROM files WHERE name >= ? AND name < ? AND problem IS NULL"  # noqa: S608
        f"{only} ORDER BY name, collection != ?, collection",
        [prefix, prefix + _LAST, *([collection] if collection is not None else []),
         paths.LOCAL_COLLECTION])
    found: dict[str, str] = {}
    for name, title in rows:
        found.setdefault(name, title)
    return list(found.items())


def tags(prefix: str) -> list[tuple[str, int]]:
    """Each tag starting with `prefix`, with how many valid recipes carry it, by tag."""
    conn = _index()
    if conn is None:
        return []
    rows = conn.execute(
        "SELECT t.tag, count(*) FROM tags t JOIN files f ON f.id = t.file_id "
        "WHERE t.tag >= ? AND t.tag < ? AND f.problem IS NULL GROUP BY t.tag ORDER BY t.tag",
        (prefix, prefix + _LAST))
    return [(tag, n) for tag, n in rows]


def collections(prefix: str, *, teams_only: bool = False) -> list[tuple[str, int]]:
    """Collections on disk whose name starts with `prefix`, `local` first — only those with a
    remote (the teams) when `teams_only` — each with its number of valid recipes."""
    found = [name for name, path in _disk_collections().items() if name.startswith(prefix)
             and (not teams_only or _has_remote(path))]
    conn = _index() if found else None
    counts: dict[str, int] = {}
    if conn is not None:
        counts = dict(conn.execute("SELECT collection, count(*) FROM files "
                                   "WHERE problem IS NULL GROUP BY collection"))
    return [(name, counts.get(name, 0)) for name in found]


def _disk_collections() -> dict[str, str]:
    """As `fresh.disk_collections`, but never creating the home."""
    try:
        entries = list(os.scandir(paths.collections_dir_text()))
    except OSError:
        return {}
    entries.sort(key=lambda e: (e.name != paths.LOCAL_COLLECTION, e.name))
    return {e.name: e.path for e in entries
            if valid_name(e.name) and e.is_dir(follow_symlinks=False)
            and os.path.isdir(os.path.join(e.path, ".git"))}


def _has_remote(path: str) -> bool:
    """Whether the clone has its `origin`, from .git/config: no git process for a TAB."""
    try:
        with open(os.path.join(path, ".git", "config"), encoding="utf-8",
                  errors="replace") as config:
            text = config.read()
    except OSError:
        return False
    return any(line.strip() == _REMOTE_SECTION for line in text.splitlines())


def _index() -> sqlite3.Connection | None:
    """The index, checked cheaply and brought up to date when it is behind; None when there is
    no home yet."""
    if _conn:
        return _conn[0]
    colls = _disk_collections()
    if paths.LOCAL_COLLECTION not in colls:
        return None
    conn = _in_step(colls)
    if conn is None:
        from promptlib.index import db  # noqa: PLC0415  (only when the index is behind)

        conn = db.fresh().conn
    _conn.append(conn)
    return conn


def _in_step(colls: dict[str, str]) -> sqlite3.Connection | None:
    """The index file, opened read-only, if it is of this version and in step with `colls` as
    far as their HEADs and folders tell; else None."""
    path = paths.index_file_text()
    if not os.path.exists(path):
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            raise LookupError
        heads = dict(conn.execute("SELECT name, head FROM collections"))
        if heads.keys() != colls.keys() or any(read_head(p) != heads[n]
                                               for n, p in colls.items()):
            raise LookupError
        for collection, reldir, mtime_ns, ino in conn.execute(
                "SELECT collection, reldir, mtime_ns, ino FROM dirs"):
            if dir_sig(colls[collection], reldir) != (mtime_ns, ino):
                raise LookupError
    except (LookupError, sqlite3.Error):
        conn.close()
        return None
    return conn
