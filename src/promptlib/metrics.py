"""Wins, the local usage log and usage publishing: the evidence `promptlib report` reads.

What is kept, and where (no server: everything is a file in git or in the state dir):

- **Wins** (`promptlib win NAME --saved 25m --note …`): one small YAML file per win in the
  recipe's collection, `wins/<date>-<time>-<person>-<recipe>-<random>.yaml`, holding `recipe`
  (the id), `minutes`, `note`, `author` and `email` (the git identity) and `at` (ISO time with
  the recorder's UTC offset). One file per win means two people recording wins never touch the
  same file, so wins never conflict; each is committed and travels with push and pull.
- **The usage log** (`config.usage_log()`, a JSON-lines file in the state dir, written by
  `usage_log.append` on the render hot path): one line per successful render — `time`, `id`,
  `collection`, `person` — and never a variable value. `person` null means "the owner of this
  log", resolved to the collection's git identity when the log is read.
- **Published usage** (opt in per collection: `promptlib team usage NAME --publish on`, or
  `collections: {NAME: {publish_usage: true}}` in config.yaml; off by default): per day and
  person, the number of renders of each of the collection's recipes, written to
  `usage/<date>-<person>-<machine>.yaml` (JSON, which is YAML). The machine part is a random id
  kept beside the log (`config.usage_machine_id()`): one person on two laptops writes two files,
  so publishing never conflicts, and `report` replaces this machine's published files with the
  live log instead of counting them twice. Publishing recounts each day from the log, so
  re-publishing is idempotent.

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
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from promptlib import config, store
from promptlib.errors import InvalidError, RecipeError

if TYPE_CHECKING:
    from promptlib.store import Collection

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

# --- durations ------------------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """`90s`, `25m`, `2h`, `1h30m` (also `1h 30m`, `1h30m15s`) → seconds. Bad → InvalidError."""
    spec = text.strip().lower().replace(" ", "")
    match = re.fullmatch(r"(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?", spec)
    if not spec or match is None:
        hint = "add a unit: e.g. 25m" if spec.isdigit() else "e.g. 90s, 25m, 2h or 1h30m"
        raise InvalidError(f"bad duration {text!r}", hint=hint)
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise InvalidError(f"bad duration {text!r}: a win saves more than nothing",
                           hint="e.g. 90s, 25m, 2h or 1h30m")
    if total > MAX_SAVED_SECONDS:
        raise InvalidError(f"bad duration {text!r}: more than {MAX_SAVED_SECONDS // 3600} hours "
                           "for one win", hint="record one win per occasion, e.g. 25m")
    return total


def minutes_of(seconds: float) -> float | int:
    """Seconds as minutes: a whole number when it is one, else rounded to two places."""
    value = round(seconds / 60, 2)
    return int(value) if value == int(value) else value


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


# --- wins -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Win:
    recipe: str  # the id, `<collection>/<name>`
    minutes: float | int
    note: str
    author: str
    email: str
    at: str  # ISO 8601 with the recorder's offset

    @property
    def name(self) -> str:
        return self.recipe.rpartition("/")[2]

    @property
    def day(self) -> str:
        return self.at[:10]

    def to_dict(self) -> dict[str, Any]:
        return {"recipe": self.recipe, "minutes": self.minutes, "note": self.note,
                "author": self.author, "email": self.email, "at": self.at}


@dataclass(frozen=True)
class RecordedWin:
    win: Win
    relpath: str
    collection: str
    remote: bool  # whether the collection has a remote, so the win can travel by push

    def to_dict(self) -> dict[str, Any]:
        return {**self.win.to_dict(), "collection": self.collection, "path": self.relpath,
                "remote": self.remote}


def record_win(ref: str, saved: str, note: str | None = None, *,
               at: datetime | None = None) -> RecordedWin:
    """Write one win file into the recipe's collection and commit it."""
    import secrets

    from promptlib import catalog, gitops, gitops_remote, store
    from promptlib.recipe import dump_yaml

    seconds = parse_duration(saved)
    text = _clean_note(note or "")
    rf = store.find(ref)
    if text:
        catalog.refuse_secrets(text, "--note")
    coll = store.Collection(rf.collection, rf.root)
    name, email = gitops.identity(coll.path)
    # An aware `at` keeps its own offset (it says which calendar day the win belongs to).
    when = (at if at is not None and at.tzinfo is not None
            else (at or datetime.now()).astimezone()).replace(microsecond=0)
    # Clipped to the bounds `load_wins` holds a pulled file to: what `win` writes, it reads.
    email = email[:MAX_PERSON_CHARS]
    author = one_line(f"{name} <{email}>")[:MAX_AUTHOR_CHARS]
    win = Win(rf.id, minutes_of(seconds), text, author, email, when.isoformat())
    stamp = when.strftime("%Y-%m-%d-%H%M%S")
    relpath = (f"{WINS_DIR}/{stamp}-{person_slug(email)}-{rf.name}-"
               f"{secrets.token_hex(3)}{config.RECIPE_SUFFIX}")
    data = dump_yaml(win.to_dict()).encode("utf-8")
    with gitops.locked(coll.name):
        store.write_atomic(store.safe_path(coll, relpath), data)
        gitops.commit(coll.path, [relpath],
                      f"Win: {rf.name} saved {format_minutes(win.minutes)}")
    return RecordedWin(win, relpath, coll.name, gitops_remote.remote_url(coll.path) is not None)


