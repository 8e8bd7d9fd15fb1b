"""Usage: reading the local usage log, this log's machine id, and publishing usage counts.

- **The usage log** (`config.usage_log()`, a JSON-lines file in the state dir, written by
  `usage_log.append` on the render hot path): one line per successful render — `time`, `id`,
  `collection`, `person`, `via` (cli, pick or mcp) — and never a variable value. `person` null
  means "the owner of this log", resolved to the collection's git identity when the log is read.
- **Published usage** (opt in per collection: `promptlib team usage NAME --publish on`, or
  `collections: {NAME: {publish_usage: true}}` in config.yaml; off by default): per day and
  person, the number of renders of each of the collection's recipes, written to
  `usage/<date>-<person>-<machine>.yaml` (JSON, which is YAML). The machine part is a random id
  kept beside the log (`config.usage_machine_id()`): one person on two laptops writes two files,
  so publishing never conflicts, and `report` replaces this machine's published files with the
  live log instead of counting them twice. Publishing recounts each day from the log, so
  re-publishing is idempotent.

A published file read back is untrusted input, checked by the rules in `metrics.files`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlib import paths as config
from promptlib.metrics.files import (
    MAX_PERSON_CHARS,
    MAX_RENDERS_PER_DAY,
    USAGE_DIR,
    NotOursError,
    data_files,
    day_field,
    is_name,
    iso_day,
    person_slug,
    shown,
    text_field,
)
from promptlib.store import collections as store
from promptlib.utils.files import write_atomic

if TYPE_CHECKING:
    from promptlib.store.collections import Collection

# --- the usage log --------------------------------------------------------------------------------


def record_render(recipe_id: str, collection: str, *, at: str | None = None,
                  via: str = "cli") -> bool:
    """Append one render to the local usage log (see `usage_log`, the render hot path)."""
    from promptlib.metrics import usage_log  # noqa: PLC0415  (start-up: only this path loads it)

    return usage_log.append(recipe_id, collection, at=at, via=via)


#: How a render can be made; any other `via` in a log line counts as "cli".
VIAS = ("cli", "pick", "mcp")


@dataclass(frozen=True)
class Render:
    """One line of the usage log."""

    day: str
    id: str
    collection: str
    person: str | None
    via: str = "cli"  # how it was made: "cli", "pick", "mcp"; lines from before `via` were cli

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
    via = entry.get("via")
    day = iso_day(at[:10])
    return None if day is None else Render(day, recipe_id, collection, person,
                                           via if via in VIAS else "cli")


def last_version(recipe_id: str) -> tuple[str | None, str | None]:
    """(commit, blob) of the version your latest logged render of `recipe_id` used, as far as
    the log says (older lines say neither): what `win` attributes the time to."""
    try:
        data = config.usage_log().read_bytes()
    except FileNotFoundError:
        return None, None
    for raw in reversed(data.splitlines()):
        if recipe_id.encode() not in raw:
            continue
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict) and entry.get("id") == recipe_id:
            commit, blob = entry.get("commit"), entry.get("blob")
            return (commit if isinstance(commit, str) else None,
                    blob if isinstance(blob, str) else None)
    return None, None


def machine_id() -> str:
    """This usage log's random id, created on first use and kept beside the log."""
    import secrets  # noqa: PLC0415  (stdlib, kept off the start-up path)

    path = config.usage_machine_id()
    try:
        value = path.read_text(encoding="ascii").strip()
        if value.isalnum() and 4 <= len(value) <= 32:
            return value
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    value = secrets.token_hex(4)
    write_atomic(path, (value + "\n").encode("ascii"))
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
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)

    entry = settings.load().collections.get(collection_name)
    return isinstance(entry, dict) and entry.get("publish_usage") is True


def set_publishing(collection_name: str, on: bool) -> None:
    """Turn publishing on or off for a collection (which must exist) in config.yaml."""
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)

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
    from collections import Counter  # noqa: PLC0415  (stdlib, kept off the start-up path)

    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)

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
        write_atomic(path, data)
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
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (start-up: only this path loads it)

    message = f"Publish usage counts ({len(paths)} file{'' if len(paths) == 1 else 's'})"
    return paths, gitops.commit(config.collection_dir(collection_name), paths, message)


def publish_now(collection_name: str) -> Published:
    """`team usage NAME`: publish (when on) and commit in that collection, under its lock."""
    from promptlib.gitops.lock import locked  # noqa: PLC0415  (start-up: only this path loads it)

    coll = store.collection(collection_name)
    if not publishing(coll.name):
        return Published(coll.name, False, [], None)
    with locked(coll.name):
        paths, sha = commit_usage(coll.name)
    return Published(coll.name, True, paths, sha)


def set_and_publish(collection_name: str, on: bool | None) -> Published:
    """`team usage NAME [--publish on|off]`: change the setting if asked, then publish."""
    if on is not None:
        set_publishing(collection_name, on)
    return publish_now(collection_name)


# --- published usage, read back -------------------------------------------------------------------


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
    for relpath, doc in data_files(coll, USAGE_DIR, problems):
        try:
            counts.append(_usage_from(doc))
        except NotOursError as exc:
            problems.append(f"{shown(coll.name, relpath)}: not a usage file ({exc})")
    return counts, problems


def _usage_from(doc: Any) -> UsageCount:
    if not isinstance(doc, dict):
        raise NotOursError("not a mapping")
    day = day_field(doc, "date")
    person = text_field(doc, "person", max_chars=MAX_PERSON_CHARS).lower()
    if not person:
        raise NotOursError("person must not be empty")
    machine = text_field(doc, "machine", required=False, max_chars=32)
    if machine and not (machine.isascii() and machine.isalnum() and len(machine) >= 4):
        raise NotOursError("machine must be 4 to 32 letters and digits")
    raw = doc.get("renders")
    if not isinstance(raw, dict):
        raise NotOursError("renders must be a mapping")
    renders: dict[str, int] = {}
    for name, n in raw.items():
        if not isinstance(name, str) or not is_name(name):
            raise NotOursError("renders must be keyed by recipe names")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= MAX_RENDERS_PER_DAY:
            raise NotOursError(f"renders must be whole numbers from 1 to {MAX_RENDERS_PER_DAY:,}")
        renders[name] = n
    return UsageCount(day, person, machine or None, renders)


def parse_usage(path: Path) -> UsageCount:
    """One published usage file read back, as `load_usage` checks it: NotOursError (or
    OSError, ValueError) when it is not a usage file."""
    from promptlib.utils.files import read_nofollow  # noqa: PLC0415  (only after a pull)

    data = read_nofollow(path, config.MAX_RECIPE_BYTES + 1)
    if len(data) > config.MAX_RECIPE_BYTES:
        raise NotOursError("too large")
    return _usage_from(json.loads(data))
