"""`search --explain`: which words of a recipe matched, field by field.

FTS5's `highlight()` marks, in one column, every token the query matched; one call per field
for one recipe costs well under a millisecond, so this runs only for the hits shown, and only
when asked for.
"""

from __future__ import annotations

import re
import sqlite3

FIELDS = ("name", "tags", "title", "description", "variables", "template")  # db.py's columns
_OPEN, _CLOSE = "\x02", "\x03"
_MARKED = re.compile(f"{_OPEN}(.*?){_CLOSE}", re.DOTALL)
MAX_WORDS_SHOWN = 6


def matched_fields(conn: sqlite3.Connection, match: str, rowid: int) -> dict[str, tuple[str, ...]]:
    """Field -> the distinct words matched there (as written in the recipe, lowercased), for
    the fields that matched at all, in column order."""
    calls = ", ".join(f"highlight(recipes, {i}, char(2), char(3))" for i in range(len(FIELDS)))
    row = conn.execute(f"SELECT {calls} FROM recipes WHERE recipes MATCH ? "  # noqa: S608
                       "AND rowid = ?", (match, rowid)).fetchone()
    out: dict[str, tuple[str, ...]] = {}
    for field, text in zip(FIELDS, row or (), strict=False):
        words = tuple(dict.fromkeys(" ".join(m.lower().split())
                                    for m in _MARKED.findall(text or "")))
        if words:
            out[field] = words[:MAX_WORDS_SHOWN]
    return out
