"""Which redaction allow-lists apply: the user's (`redact: allow:` in config.yaml) and, for a
recipe's collection, the collection's committed `.promptlib/redact.yaml`; for `promptlib redact`
run in a checkout, the nearest such file above the current directory.

The file is read without following symlinks, like every file in a collection, and bounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptlib import paths
from promptlib.errors import InvalidError
from promptlib.utils.files import NotRegularFileError, read_nofollow

if TYPE_CHECKING:
    from pathlib import Path

    from promptlib.redact.allow import AllowList
    from promptlib.settings import Settings


def for_collection(root: Path | None, user: Settings | None = None) -> AllowList | None:
    """The user's allow-list and the collection's at `root`; None when both are empty."""
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.redact import allow  # noqa: PLC0415  (start-up: only this path loads it)

    user = user or settings.load()
    lists = [allow.parse(user.redact_allow, f"{paths.config_file()}: redact")]
    if root is not None:
        lists.append(_collection_file(root / paths.REDACT_ALLOW_FILE))
    return allow.combine(lists)


def near(start: Path, user: Settings | None = None) -> AllowList | None:
    """The user's allow-list and the nearest `.promptlib/redact.yaml` at or above `start`."""
    for folder in (start, *start.parents):
        if (folder / paths.REDACT_ALLOW_FILE).is_file():
            return for_collection(folder, user)
    return for_collection(None, user)


def _collection_file(path: Path) -> AllowList:
    from promptlib.redact import allow  # noqa: PLC0415  (start-up: only this path loads it)

    try:
        data = read_nofollow(path, paths.MAX_ALLOW_FILE_BYTES + 1)
    except FileNotFoundError:
        return allow.EMPTY
    except NotRegularFileError:
        raise InvalidError(f"{path}: not a regular file") from None
    except OSError as exc:
        raise InvalidError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > paths.MAX_ALLOW_FILE_BYTES:
        raise InvalidError(f"{path}: larger than {paths.MAX_ALLOW_FILE_BYTES // 1024} KiB")
    return allow.parse_file(data.decode("utf-8", errors="replace"), str(path))
