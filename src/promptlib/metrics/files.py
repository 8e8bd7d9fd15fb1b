"""The `wins/` and `usage/` data files as untrusted input: their bounds, and the checks that turn
one file into a value or into a problem line naming it.

Every win and usage file may come from a pull, so `report` treats each as untrusted input: a file
that is not what `win` or publishing writes is skipped and reported as a problem naming it, never
a crash. The bounds: a win saves more than nothing and at most `MAX_WIN_MINUTES` (100 hours, the
same bound `win --saved` enforces), one published count is 1 to `MAX_RENDERS_PER_DAY` renders of
one recipe on one day (more than one a second, day and night), dates are `YYYY-MM-DD` (a win's
`at` a full ISO time) from `FIRST_DAY` to `LAST_DAY`, recipe names follow the recipe-name rule,
and text fields are one line of at most a few hundred characters (a note, `MAX_NOTE_CHARS`).
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from promptlib import paths as config
from promptlib.errors import RecipeError
from promptlib.store import collections as store

if TYPE_CHECKING:
    from promptlib.store.collections import Collection

WINS_DIR = "wins"
USAGE_DIR = "usage"
MAX_NOTE_CHARS = 1000
# A single win larger than this is a typo (`25h` for `25m`) far more often than a fact; read
# back from a win file, anything larger is refused as well.
MAX_SAVED_SECONDS = 100 * 3600
MAX_WIN_MINUTES = MAX_SAVED_SECONDS // 60
# One published count: renders of one recipe by one person on one day.
MAX_RENDERS_PER_DAY = 100_000
MAX_PERSON_CHARS = 254  # an email address
MAX_AUTHOR_CHARS = 300  # `Name <email>`
MAX_ID_CHARS = 200  # a win's `recipe`: `collection/name`
# The days a win or a usage file may be dated: outside them, a clock or a file is wrong.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class NotOursError(ValueError):
    """A data file that breaks a rule: the message says which, never echoing the value."""


def one_line(text: str) -> str:
    """Control characters and runs of white space as one space: safe to print anywhere."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def person_slug(email: str) -> str:
    """`Jane.Doe@Example.com` → `jane-doe-example-com`: safe in a file name, still readable."""
    out = []
    for ch in email.lower():
        out.append(ch if ch.isascii() and ch.isalnum() else "-")
    slug = "-".join(part for part in "".join(out).split("-") if part)
    return slug[:48].strip("-") or "someone"


def iso_day(text: str) -> str | None:
    """`text` if it is a real `YYYY-MM-DD` day, else None."""
    if _ISO_DAY.fullmatch(text) is None:
        return None
    try:
        date.fromisoformat(text)
    except ValueError:
        return None
    return text


def is_name(name: str) -> bool:
    from promptlib.recipe.model import is_valid_name  # noqa: PLC0415  (start-up: only this path loads it)

    return is_valid_name(name)


def data_files(coll: Collection, folder: str, problems: list[str]) -> list[tuple[str, Any]]:
    """(relpath, document) for each `*.yaml` under a reserved folder; symlinks never followed.

    Files written as JSON (usage counts) parse with `json`; the rest with the C YAML loader.
    """
    root = coll.path / folder
    if root.is_symlink() or not root.is_dir():
        return []
    out: list[tuple[str, Any]] = []
    for relpath in store.walk_yaml(root, f"{folder}/"):
        try:
            data = store.read_bytes_nofollow(coll.path / relpath)
        except RecipeError:
            continue  # vanished, unreadable, or not a regular file
        if len(data) > config.MAX_RECIPE_BYTES:
            problems.append(f"{shown(coll.name, relpath)}: larger than "
                            f"{config.MAX_RECIPE_BYTES // 1024} KiB")
            continue
        try:
            doc = parse_data(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is "not our file"
            problems.append(f"{shown(coll.name, relpath)}: cannot parse ({type(exc).__name__})")
            continue
        out.append((relpath, doc))
    return out


def shown(collection: str, relpath: str) -> str:
    """`collection/relpath` for a message: a file name from a pull may hold control characters."""
    text = f"{collection}/{relpath}"
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace")
                   .decode("ascii") for ch in text)


def parse_data(data: bytes) -> Any:
    """A data file's document: JSON when it looks like JSON, else YAML (safe, C loader)."""
    if data.lstrip()[:1] == b"{":
        return json.loads(data)
    import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

    return yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def text_field(doc: dict[str, Any], key: str, *, required: bool = True, max_chars: int) -> str:
    """A string field; anything else (a list, a nested alias bomb) is refused, never str()-ed."""
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise NotOursError(f"{key} must be text")
    if len(value) > max_chars:
        raise NotOursError(f"{key} must be at most {max_chars:,} characters")
    return value


def day_field(doc: dict[str, Any], key: str) -> str:
    """A `YYYY-MM-DD` field (quoted, or an unquoted YAML date) within FIRST_DAY..LAST_DAY."""
    value = doc.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = value.isoformat()
    day = iso_day(value) if isinstance(value, str) else None
    if day is None:
        raise NotOursError(f"{key} must be a date, YYYY-MM-DD")
    _check_day(date.fromisoformat(day), key)
    return day


def moment_field(doc: dict[str, Any], key: str) -> str:
    """An ISO 8601 time field (quoted, or an unquoted YAML timestamp), normalised, starting with
    its `YYYY-MM-DD` day; a bare date is that day at midnight."""
    value = doc.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, str) and iso_day(value[:10]) is not None and len(value) <= 40:
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise NotOursError(f"{key} must be an ISO date and time, e.g. 2024-05-01T10:15:00+02:00")
    _check_day(value.date(), key)
    return value.isoformat()


def _check_day(day: date, key: str) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise NotOursError(f"{key} must be from {FIRST_DAY} to {LAST_DAY}")
