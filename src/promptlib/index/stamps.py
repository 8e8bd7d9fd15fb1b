"""What tells the index that a collection changed, read without git or the recipe loader:
each collection's HEAD (from the `.git` files), a folder's (mtime, inode), and the name rule.

Kept apart from the rest of the freshness checks (fresh.py), with the index's format version,
so that a shell TAB (names.py) can read them importing nothing but `os` and `stat`: it has
~20 ms in all.
"""

from __future__ import annotations

import os
import stat

from promptlib.utils.files import open_nofollow

TYPE_CHECKING = False  # typing and pathlib would cost a TAB ~20 ms; mypy treats this as typing's
if TYPE_CHECKING:
    from pathlib import Path

# The index file's format (`PRAGMA user_version`): bump it with db.py's schema. Here so that a
# TAB can tell an old-format index without importing db.
# 2: compound words split and joined (terms.index_text); 3: files.variables, each recipe's
# variables as JSON (for `promptlib mcp`).
SCHEMA_VERSION = 3

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def dir_sig(root: Path | str, reldir: str) -> tuple[int, int] | None:
    try:
        st = os.lstat(dir_path(root, reldir))
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    # Raw, never guarded: a folder stored as racy (0, 0) must never look unchanged.
    return st.st_mtime_ns, st.st_ino


def dir_path(root: Path | str, reldir: str) -> str:
    return f"{root}/{reldir}" if reldir else str(root)


def valid_name(name: str) -> bool:
    """`recipe.is_valid_name` without importing the recipe loader or compiling its regex, neither
    of which a search needs (a property test checks the two agree)."""
    return (0 < len(name) <= 64 and name[0] != "-" and name[-1] != "-"
            and _NAME_CHARS.issuperset(name))


def read_head(repo: Path | str) -> str:
    """The commit HEAD points at, from `.git/HEAD` and the loose or packed ref; '' if unborn."""
    git_dir = f"{repo}/.git"
    head = read_small(f"{git_dir}/HEAD")
    if not head.startswith("ref: "):
        return head  # detached: the sha itself
    ref = head[5:]
    if not ref.startswith("refs/") or ".." in ref.split("/"):
        return ""
    loose = read_small(f"{git_dir}/{ref}")
    if loose:
        return loose
    packed = read_small(f"{git_dir}/packed-refs", limit=1 << 24)
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name == ref:
            return sha
    return ""


def read_small(path: str, limit: int = 4096) -> str:
    try:
        fd = open_nofollow(path)
    except OSError:
        return ""
    try:
        return os.read(fd, limit).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    finally:
        os.close(fd)
