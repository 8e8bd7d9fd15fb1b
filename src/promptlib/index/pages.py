"""Every recipe, a page at a time, with its variables: what `promptlib mcp` lists, from the index.

An MCP client lists the whole library when it connects (10,000 recipes are 100 pages), so a page
must cost a couple of milliseconds: it is one keyset query over `files`, which holds each
recipe's variables as JSON (`index.build.parse`), so no YAML is parsed. Keyset, not offset: a
recipe added between two pages neither repeats nor hides another one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from promptlib.index import db as index

#: The sort key of the last recipe of a page: (name, collection).
After = tuple[str, str]


class Listed(NamedTuple):
    """One valid recipe as the index holds it."""

    collection: str
    relpath: str
    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    variables: tuple[dict[str, Any], ...]  # Variable.to_dict() plus "name", in display order
    copies: int  # how many collections hold a recipe of this name

    @property
    def id(self) -> str:
        return f"{self.collection}/{self.name}"


_COLUMNS = ("f.collection, f.relpath, f.name, f.title, f.description, f.tags, f.variables, "
            "(SELECT count(*) FROM files g WHERE g.name = f.name AND g.problem IS NULL)")


@contextlib.contextmanager
def opened(*, sweep: bool = True) -> Iterator[index.Index]:
    """The index, brought up to date with the disk first (`index.fresh`), closed afterwards."""
    idx = index.fresh(sweep=sweep)
    try:
        yield idx
    finally:
        idx.close()


def page(after: After | None, limit: int, idx: index.Index) -> list[Listed]:
    """Up to `limit` recipes after `after`, by name then collection."""
    where, params = "", []
    if after is not None:
        where, params = " AND (f.name, f.collection) > (?, ?)", list(after)
    rows = idx.conn.execute(
        f"SELECT {_COLUMNS} FROM files f WHERE f.problem IS NULL{where} "  # noqa: S608
        "ORDER BY f.name, f.collection LIMIT ?", [*params, limit])
    return [_listed(row) for row in rows]


def named(name: str, idx: index.Index, collection: str | None = None) -> list[Listed]:
    """The valid recipes called `name` (in `collection` only, when given)."""
    sql = f"SELECT {_COLUMNS} FROM files f WHERE f.problem IS NULL AND f.name = ?"  # noqa: S608
    params = [name]
    if collection is not None:
        sql += " AND f.collection = ?"
        params.append(collection)
    return [_listed(row) for row in idx.conn.execute(sql + " ORDER BY f.collection", params)]


def close_names(name: str, idx: index.Index, n: int = 5) -> list[str]:
    """Recipe names that look like `name`, for "did you mean"."""
    import difflib  # noqa: PLC0415  (start-up: only the error path loads it)

    names = [r[0] for r in idx.conn.execute(
        "SELECT DISTINCT name FROM files WHERE problem IS NULL")]
    return difflib.get_close_matches(name, names, n=n, cutoff=0.6)


def signature(idx: index.Index) -> tuple[int, int, int]:
    """Changes whenever the index re-indexes any recipe: rows are replaced, never updated."""
    row = idx.conn.execute("SELECT count(*), coalesce(max(id), 0), total(id) FROM files").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _listed(row: Sequence[Any]) -> Listed:
    collection, relpath, name, title, description, tag_text, variables, copies = row
    return Listed(collection, relpath, name, title, description, tuple(tag_text.split()),
                  tuple(json.loads(variables or "[]")), int(copies))
