"""What the core has to tell the user that is neither data nor an error — "log-triage: using
local/log-triage (copies of the same recipe are in sre/log-triage)".

Below `cli/` nothing prints (docs/architecture.md), and a note can come from deep inside a call
(a recipe lookup inside `render`, `share`, `win`…) where threading a callback through every
caller would touch them all. So the core `tell`s, and the command line, the only layer that
prints, listens for the length of a command and shows each note on stderr as it comes. With
nobody listening (the core called directly, the MCP server) a note goes nowhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

_listeners: list[Callable[[str], None]] = []


def tell(message: str) -> None:
    if _listeners:
        _listeners[-1](message)


@contextlib.contextmanager
def listening(listener: Callable[[str], None]) -> Iterator[None]:
    """Send the notes told while inside to `listener` (the innermost listener gets them)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.pop()
