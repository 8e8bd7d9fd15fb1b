"""Writes that are all or nothing, and reads that never follow a symlink."""

from __future__ import annotations

import os
import stat

# Path is only a type here: pathlib (its regex and URL imports) and typing would each cost a
# shell TAB ~9 ms, which reads through open_nofollow. mypy treats this name as typing's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old or the new, never half."""
    import tempfile  # noqa: PLC0415  (~5 ms: readers such as a shell TAB never write)
    from pathlib import Path  # noqa: PLC0415  (see TYPE_CHECKING above)

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


def write_atomic_many(files: list[tuple[Path, bytes]]) -> None:
    """`write_atomic` for a batch (an import of hundreds of files): every file goes to a temp
    file beside it, one `sync` makes them all durable (instead of an fsync per file, ~8 ms
    each), then each is renamed into place and each folder fsynced once."""
    import tempfile  # noqa: PLC0415  (~5 ms: readers such as a shell TAB never write)
    from pathlib import Path  # noqa: PLC0415  (see TYPE_CHECKING above)

    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((Path(name), path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        os.sync()
        for tmp, path in temps:
            tmp.replace(path)
    except BaseException:
        for tmp, _path in temps:
            tmp.unlink(missing_ok=True)
        raise
    for folder in dict.fromkeys(path.parent for _tmp, path in temps):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def open_nofollow(path: Path | str) -> int:
    """A read-only descriptor for `path`; a symlink in the last component is refused (ELOOP)."""
    return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))


class NotRegularFileError(OSError):
    """A device, FIFO or folder where a file was expected: reading it could block or never end."""


def read_nofollow(path: Path | str, limit: int) -> bytes:
    """At most `limit` bytes of a regular file, never through a symlink. Raises OSError."""
    fd = open_nofollow(path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(f"not a regular file: {path}")
        # Reads sized by the file, one byte over to meet its end: one read of `limit` bytes
        # would allocate that much first (256 KiB a recipe, 10,000 times in an index build).
        chunks, left, want = [], limit, st.st_size + 1
        while left > 0:
            chunk = os.read(fd, min(want, left))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
            want = 1 << 16  # the file grew since fstat(): read on to its end or the limit
        return b"".join(chunks)
    finally:
        os.close(fd)
