"""Ranking: the recipes holding every group of a query, else those holding the most of them; the
text score (bm25, name > tags = title > description > variables > template) nudged by use.

The usage boost multiplies the text score by at most `1 + USAGE_CAP`, reached at
`USAGE_SATURATION` renders in the window the caller counted, growing with the log of the count.
So it reorders near-ties only: a recipe whose text score is more than 10% below another's never
overtakes it, however popular. In the fallback, use reorders only recipes whose matched groups
weigh the same.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from promptlib.index import db as index
from promptlib.index.query import Group

USAGE_CAP = 0.10
USAGE_SATURATION = 50
# The columns of index/db.py by the weight a word found there carries (index.WEIGHTS).
_FIELD_WEIGHTS = ((10, "{name}"), (6, "{tags title}"), (3, "{description}"), (2, "{variables}"),
                  (1, "{template}"))
_EXTRA = 10  # rows fetched beyond the page, for use to reorder (more when that is not enough)


def usage_boost(renders: int) -> float:
    """The fraction the text score grows by for this many recent renders: 0 to USAGE_CAP."""
    if renders <= 0:
        return 0.0
    return USAGE_CAP * min(1.0, math.log1p(renders) / math.log1p(USAGE_SATURATION))


class Ranked(NamedTuple):
    rowid: int
    text: float  # bm25 text score, higher is better
    matched: int  # how many of the query's groups the recipe holds
    weight: float  # their best field weights added up (the fallback's first key; else 0)
    key: str  # collection/name, what usage is counted by
    renders: int

    @property
    def boost(self) -> float:
        return usage_boost(self.renders)

    @property
    def score(self) -> float:
        return self.text * (1 + self.boost)


class Filters(NamedTuple):
    sql: str  # " AND …" over files f
    params: list[Any]


def all_of(conn: sqlite3.Connection, groups: Sequence[Group], filters: Filters, limit: int,
           uses: Mapping[str, int]) -> list[Ranked]:
    """The best `limit` recipes holding every group."""
    match = " AND ".join(g.fts() for g in groups)
    weights = ", ".join(map(str, index.WEIGHTS))
    join = " JOIN files f ON f.id = recipes.rowid" if filters.sql else ""
    sql = (f"SELECT recipes.rowid, -bm25(recipes, {weights}) AS score, {len(groups)}, 0 "  # noqa: S608
           f"FROM recipes{join} WHERE recipes MATCH ?{filters.sql} "
           "ORDER BY score DESC, recipes.rowid LIMIT ?")
    return _page(conn, sql, [match, *filters.params], limit, uses)


def most_of(conn: sqlite3.Connection, groups: Sequence[Group], filters: Filters, limit: int,
            uses: Mapping[str, int]) -> list[Ranked]:
    """The best `limit` recipes holding any group, by how many groups they hold weighted by
    where: each group counts the weight of the best field it is found in (name 10 > tags = title
    6 > description 3 > variables 2 > template 1), so `cloud bill` in a name outranks `go` and
    `up` in a template; then by the number of groups, then by text score."""
    each = " UNION ALL ".join(
        f"SELECT rowid, {g}, {weight} FROM recipes WHERE recipes MATCH ?"  # noqa: S608
        for g in range(len(groups)) for weight, _ in _FIELD_WEIGHTS)
    weights = ", ".join(map(str, index.WEIGHTS))
    join = " JOIN files f ON f.id = recipes.rowid" if filters.sql else ""
    sql = (f"WITH hits(id, g, w) AS ({each}), "  # noqa: S608
           "best AS (SELECT id, g, max(w) AS w FROM hits GROUP BY id, g), "
           "counts AS (SELECT id, count(*) AS n, sum(w) AS w FROM best GROUP BY id) "
           f"SELECT recipes.rowid, -bm25(recipes, {weights}) AS score, counts.n, counts.w "
           f"FROM recipes JOIN counts ON counts.id = recipes.rowid{join} "
           f"WHERE recipes MATCH ?{filters.sql} "
           "ORDER BY counts.w DESC, counts.n DESC, score DESC, recipes.rowid LIMIT ?")
    params = [f"{columns} : {g.fts()}" for g in groups for _, columns in _FIELD_WEIGHTS]
    return _page(conn, sql, [*params, any_of(groups), *filters.params], limit, uses)


def any_of(groups: Sequence[Group]) -> str:
    return " OR ".join(g.fts() for g in groups)


def _page(conn: sqlite3.Connection, sql: str, params: list[Any], limit: int,
          uses: Mapping[str, int]) -> list[Ranked]:
    """The first `limit` rows once use has reordered them. Rows come ordered by (groups matched,
    field weight, text score); a row further down can only move up past rows with the same
    groups and weight and a text score at most USAGE_CAP above its own: fetch until the page is
    settled."""
    window = limit + _EXTRA
    while True:
        found = conn.execute(sql, [*params, window]).fetchall()
        keys = _keys(conn, [r[0] for r in found]) if uses else {}
        rows = []
        for rowid, score, matched, weight in found:
            key = keys.get(rowid, "")
            rows.append(Ranked(rowid, score, matched, weight, key, uses.get(key, 0)))
        page = sorted(rows, key=lambda r: (-r.weight, -r.matched, -r.score, r.rowid))[:limit]
        if len(rows) < window or not page or not uses:
            return page
        last, cutoff = rows[-1], page[-1]
        if ((last.weight, last.matched) < (cutoff.weight, cutoff.matched)
                or last.text * (1 + USAGE_CAP) < cutoff.score):
            return page
        window *= 4


def _keys(conn: sqlite3.Connection, rowids: Sequence[int]) -> dict[int, str]:
    marks = ",".join("?" * len(rowids))
    return dict(conn.execute(f"SELECT id, collection || '/' || name FROM files "  # noqa: S608
                             f"WHERE id IN ({marks})", list(rowids)))
