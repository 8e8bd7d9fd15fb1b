"""How often each recipe was rendered in the last weeks: the usage boost of `search`.

Two sources: this machine's usage log (every render, `metrics/usage_log.py`), and the usage
other people published into the collections (`usage/<date>-<person>-<machine>.yaml`, see
`metrics/usage.py`), without this machine's own published files, which the log already counts.

A search must not parse a year of usage log (18,000 lines is ~50 ms of JSON), so the daily
counts are kept in the cache folder: for the log, up to the byte it was read to, so a search
after a render reads only the new line; for the published files, with the signature of each
collection's `usage/` folder, read again only when a pull or a push changed it. Only files and
lines dated inside the window are kept. Everything here is best effort: a count that cannot be
read is no boost, never an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from promptlib import paths

WINDOW_DAYS = 56  # "recent": the last eight weeks
CACHE_VERSION = 1
MAX_LOG_READ = 64 << 20  # a larger log is read from its last 64 MiB

Daily = dict[str, dict[str, int]]  # day -> recipe id -> renders
_NO_LOG: dict[str, Any] = {"ino": 0, "offset": 0, "daily": {}}


def recent_renders(roots: Mapping[str, Path] | None = None, *, today: float | None = None
                   ) -> dict[str, int]:
    """`collection/name` -> renders in the last WINDOW_DAYS days, from the log and the
    collections' published usage (`roots`: name -> folder; default: every collection)."""
    start = _day(today, -WINDOW_DAYS)
    cache_path = paths.usage_cache_file()
    cache = _read_cache(cache_path)
    changed = False
    log = _log_counts(cache.get("log"), start)
    if log is not cache.get("log"):
        cache["log"], changed = log, True
    if roots is None:
        roots = _collections()
    published_sig = _published_sig(roots)
    if cache.get("published_sig") != published_sig:
        cache["published"] = _published_counts(roots, start)
        cache["published_sig"], changed = published_sig, True
    totals: dict[str, int] = {}
    for daily in (log["daily"], cache.get("published") or {}):
        for day, counts in daily.items():
            if day >= start:
                for recipe_id, n in counts.items():
                    totals[recipe_id] = totals.get(recipe_id, 0) + n
    if changed:
        _write_cache(cache_path, cache, start)
    return totals


def _day(now: float | None, offset_days: int = 0) -> str:
    seconds = (time.time() if now is None else now) + offset_days * 86400
    return time.strftime("%Y-%m-%d", time.localtime(seconds))


# --- the local log, read incrementally ------------------------------------------------------------


def _log_counts(known: Any, start: str) -> dict[str, Any]:
    """The log's daily counts: `known` itself when the log did not grow, else brought up to
    date by reading only what was appended since (all of it when the log was replaced)."""
    path = paths.usage_log()
    try:
        st = path.stat()
    except OSError:
        return known if known == _NO_LOG else dict(_NO_LOG)
    same_log = (isinstance(known, dict) and known.get("ino") == st.st_ino
                and isinstance(known.get("offset"), int) and known["offset"] <= st.st_size
                and isinstance(known.get("daily"), dict))
    if same_log and known["offset"] == st.st_size:
        state: dict[str, Any] = known
        return state
    offset: int = known["offset"] if same_log else 0
    daily: Daily = {d: dict(c) for d, c in known["daily"].items()} if same_log else {}
    offset = max(offset, st.st_size - MAX_LOG_READ)
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(st.st_size - offset)
    except OSError:
        return dict(_NO_LOG)
    end = data.rfind(b"\n") + 1  # a line still being written is read next time
    _count_lines(data[:end], start, daily)
    return {"ino": st.st_ino, "offset": offset + end, "daily": daily}


def _count_lines(data: bytes, start: str, daily: Daily) -> None:
    for raw in data.splitlines():
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if not isinstance(entry, dict):
            continue
        at, recipe_id = entry.get("time"), entry.get("id")
        if isinstance(at, str) and isinstance(recipe_id, str) and at[:10] >= start:
            counts = daily.setdefault(at[:10], {})
            counts[recipe_id] = counts.get(recipe_id, 0) + 1


# --- published usage ------------------------------------------------------------------------------


def _collections() -> dict[str, Path]:
    root = paths.collections_dir()
    try:
        entries = list(os.scandir(root))
    except OSError:
        return {}
    return {e.name: Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)
            and not e.name.startswith(".")}


def _published_sig(roots: Mapping[str, Path]) -> list[Any]:
    sig: list[Any] = [_machine()]
    for name, root in sorted(roots.items()):
        try:
            st = os.lstat(root / _USAGE_DIR)
        except OSError:
            continue
        sig.append([name, st.st_mtime_ns, st.st_ino])
    return sig


_USAGE_DIR = "usage"


def _machine() -> str | None:
    try:
        return paths.usage_machine_id().read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _published_counts(roots: Mapping[str, Path], start: str) -> Daily:
    """Renders per day and recipe from the usage files dated inside the window: publishing
    names each `usage/<date>-<person>-<machine>.yaml`, so older files are not even opened."""
    from promptlib.metrics.files import NotOursError  # noqa: PLC0415  (after a pull only)
    from promptlib.metrics.usage import parse_usage  # noqa: PLC0415  (same)

    machine = _machine()
    daily: Daily = {}
    for name, root in roots.items():
        for path in _dated_files(root / _USAGE_DIR, start):
            try:
                usage = parse_usage(path)
            except (NotOursError, OSError, ValueError, RecursionError):
                continue  # `report` names the files that are not usage files; here: no count
            if usage.day < start or (machine and usage.machine == machine):
                continue
            counts = daily.setdefault(usage.day, {})
            for recipe, n in usage.renders.items():
                key = f"{name}/{recipe}"
                counts[key] = counts.get(key, 0) + n
    return daily


def _dated_files(folder: Path, start: str) -> list[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.name[:10] >= start
            and e.name.endswith(paths.RECIPE_SUFFIX) and e.is_file(follow_symlinks=False)]


# --- the cache file -------------------------------------------------------------------------------


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != CACHE_VERSION:
        return {}
    cache: dict[str, Any] = doc
    return cache


def _write_cache(path: Path, cache: dict[str, Any], start: str) -> None:
    from promptlib.utils.files import write_atomic  # noqa: PLC0415  (only when counts changed)

    def trimmed(daily: Iterable[tuple[str, dict[str, int]]]) -> Daily:
        return {day: counts for day, counts in daily if day >= start}

    doc = {"version": CACHE_VERSION,
           "log": {**cache["log"], "daily": trimmed(cache["log"]["daily"].items())},
           "published_sig": cache.get("published_sig"),
           "published": trimmed((cache.get("published") or {}).items())}
    with contextlib.suppress(OSError):  # a read-only cache only costs the counting again
        write_atomic(path, json.dumps(doc, separators=(",", ":")).encode("utf-8"))
