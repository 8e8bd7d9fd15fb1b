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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptlib import config, store
from promptlib.errors import InvalidError, RecipeError

if TYPE_CHECKING:
    from datetime import datetime

    from promptlib.store import Collection

WINS_DIR = "wins"
USAGE_DIR = "usage"
MAX_NOTE_CHARS = 1000
# A single win larger than this is a typo (`25h` for `25m`) far more often than a fact.
MAX_SAVED_SECONDS = 100 * 3600

# --- durations ------------------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """`90s`, `25m`, `2h`, `1h30m` (also `1h 30m`, `1h30m15s`) → seconds. Bad → InvalidError."""
    import re

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

    def to_dict(self) -> dict[str, Any]:
        return {**self.win.to_dict(), "collection": self.collection, "path": self.relpath}


def record_win(ref: str, saved: str, note: str | None = None, *,
               at: datetime | None = None) -> RecordedWin:
    """Write one win file into the recipe's collection and commit it."""
    import secrets
    from datetime import datetime

    from promptlib import catalog, gitops, store
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
    win = Win(rf.id, minutes_of(seconds), text, f"{name} <{email}>", email, when.isoformat())
    stamp = when.strftime("%Y-%m-%d-%H%M%S")
    relpath = (f"{WINS_DIR}/{stamp}-{person_slug(email)}-{rf.name}-"
               f"{secrets.token_hex(3)}{config.RECIPE_SUFFIX}")
    data = dump_yaml(win.to_dict()).encode("utf-8")
    with gitops.locked(coll.name):
        store.write_atomic(store.safe_path(coll, relpath), data)
        gitops.commit(coll.path, [relpath],
                      f"Win: {rf.name} saved {format_minutes(win.minutes)}")
    return RecordedWin(win, relpath, coll.name)


def _clean_note(note: str) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in note).split())
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
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{coll.name}/{relpath}: not a win ({exc})")
    return wins, problems


def _win_from(doc: Any, collection: str) -> Win:
    if not isinstance(doc, dict):
        raise TypeError("not a mapping")
    minutes = doc["minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes <= 0:
        raise ValueError("minutes must be a positive number")
    at = _text(doc, "at")
    from datetime import date

    date.fromisoformat(at[:10])
    # The id is rebuilt against the collection the file is in: a team repository may be cloned
    # under another name than the one its recorder used.
    name = _text(doc, "recipe").rpartition("/")[2]
    if not name:
        raise ValueError("no recipe")
    email = _text(doc, "email", required=False).lower()
    return Win(f"{collection}/{name}", minutes, _text(doc, "note", required=False),
               _text(doc, "author", required=False) or email, email, at)


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
            renders.append(Render(str(entry["time"])[:10], str(entry["id"]),
                                  str(entry["collection"]), entry.get("person") or None))
        except (ValueError, KeyError, TypeError):
            continue
    return renders


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
            person = (render.person or me).lower()
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
    """Every published usage file in a collection."""
    counts: list[UsageCount] = []
    problems: list[str] = []
    for relpath, doc in _data_files(coll, USAGE_DIR, problems):
        try:
            if not isinstance(doc, dict) or not isinstance(doc.get("renders"), dict):
                raise TypeError("no renders mapping")
            day = _text(doc, "date")
            from datetime import date

            date.fromisoformat(day)
            renders = {k: v for k, v in doc["renders"].items()
                       if isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                       and v > 0}
            counts.append(UsageCount(day, _text(doc, "person").lower(),
                                     _text(doc, "machine", required=False) or None, renders))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{coll.name}/{relpath}: not a usage file ({exc})")
    return counts, problems


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
            problems.append(f"{coll.name}/{relpath}: larger than "
                            f"{config.MAX_RECIPE_BYTES // 1024} KiB")
            continue
        try:
            doc = _parse(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is "not our file"
            problems.append(f"{coll.name}/{relpath}: cannot parse ({type(exc).__name__})")
            continue
        out.append((relpath, doc))
    return out


def _parse(data: bytes) -> Any:
    if data.lstrip()[:1] == b"{":
        return json.loads(data)
    import yaml

    return yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def _text(doc: dict[str, Any], key: str, *, required: bool = True) -> str:
    """A string field; anything else (a list, a nested alias bomb) is refused, never str()-ed."""
    value = doc.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, str):
        return value
    from datetime import date

    if key in ("at", "date") and isinstance(value, date):
        return value.isoformat()  # an unquoted YAML date or timestamp
    raise TypeError(f"{key} must be text")