def one_line(text: str) -> str:
    """Control characters and runs of white space as one space: safe to print anywhere."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _clean_note(note: str) -> str:
    text = one_line(note)
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidError(f"the note is {len(text):,} characters; at most {MAX_NOTE_CHARS:,}",
                           hint="say what it saved in a sentence or two")
    return text


def person_slug(email: str) -> str:
    """`Jane.Doe@Example.com` → `jane-doe-example-com`: safe in a file name, still readable."""
    out = []
    for ch in email.lower():
        out.append(ch if ch.isascii() and ch.isalnum() else "-")
    slug = "-".join(part for part in "".join(out).split("-") if part)
    return slug[:48].strip("-") or "someone"


def load_wins(coll: Collection) -> tuple[list[Win], list[str]]:
    """Every win file in a collection, and one problem line per file that is not a win."""
    wins: list[Win] = []
    problems: list[str] = []
    for relpath, doc in _data_files(coll, WINS_DIR, problems):
        try:
            wins.append(_win_from(doc, coll.name))
        except _NotOursError as exc:
            problems.append(f"{_shown(coll.name, relpath)}: not a win ({exc})")
    return wins, problems


class _NotOursError(ValueError):
    """A data file that breaks a rule: the message says which, never echoing the value."""


def _win_from(doc: Any, collection: str) -> Win:
    if not isinstance(doc, dict):
        raise _NotOursError("not a mapping")
    minutes = doc.get("minutes")
    if (isinstance(minutes, bool) or not isinstance(minutes, int | float)
            or not 0 < minutes <= MAX_WIN_MINUTES or not math.isfinite(minutes)):
        raise _NotOursError(f"minutes must be a number above 0 and at most {MAX_WIN_MINUTES:,}")
    at = _moment(doc, "at")
    # The id is rebuilt against the collection the file is in: a team repository may be cloned
    # under another name than the one its recorder used.
    name = _text(doc, "recipe", max_chars=MAX_ID_CHARS).rpartition("/")[2]
    if not _is_name(name):
        raise _NotOursError("recipe must end in a recipe name")
    email = _text(doc, "email", required=False, max_chars=MAX_PERSON_CHARS).lower()
    note = one_line(_text(doc, "note", required=False, max_chars=4 * MAX_NOTE_CHARS))
    if len(note) > MAX_NOTE_CHARS:
        raise _NotOursError(f"note must be at most {MAX_NOTE_CHARS:,} characters")
    author = one_line(_text(doc, "author", required=False, max_chars=MAX_AUTHOR_CHARS))
    return Win(f"{collection}/{name}", minutes, note, author or one_line(email), email, at)


def _is_name(name: str) -> bool:
    from promptlib.recipe import is_valid_name

    return is_valid_name(name)


# --- the usage log --------------------------------------------------------------------------------


def record_render(recipe_id: str, collection: str, *, at: str | None = None) -> bool:
    """Append one render to the local usage log (see `usage_log`, the render hot path)."""
    from promptlib import usage_log

    return usage_log.append(recipe_id, collection, at=at)


@dataclass(frozen=True)
class Render:
    """One line of the usage log."""

    day: str
    id: str
    collection: str
    person: str | None

    @property
    def name(self) -> str:
        return self.id.rpartition("/")[2]


def read_log() -> list[Render]:
    """Every well-formed line of the usage log; a torn or foreign line is skipped."""
    try:
        data = config.usage_log().read_bytes()
    except FileNotFoundError:
        return []
    renders: list[Render] = []
    for raw in data.splitlines():
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        render = _render_from(entry)
        if render is not None:
            renders.append(render)
    return renders


def _render_from(entry: Any) -> Render | None:
    if not isinstance(entry, dict):
        return None
    at, recipe_id, collection = entry.get("time"), entry.get("id"), entry.get("collection")
    person = entry.get("person") or None
    if not (isinstance(at, str) and isinstance(recipe_id, str) and isinstance(collection, str)
            and (person is None or isinstance(person, str))):
        return None
    day = iso_day(at[:10])
    return None if day is None else Render(day, recipe_id, collection, person)


def iso_day(text: str) -> str | None:
    """`text` if it is a real `YYYY-MM-DD` day, else None."""
    if _ISO_DAY.fullmatch(text) is None:
        return None
    try:
        date.fromisoformat(text)
    except ValueError:
        return None
    return text


def machine_id() -> str:
    """This usage log's random id, created on first use and kept beside the log."""
    import secrets

    path = config.usage_machine_id()
    try:
        value = path.read_text(encoding="ascii").strip()
        if value.isalnum() and 4 <= len(value) <= 32:
            return value
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    value = secrets.token_hex(4)
    store.write_atomic(path, (value + "\n").encode("ascii"))
    return value


