"""What a sync did and what it remembers: the per-collection `SyncReport`, the `Conflict`s in it,
the one error a whole pull/push ends with (`overall_error`), and the small state file each
collection keeps between runs (last sync time, recorded `resolve` decisions).

Part of the sync modules (`sync` runs pull/push/share, `sync.tree` validates what a tree holds,
`sync.resolve` finds and settles conflicts). Silent core: nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promptlib import paths as config
from promptlib.errors import ConflictError, InvalidError, PromptlibError, RemoteUnreachableError
from promptlib.sync.tree import recipe_name
from promptlib.utils.files import write_atomic

# --- reports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    collection: str
    relpath: str
    decided: str | None = None  # a recorded `--keep` while others are still open

    @property
    def name(self) -> str:
        return recipe_name(self.relpath)

    @property
    def id(self) -> str:
        return f"{self.collection}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"collection": self.collection, "name": self.name, "path": self.relpath,
                "decided": self.decided}


@dataclass
class SyncReport:
    """What one `pull` or `push` did to one collection."""

    collection: str
    url: str
    how: str = ""  # up-to-date | fast-forward | rebase | merge | empty-remote | conflict | …
    committed: list[str] = field(default_factory=list)  # hand edits committed first
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # other files that arrived: wins, usage, …
    incoming: int = 0  # commits the remote brought in (HEAD moved)
    problems: list[str] = field(default_factory=list)  # files in the tree that are not recipes
    conflicts: list[Conflict] = field(default_factory=list)
    pushed: int = 0  # commits sent
    error: PromptlibError | None = None
    review: Any = None  # `push --review`: the review branch published (sync.review.Review)
    in_review: list[str] = field(default_factory=list)  # nothing new: already on these branches
    landed: list[Any] = field(default_factory=list)  # review branches main now holds (Landed)

    @property
    def changed(self) -> bool:
        """Whether any recipe arrived, changed or went."""
        return bool(self.new or self.updated or self.removed)

    def file_counts(self) -> dict[str, int]:
        """The other files that arrived, counted by kind: `wins`, `usage`, `other`."""
        counts = {"wins": 0, "usage": 0, "other": 0}
        for relpath in self.files:
            top = relpath.split("/", 1)[0] if "/" in relpath else ""
            counts[top if top in ("wins", "usage") else "other"] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection, "url": self.url, "how": self.how,
            "committed": self.committed, "new": self.new, "updated": self.updated,
            "removed": self.removed, "files": self.files, "incoming": self.incoming,
            "problems": self.problems,
            "conflicts": [c.to_dict() for c in self.conflicts], "pushed": self.pushed,
            "review": self.review.to_dict() if self.review is not None else None,
            "in_review": self.in_review, "landed": [x.to_dict() for x in self.landed],
            "error": None if self.error is None else {"message": self.error.message,
                                                      "exit_code": self.error.exit_code},
        }


def overall_error(reports: Sequence[SyncReport]) -> PromptlibError | None:
    """The one error a whole pull/push ends with: conflicts first (they need you), then invalid
    input, then other failures, then unreachable remotes (the library keeps working)."""
    conflicts = [c for r in reports for c in r.conflicts]
    if conflicts:
        names = ", ".join(c.id for c in conflicts)
        return ConflictError(f"sync conflict: {names} changed on both sides",
                             hint="run the `promptlib resolve` command shown for each; "
                                  "nothing is lost until you do")
    errors = [r.error for r in reports if r.error is not None]
    for kind in (InvalidError, PromptlibError):
        for error in errors:
            if isinstance(error, kind) and not isinstance(error, RemoteUnreachableError):
                return error
    if errors:
        if len(errors) == 1:
            return errors[0]
        return RemoteUnreachableError(f"{len(errors)} remotes could not be reached",
                                      hint=errors[0].hint)
    return None


# --- state: last sync, conflict decisions ---------------------------------------------------------


def _state_file(name: str) -> Path:
    return config.state_dir() / "sync" / f"{name}.json"


def load_state(name: str) -> dict[str, Any]:
    try:
        data = json.loads(_state_file(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(name: str, state: dict[str, Any]) -> None:
    write_atomic(_state_file(name), json.dumps(state, indent=1).encode("utf-8"))


def record_sync(name: str) -> None:
    state = load_state(name)
    state["last_sync"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    save_state(name, state)


def last_sync(name: str) -> str | None:
    value = load_state(name).get("last_sync")
    return value if isinstance(value, str) else None


def forget(name: str) -> None:
    _state_file(name).unlink(missing_ok=True)
