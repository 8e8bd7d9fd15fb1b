"""The per-collection write lock, and the recovery that runs once it is held.

Above `history` in the git package, since taking the lock repairs what a killed writer left
(`history.recover`), and `history` itself never needs the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from typing import IO

from promptlib import paths as config
from promptlib.gitops.history import recover

_held: dict[str, tuple[IO[str], int]] = {}


@contextlib.contextmanager
def locked(collection: str) -> Iterator[None]:
    """Serialize writers to one collection across processes.

    flock, not a lock file with a pid in it: the kernel drops the lock when its holder dies, so a
    killed promptlib never leaves a lock for someone to clean up. Re-entrant within a process
    (`share` pushes the collection it just wrote under the same lock). Once held, whatever a
    killed writer left inside the repository is recovered (see `history.recover`).
    """
    if collection in _held:
        handle, depth = _held[collection]
        _held[collection] = (handle, depth + 1)
        try:
            yield
        finally:
            handle, depth = _held[collection]
            _held[collection] = (handle, depth - 1)
        return
    lock_path = config.lock_file(collection)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held[collection] = (handle, 1)
        try:
            repo = config.collection_dir(collection)
            if (repo / ".git").is_dir():
                recover(repo)
            yield
        finally:
            del _held[collection]
            fcntl.flock(handle, fcntl.LOCK_UN)