def machine_id_if_any() -> str | None:
    """The id if one was ever made (reading never creates one)."""
    try:
        value = config.usage_machine_id().read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return value or None


# --- publishing -----------------------------------------------------------------------------------


def publishing(collection_name: str) -> bool:
    """Whether this collection publishes usage counts (opt in; off by default)."""
    from promptlib import settings

    entry = settings.load().collections.get(collection_name)
    return isinstance(entry, dict) and entry.get("publish_usage") is True


def set_publishing(collection_name: str, on: bool) -> None:
    """Turn publishing on or off for a collection (which must exist) in config.yaml."""
    from promptlib import settings, store

    store.collection(collection_name)
    current = settings.load()
    entry = current.collections.get(collection_name)
    entry = dict(entry) if isinstance(entry, dict) else {}
    entry["publish_usage"] = on
    current.collections[collection_name] = entry
    settings.save(current)


def publish_usage(collection_name: str) -> list[str]:
    """Write this machine's daily per-person render counts into the collection's `usage/`.

    Does nothing (returns []) unless the collection publishes. Returns the relpaths written or
    changed, for the caller to commit — under the collection lock, which the caller holds.
    """
    if not publishing(collection_name):
        return []
    from collections import Counter

    from promptlib import gitops, store

    coll = store.collection(collection_name)
    me = gitops.identity(coll.path)[1].lower()
    counts: dict[tuple[str, str], Counter[str]] = {}
    for render in read_log():
        if render.collection == collection_name:
            person = (render.person or me).lower()[:MAX_PERSON_CHARS]
            counts.setdefault((render.day, person), Counter())[render.name] += 1
    if not counts:
        return []
    machine = machine_id()
    changed: list[str] = []
    for (day, person), per_recipe in sorted(counts.items()):
        relpath = f"{USAGE_DIR}/{day}-{person_slug(person)}-{machine}{config.RECIPE_SUFFIX}"
        doc = {"date": day, "person": person, "machine": machine,
               "renders": dict(sorted(per_recipe.items()))}
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        path = store.safe_path(coll, relpath)
        try:
            if path.read_bytes() == data:
                continue
        except FileNotFoundError:
            pass
        store.write_atomic(path, data)
        changed.append(relpath)
    return changed


@dataclass(frozen=True)
class Published:
    collection: str
    publishing: bool
    paths: list[str]
    commit: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"collection": self.collection, "publishing": self.publishing,
                "published": self.paths, "commit": self.commit}


def commit_usage(collection_name: str) -> tuple[list[str], str | None]:
    """Publish (when on) and commit the usage files that changed: (relpaths, commit sha or None).

    The caller holds the collection lock: `push` calls this for each collection it sends, so
    the counts travel with it.
    """
    paths = publish_usage(collection_name)
    if not paths:
        return [], None
    from promptlib import gitops

    message = f"Publish usage counts ({len(paths)} file{'' if len(paths) == 1 else 's'})"
    return paths, gitops.commit(config.collection_dir(collection_name), paths, message)


def publish_now(collection_name: str) -> Published:
    """`team usage NAME`: publish (when on) and commit in that collection, under its lock."""
    from promptlib import gitops, store

    coll = store.collection(collection_name)
    if not publishing(coll.name):
        return Published(coll.name, False, [], None)
    with gitops.locked(coll.name):
        paths, sha = commit_usage(coll.name)
    return Published(coll.name, True, paths, sha)


