"""Wins and durations: `promptlib win`, and the win files `promptlib report` reads.

What is kept, and where (no server: everything is a file in git or in the state dir):

- **Wins** (`promptlib win NAME --saved 25m --note …`, or `--before 45m --after 15m`): one
  small YAML file per win in the recipe's collection,
  `wins/<date>-<time>-<person>-<recipe>-<random>.yaml`, holding `recipe` (the id), `minutes`
  (saved), `before` and `after` (minutes the task took without and with the recipe, when given;
  `minutes` is then their difference), `note`, `author` and `email` (the git identity) and `at`
  (ISO time with the recorder's UTC offset). One file per win means two people recording wins
  never touch the same file, so wins never conflict; each is committed and travels with push
  and pull.
- **The usage log** and **published usage**: see `metrics.usage` (reading the log, the machine
  id, publishing) and `usage_log` (appending, on the render hot path).
- A win file read back may come from a pull: the bounds it is held to, and the checks, are in
  `metrics.files`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from promptlib import paths as config
from promptlib.errors import InvalidError, UsageError
from promptlib.metrics.files import (
    MAX_AUTHOR_CHARS,
    MAX_ID_CHARS,
    MAX_NOTE_CHARS,
    MAX_PERSON_CHARS,
    MAX_SAVED_SECONDS,
    MAX_WIN_MINUTES,
    WINS_DIR,
    NotOursError,
    data_files,
    is_name,
    moment_field,
    one_line,
    person_slug,
    shown,
    text_field,
)

# Importers of usage through this module (sync/core.py, cli/teams.py) keep working.
from promptlib.metrics.people import person
from promptlib.metrics.usage import commit_usage, publishing
from promptlib.utils.files import write_atomic
from promptlib.utils.yamltext import dump_yaml

if TYPE_CHECKING:
    from promptlib.store.collections import Collection, RecipeFile

__all__ = ["MAX_SAVED_SECONDS", "MAX_WIN_MINUTES", "RecordedWin", "Saving", "Win",
           "commit_usage", "format_minutes", "load_wins", "minutes_of", "one_line",
           "parse_duration", "person_slug", "publishing", "record_win", "rounded", "saving"]

# --- durations ------------------------------------------------------------------------------------


def parse_duration(text: str, option: str | None = None) -> int:
    """`90s`, `25m`, `2h`, `1h30m` (also `1h 30m`, `1h30m15s`) → seconds. Bad → InvalidError.

    `option` (`--before`, `--after`) names what was typed when it is not the time saved."""
    spec = text.strip().lower().replace(" ", "")
    label = f"bad {option} duration" if option else "bad duration"
    match = re.fullmatch(r"(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?", spec)
    if not spec or match is None:
        hint = "add a unit: e.g. 25m" if spec.isdigit() else "e.g. 90s, 25m, 2h or 1h30m"
        raise InvalidError(f"{label} {text!r}", hint=hint)
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        why = "a task takes" if option else "a win saves"
        raise InvalidError(f"{label} {text!r}: {why} more than nothing",
                           hint="e.g. 90s, 25m, 2h or 1h30m")
    if total > MAX_SAVED_SECONDS:
        raise InvalidError(f"{label} {text!r}: more than {MAX_SAVED_SECONDS // 3600} hours "
                           "for one win", hint="record one win per occasion, e.g. 25m")
    return total


@dataclass(frozen=True)
class Saving:
    """How much time a win saved, in seconds, and when known how long the task took before the
    recipe and with it (`saved` = `before` - `after`)."""

    saved: int
    before: int | None = None
    after: int | None = None


def saving(saved: str | None, before: str | None = None, after: str | None = None) -> Saving:
    """`--saved`, or `--before` with `--after`, as a Saving. InvalidError (exit 4) for a bad
    duration, half a pair, an `--after` not shorter than `--before`, or a `--saved` that is not
    their difference; UsageError (exit 2) when none is given."""
    if before is None and after is None:
        if saved is None:
            raise UsageError("say how much time the recipe saved",
                             hint="--saved 25m, or --before 45m --after 15m")
        return Saving(parse_duration(saved))
    if before is None or after is None:
        given, missing = ("--before", "--after") if after is None else ("--after", "--before")
        raise InvalidError(f"{given} needs {missing}: how long the task took before the recipe, "
                           "and with it", hint="e.g. --before 45m --after 15m")
    took, takes = parse_duration(before, "--before"), parse_duration(after, "--after")
    if takes >= took:
        raise InvalidError(f"--after {after} is not shorter than --before {before}: "
                           "that is no saving", hint="e.g. --before 45m --after 15m")
    if saved is not None and parse_duration(saved) != took - takes:
        raise InvalidError(f"--saved {saved} is not --before {before} minus --after {after} "
                           f"({format_minutes(minutes_of(took - takes))})",
                           hint="give --saved alone, or --before and --after")
    return Saving(took - takes, took, takes)


def rounded(value: float, places: int = 2) -> float | int:
    """`value` rounded to two places (or `places`): a whole number when it is one."""
    value = round(value, places)
    return int(value) if value == int(value) else value


def minutes_of(seconds: float) -> float | int:
    """Seconds as minutes: a whole number when it is one, else rounded to two places."""
    return rounded(seconds / 60)


def format_minutes(minutes: float) -> str:
    """145 → `2h 25m`; 1.5 → `1m 30s`; 25 → `25m`."""
    seconds = round(minutes * 60)
    hours, rest = divmod(seconds, 3600)
    mins, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    if mins or (not hours and not secs):
        parts.append(f"{mins}m")
    if secs:
        parts.append(f"{secs}s")
    return " ".join(parts)


# Three values each rounded to two places: their difference may be off by this much.
_ROUNDING = 0.02

# --- wins -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Win:
    recipe: str  # the id, `<collection>/<name>`
    minutes: float | int
    note: str
    author: str
    email: str
    at: str  # ISO 8601 with the recorder's offset
    commit: str | None = None  # the version of the recipe that saved the time, when known
    # How long the task took before the recipe and with it (minutes), when the win says so:
    # `minutes` is then their difference.
    before: float | int | None = None
    after: float | int | None = None

    @property
    def name(self) -> str:
        return self.recipe.rpartition("/")[2]

    @property
    def day(self) -> str:
        return self.at[:10]

    @property
    def person(self) -> str:
        """Who recorded it (see `metrics.people`): the email, else the one in `author`."""
        return person(self.email or self.author)

    @property
    def ratio(self) -> float | None:
        """How long the task takes now, as a fraction of how long it took: `after / before`."""
        if self.before is None or self.after is None:
            return None
        return self.after / self.before

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"recipe": self.recipe, "minutes": self.minutes}
        if self.before is not None:
            doc |= {"before": self.before, "after": self.after}
        return doc | {"note": self.note, "author": self.author, "email": self.email,
                      "at": self.at, **({"commit": self.commit} if self.commit else {})}


@dataclass(frozen=True)
class RecordedWin:
    win: Win
    relpath: str
    collection: str
    remote: bool  # whether the collection has a remote, so the win can travel by push

    def to_dict(self) -> dict[str, Any]:
        return {**self.win.to_dict(), "collection": self.collection, "path": self.relpath,
                "remote": self.remote}


def record_win(ref: str, saved: str | None, note: str | None = None, *,
               before: str | None = None, after: str | None = None,
               at: datetime | None = None) -> RecordedWin:
    """Write one win file into the recipe's collection and commit it: the time saved is
    `saved`, or `before` - `after` (see `saving`)."""
    import secrets  # noqa: PLC0415  (stdlib, kept off the start-up path)

    from promptlib.catalog import lookup  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.catalog import recipes as catalog  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops import remote as gitops_remote  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.store import collections as store  # noqa: PLC0415  (start-up: only this path loads it)

    spent = saving(saved, before, after)
    text = _clean_note(note or "")
    rf, rev = lookup.find_rev(ref)
    if text:
        catalog.refuse_secrets(text, "--note")
    commit = lookup.resolve_rev(rf, rev).commit if rev else version_used(rf)
    coll = store.Collection(rf.collection, rf.root)
    name, email = gitops.identity(coll.path)
    # An aware `at` keeps its own offset (it says which calendar day the win belongs to).
    when = (at if at is not None and at.tzinfo is not None
            else (at or datetime.now()).astimezone()).replace(microsecond=0)
    # Clipped to the bounds `load_wins` holds a pulled file to: what `win` writes, it reads.
    email = email[:MAX_PERSON_CHARS]
    author = one_line(f"{name} <{email}>")[:MAX_AUTHOR_CHARS]
    win = Win(rf.id, minutes_of(spent.saved), text, author, email, when.isoformat(), commit,
              before=None if spent.before is None else minutes_of(spent.before),
              after=None if spent.after is None else minutes_of(spent.after))
    stamp = when.strftime("%Y-%m-%d-%H%M%S")
    relpath = (f"{WINS_DIR}/{stamp}-{person_slug(email)}-{rf.name}-"
               f"{secrets.token_hex(3)}{config.RECIPE_SUFFIX}")
    data = dump_yaml(win.to_dict()).encode("utf-8")
    with locked(coll.name):
        write_atomic(store.safe_path(coll, relpath), data)
        gitops.commit(coll.path, [relpath],
                      f"Win: {rf.name} saved {format_minutes(win.minutes)}")
    return RecordedWin(win, relpath, coll.name, gitops_remote.remote_url(coll.path) is not None)


def version_used(rf: RecipeFile) -> str | None:
    """The commit of the version a win is for: the one your last render of the recipe used
    (the usage log says which), else the version on disk; None when it is not committed."""
    from promptlib.catalog import lookup  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.catalog import recipes as catalog  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.metrics import usage  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.store import collections as store  # noqa: PLC0415  (start-up: only this path loads it)

    commit, blob = usage.last_version(rf.id)
    if commit:
        return commit
    if blob is None:
        blob = catalog.blob_id(store.read_bytes_nofollow(rf.path))
    return next((v.commit for v in lookup.recipe_versions(rf) if v.blob == blob), None)


def _clean_note(note: str) -> str:
    text = one_line(note)
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidError(f"the note is {len(text):,} characters; at most {MAX_NOTE_CHARS:,}",
                           hint="say what it saved in a sentence or two")
    return text


def load_wins(coll: Collection) -> tuple[list[Win], list[str]]:
    """Every win file in a collection, and one problem line per file that is not a win."""
    wins: list[Win] = []
    problems: list[str] = []
    for relpath, doc in data_files(coll, WINS_DIR, problems):
        try:
            wins.append(_win_from(doc, coll.name))
        except NotOursError as exc:
            problems.append(f"{shown(coll.name, relpath)}: not a win ({exc})")
    return wins, problems


def _win_from(doc: Any, collection: str) -> Win:
    if not isinstance(doc, dict):
        raise NotOursError("not a mapping")
    minutes = doc.get("minutes")
    if (isinstance(minutes, bool) or not isinstance(minutes, int | float)
            or not 0 < minutes <= MAX_WIN_MINUTES or not math.isfinite(minutes)):
        raise NotOursError(f"minutes must be a number above 0 and at most {MAX_WIN_MINUTES:,}")
    at = moment_field(doc, "at")
    # The id is rebuilt against the collection the file is in: a team repository may be cloned
    # under another name than the one its recorder used.
    name = text_field(doc, "recipe", max_chars=MAX_ID_CHARS).rpartition("/")[2]
    if not is_name(name):
        raise NotOursError("recipe must end in a recipe name")
    email = text_field(doc, "email", required=False, max_chars=MAX_PERSON_CHARS).lower()
    note = one_line(text_field(doc, "note", required=False, max_chars=4 * MAX_NOTE_CHARS))
    if len(note) > MAX_NOTE_CHARS:
        raise NotOursError(f"note must be at most {MAX_NOTE_CHARS:,} characters")
    author = one_line(text_field(doc, "author", required=False, max_chars=MAX_AUTHOR_CHARS))
    before, after = _task_minutes(doc, minutes)
    return Win(f"{collection}/{name}", minutes, note, author or one_line(email), email, at,
               _commit_field(doc), before, after)


def _minutes_field(doc: dict[str, Any], key: str) -> float | int | None:
    value = doc.get(key)
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not 0 < value <= MAX_WIN_MINUTES):
        raise NotOursError(f"{key} must be a number above 0 and at most {MAX_WIN_MINUTES:,}")
    return value


def _task_minutes(doc: dict[str, Any], minutes: float) -> tuple[float | int | None,
                                                               float | int | None]:
    """`before` and `after`: both or neither, `after` the shorter, `minutes` their difference
    (to the rounding `minutes_of` does, two places each)."""
    before, after = _minutes_field(doc, "before"), _minutes_field(doc, "after")
    if before is None and after is None:
        return None, None
    if before is None or after is None:
        raise NotOursError("before and after go together")
    if after >= before:
        raise NotOursError("after must be less than before")
    if abs(before - after - minutes) > _ROUNDING:
        raise NotOursError("minutes must be before minus after")
    return before, after


def _commit_field(doc: dict[str, Any]) -> str | None:
    """The optional `commit` of a win (older win files have none)."""
    value = doc.get("commit")
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{7,64}", value):
        raise NotOursError("commit must be a git commit id")
    return value
