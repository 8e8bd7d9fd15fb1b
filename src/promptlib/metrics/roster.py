"""A collection's team roster: the people it counts as its members, when it says so.

A collection may commit `.promptlib/team.yaml` (`paths.ROSTER_FILE`):

    members:
      - Jane Doe <jane@example.com>
      - bob@example.com

Each entry is a person as `metrics.people` reads one (`Name <email>` or an email). The report
then counts exactly these people as the team, instead of everyone who was active in it. The file
may come from a pull, so it is untrusted input: anything else than a list of at most
MAX_MEMBERS one-line entries is a problem line naming the file, and the collection is counted
as if it had no roster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promptlib import paths as config
from promptlib.errors import RecipeError
from promptlib.metrics.files import MAX_AUTHOR_CHARS, NotOursError, parse_data, shown
from promptlib.metrics.people import person
from promptlib.store import collections as store

if TYPE_CHECKING:
    from promptlib.store.collections import Collection

MAX_MEMBERS = 10_000


def load_roster(coll: Collection) -> tuple[frozenset[str] | None, list[str]]:
    """The roster's people (None when the collection has no roster file), and its problems."""
    folder, _, _ = config.ROSTER_FILE.partition("/")
    path = coll.path / config.ROSTER_FILE
    if (coll.path / folder).is_symlink() or not path.exists():
        return None, []
    where = shown(coll.name, config.ROSTER_FILE)
    try:
        data = store.read_bytes_nofollow(path)
    except RecipeError:
        return None, [f"{where}: not a regular file"]
    if len(data) > config.MAX_RECIPE_BYTES:
        return None, [f"{where}: larger than {config.MAX_RECIPE_BYTES // 1024} KiB"]
    try:
        return members(parse_data(data)), []
    except NotOursError as exc:
        return None, [f"{where}: not a roster ({exc})"]
    except Exception as exc:  # noqa: BLE001 - any parse failure is "not our file"
        return None, [f"{where}: cannot parse ({type(exc).__name__})"]


def members(doc: Any) -> frozenset[str]:
    """`{members: [...]}` → the set of people; NotOursError naming the rule a file breaks."""
    entries = doc.get("members") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise NotOursError("members must be a list of names and emails")
    if len(entries) > MAX_MEMBERS:
        raise NotOursError(f"members must be at most {MAX_MEMBERS:,} people")
    people = set()
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip() or len(entry) > MAX_AUTHOR_CHARS:
            raise NotOursError(f"each member must be one name or email of at most "
                               f"{MAX_AUTHOR_CHARS} characters")
        people.add(person(entry))
    return frozenset(people)