def set_and_publish(collection_name: str, on: bool | None) -> Published:
    """`team usage NAME [--publish on|off]`: change the setting if asked, then publish."""
    if on is not None:
        set_publishing(collection_name, on)
    return publish_now(collection_name)


@dataclass(frozen=True)
class UsageCount:
    day: str
    person: str
    machine: str | None
    renders: dict[str, int]


def load_usage(coll: Collection) -> tuple[list[UsageCount], list[str]]:
    """Every published usage file in a collection, and one problem line per file that is not."""
    counts: list[UsageCount] = []
    problems: list[str] = []
    for relpath, doc in _data_files(coll, USAGE_DIR, problems):
        try:
            counts.append(_usage_from(doc))
        except _NotOursError as exc:
            problems.append(f"{_shown(coll.name, relpath)}: not a usage file ({exc})")
    return counts, problems


def _usage_from(doc: Any) -> UsageCount:
    if not isinstance(doc, dict):
        raise _NotOursError("not a mapping")
    day = _day(doc, "date")
    person = _text(doc, "person", max_chars=MAX_PERSON_CHARS).lower()
    if not person:
        raise _NotOursError("person must not be empty")
    machine = _text(doc, "machine", required=False, max_chars=32)
    if machine and not (machine.isascii() and machine.isalnum() and len(machine) >= 4):
        raise _NotOursError("machine must be 4 to 32 letters and digits")
    raw = doc.get("renders")
    if not isinstance(raw, dict):
        raise _NotOursError("renders must be a mapping")
    renders: dict[str, int] = {}
    for name, n in raw.items():
        if not isinstance(name, str) or not _is_name(name):
            raise _NotOursError("renders must be keyed by recipe names")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= MAX_RENDERS_PER_DAY:
            raise _NotOursError(f"renders must be whole numbers from 1 to {MAX_RENDERS_PER_DAY:,}")
        renders[name] = n
    return UsageCount(day, person, machine or None, renders)


# --- reading data files ---------------------------------------------------------------------------


def _data_files(coll: Collection, folder: str, problems: list[str]) -> list[tuple[str, Any]]:
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
            problems.append(f"{_shown(coll.name, relpath)}: larger than "
                            f"{config.MAX_RECIPE_BYTES // 1024} KiB")
            continue
        try:
            doc = _parse(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is "not our file"
            problems.append(f"{_shown(coll.name, relpath)}: cannot parse ({type(exc).__name__})")
            continue
        out.append((relpath, doc))
    return out


def _shown(collection: str, relpath: str) -> str:
    """`collection/relpath` for a message: a file name from a pull may hold control characters."""
    text = f"{collection}/{relpath}"
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace")
                   .decode("ascii") for ch in text)


def _parse(data: bytes) -> Any:
    if data.lstrip()[:1] == b"{":
        return json.loads(data)
    import yaml

    return yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def _text(doc: dict[str, Any], key: str, *, required: bool = True, max_chars: int) -> str:
    """A string field; anything else (a list, a nested alias bomb) is refused, never str()-ed."""
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _NotOursError(f"{key} must be text")
    if len(value) > max_chars:
        raise _NotOursError(f"{key} must be at most {max_chars:,} characters")
    return value


def _day(doc: dict[str, Any], key: str) -> str:
    """A `YYYY-MM-DD` field (quoted, or an unquoted YAML date) within FIRST_DAY..LAST_DAY."""
    value = doc.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = value.isoformat()
    day = iso_day(value) if isinstance(value, str) else None
    if day is None:
        raise _NotOursError(f"{key} must be a date, YYYY-MM-DD")
    _check_day(date.fromisoformat(day), key)
    return day


def _moment(doc: dict[str, Any], key: str) -> str:
    """An ISO 8601 time field (quoted, or an unquoted YAML timestamp), normalised, starting with
    its `YYYY-MM-DD` day; a bare date is that day at midnight."""
    value = doc.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, str) and iso_day(value[:10]) is not None and len(value) <= 40:
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise _NotOursError(f"{key} must be an ISO date and time, e.g. 2024-05-01T10:15:00+02:00")
    _check_day(value.date(), key)
    return value.isoformat()


def _check_day(day: date, key: str) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _NotOursError(f"{key} must be from {FIRST_DAY} to {LAST_DAY}")
