"""The local usage log: one JSON line per successful render, appended on the render hot path.

Stdlib only (no git, no YAML, no dataclasses): `render` pays well under a millisecond for it.
Each line is `{"time", "id", "collection", "person", "via"}` — never a variable value. `person` is
`GIT_AUTHOR_EMAIL` when set, else null, meaning "the owner of this log" (finding the git identity
would cost a git process per render). One `write` on an `O_APPEND` descriptor per line, so
concurrent renders never interleave or lose lines.
"""

from __future__ import annotations

import json
import os
import time

from promptlib import paths as config


def timestamp(seconds: float | None = None) -> str:
    """Local time in ISO 8601 with its UTC offset: `2024-05-01T10:15:00+02:00`."""
    local = time.localtime(seconds)
    offset = local.tm_gmtoff or 0
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f"{sign}{hours:02d}:{minutes:02d}"


def append(recipe_id: str, collection: str, *, at: str | None = None, via: str = "cli") -> bool:
    """Append one render to the log. Never raises for I/O: a full disk must not fail a render.

    `at` (an ISO time) is for tests and imports; by default, now. `via` says how the render was
    made: "cli", "pick" or "mcp" (a line without it, written before it existed, was "cli").
    False when nothing was written.
    """
    entry = {"time": at or timestamp(), "id": recipe_id, "collection": collection,
             "person": config.git_identity().get("GIT_AUTHOR_EMAIL"), "via": via}
    line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    path = config.usage_log()
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    try:
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, flags, 0o600)
    except OSError:
        return False
    try:
        return os.write(fd, line) == len(line)
    except OSError:
        return False
    finally:
        os.close(fd)
