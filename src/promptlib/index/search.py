"""Ranked search over every collection, answered from the index (index/db.py).

Query syntax: words (all must match; `logs` also finds `log` and `logging`), "quoted phrases",
prefixes `log*`, `tag:incident-response`, `team:sre`. An argument holding spaces was quoted in
the shell, so it is a phrase. Ranking is bm25 weighted name > tags = title > description >
variables > template. A query that finds nothing is tried once more with each unknown word
replaced by the closest word in the library, and says so in `note`.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from promptlib.errors import NotFoundError, RecipeError
from promptlib.index import db as index
from promptlib.index.fresh import Progress

T = TypeVar("T")
MARK_START, MARK_END = "\x02", "\x03"  # around the matched words in Hit.marked
SNIPPET_TOKENS = 12
_SNIPPET_COLUMNS = (3, 5, 4)  # description, template, variables (index/db.py's column order)
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w", re.UNICODE)
_PLAIN_WORD = re.compile(r"\w+", re.UNICODE)
_CORRUPT = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


class Term(NamedTuple):
    text: str
    kind: str  # "word", "prefix" or "phrase"

    def fts(self) -> str:
        quoted = '"' + self.text.replace('"', '""') + '"'
        return quoted + "*" if self.kind == "prefix" else quoted

    def __str__(self) -> str:
        if self.kind == "phrase":
            return f'"{self.text}"'
        return self.text + ("*" if self.kind == "prefix" else "")


class Query(NamedTuple):
    terms: list[Term]
    tags: list[str]
    teams: list[str]


class Hit(NamedTuple):
    id: str
    collection: str
    name: str
    title: str
    tags: tuple[str, ...]
    score: float
    relpath: str
    marked: str  # the snippet, matched words between MARK_START and MARK_END

    @property
    def snippet(self) -> str:
        return self.marked.replace(MARK_START, "").replace(MARK_END, "")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "collection": self.collection, "name": self.name,
                "title": self.title, "tags": list(self.tags), "score": round(self.score, 3),
                "snippet": self.snippet}


class Results(NamedTuple):
    hits: list[Hit]
    problems: list[RecipeError]
    note: str | None = None


def parse_query(args: Sequence[str]) -> Query:
    terms: list[Term] = []
    tags: list[str] = []
    teams: list[str] = []
    for arg in args:
        if '"' not in arg and len(arg.split()) > 1:
            terms.append(Term(" ".join(arg.split()), "phrase"))
            continue
        for match in _TOKEN.finditer(arg):
            phrase, token = match.groups()
            if phrase is not None:
                terms.append(Term(" ".join(phrase.split()), "phrase"))
            elif token.startswith("tag:") and len(token) > 4:
                tags.append(token[4:])
            elif token.startswith("team:") and len(token) > 5:
                teams.append(token[5:])
            elif token.endswith("*"):
                terms.append(Term(token.rstrip("*"), "prefix"))
            else:
                terms.append(Term(token, "word"))
    # A term with no letter or digit in it matches nothing and would only confuse FTS5.
    return Query([t for t in terms if _WORD.search(t.text)], tags, teams)


class Entry(NamedTuple):
    """One recipe as `list` shows it, straight from the index: no YAML parsed."""

    id: str
    collection: str
    name: str
    title: str
    tags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "collection": self.collection, "name": self.name,
                "title": self.title, "tags": list(self.tags)}


def listing(*, tags: Iterable[str] = (), teams: Iterable[str] = (),
            progress: Progress | None = None) -> tuple[list[Entry], list[RecipeError]]:
    """Every valid recipe (with all the `tags`, in the `teams`), by use case then name; and the
    files that are not valid recipes. `list` over 10,000 recipes reads the index, not YAML."""
    wanted = [t.lower() for t in tags]

    def query(idx: index.Index) -> tuple[list[Entry], list[RecipeError]]:
        colls = _collections(idx, list(teams))
        where, params = _filters(wanted, colls)
        rows = idx.conn.execute(
            "SELECT f.collection, f.name, f.title, f.tags FROM files f "  # noqa: S608
            f"WHERE f.problem IS NULL{where}", params)
        entries = [Entry(f"{c}/{n}", c, n, title, tuple(tag_text.split()))
                   for c, n, title, tag_text in rows]
        entries.sort(key=lambda e: (e.tags[:1], e.name, e.collection))
        return entries, _problems(idx.conn, colls)

    return _with_index(query, progress)


def tag_counts(*, teams: Iterable[str] = (), progress: Progress | None = None
               ) -> tuple[list[tuple[str, int]], list[RecipeError]]:
    """Each tag with how many valid recipes carry it, most first; and the invalid files."""

    def query(idx: index.Index) -> tuple[list[tuple[str, int]], list[RecipeError]]:
        colls = _collections(idx, list(teams))
        rows = idx.conn.execute(
            "SELECT t.tag, count(*) AS n FROM tags t JOIN files f ON f.id = t.file_id "  # noqa: S608
            f"WHERE f.problem IS NULL AND f.collection IN ({','.join('?' * len(colls))}) "
            "GROUP BY t.tag ORDER BY n DESC, t.tag", colls)
        return [(tag, n) for tag, n in rows], _problems(idx.conn, colls)

    return _with_index(query, progress)


def _with_index(query: Callable[[index.Index], T], progress: Progress | None) -> T:
    """Run `query` on the fresh index; one found corrupt only now is built again, once."""
    try:
        return _on_fresh_index(query, progress)
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _CORRUPT:
            raise
    index.discard()
    return _on_fresh_index(query, progress)


def _on_fresh_index(query: Callable[[index.Index], T], progress: Progress | None) -> T:
    idx = index.fresh(progress)
    try:
        return query(idx)
    finally:
        idx.close()


def search(query: Sequence[str], *, tags: Iterable[str] = (), teams: Iterable[str] = (),
           limit: int = 20, progress: Progress | None = None) -> Results:
    parsed = _full_query(query, tags, teams)
    return _with_index(lambda idx: _search(idx, parsed, limit), progress)


def _full_query(query: Sequence[str], tags: Iterable[str], teams: Iterable[str]) -> Query:
    parsed = parse_query(query)
    # Tags are lowercase slugs by rule, so a filter in any case means the same tag.
    return Query(parsed.terms, [t.lower() for t in [*tags, *parsed.tags]],
                 [*teams, *parsed.teams])


Searcher = Callable[[Sequence[str], int], list[Hit]]


@contextlib.contextmanager
def session(progress: Progress | None = None) -> Iterator[Searcher]:
    """Many searches on one index, brought up to date once: `pick` asks one per keystroke, and
    checking the disk for each would cost it the sweep every time. Yields `find(words, limit)`,
    ranked as `search` ranks; an unknown `team:` finds nothing rather than failing mid-typing."""
    idx = index.fresh(progress)

    def find(words: Sequence[str], limit: int) -> list[Hit]:
        try:
            return _search(idx, _full_query(words, (), ()), limit).hits
        except NotFoundError:
            return []

    try:
        yield find
    finally:
        idx.close()


def _search(idx: index.Index, query: Query, limit: int) -> Results:
    colls = _collections(idx, query.teams)
    only = colls if query.teams else None
    hits = _hits(idx.conn, query.terms, query.tags, only, limit)
    if index.recheck(idx, [(h.collection, h.relpath) for h in hits]):
        hits = _hits(idx.conn, query.terms, query.tags, only, limit)
    note = None
    if not hits and query.terms:
        corrected = _correct(idx.conn, query.terms)
        if corrected is not None:
            hits = _hits(idx.conn, corrected, query.tags, only, limit)
            if hits:
                note = "showing results for " + " ".join(map(str, corrected))
    return Results(hits, _problems(idx.conn, colls), note)


def _collections(idx: index.Index, teams: Sequence[str]) -> list[str]:
    """The collections to search: all of them, or the named ones (unknown names fail)."""
    if not teams:
        return idx.collections
    for name in teams:
        if name not in idx.collections:
            from promptlib.store import collections as store  # noqa: PLC0415  (start-up: only this path loads it)

            store.collection(name)  # raises the usual error: invalid name, or not found
            raise NotFoundError(f"no collection named {name!r}")
    return list(dict.fromkeys(teams))


def _filters(tags: Sequence[str], colls: Sequence[str] | None) -> tuple[str, list[Any]]:
    sql, params = "", []
    if colls is not None:
        sql += f" AND f.collection IN ({','.join('?' * len(colls))})"
        params += list(colls)
    for tag in dict.fromkeys(tags):
        sql += " AND f.id IN (SELECT file_id FROM tags WHERE tag = ?)"
        params.append(tag)
    return sql, params


def _hits(conn: sqlite3.Connection, terms: Sequence[Term], tags: Sequence[str],
          colls: Sequence[str] | None, limit: int) -> list[Hit]:
    """The best `limit` hits, from every collection or only from `colls`."""
    where, params = _filters(tags, colls)
    if not terms:
        sql = ("SELECT f.collection, f.name, f.title, f.tags, 0.0, f.relpath, "  # noqa: S608
               f"f.description FROM files f WHERE f.problem IS NULL{where} "
               "ORDER BY f.name, f.collection LIMIT ?")
        rows = conn.execute(sql, [*params, limit])
        return [Hit(f"{c}/{n}", c, n, title, tuple(tag_text.split()), score, relpath,
                    _clean(text)) for c, n, title, tag_text, score, relpath, text in rows]
    match = " ".join(t.fts() for t in terms)
    weights = ", ".join(map(str, index.WEIGHTS))
    # Rank first, then build snippets for the few rows shown: SQLite would otherwise compute a
    # snippet for every row that matches, thousands of them in a big library.
    join = " JOIN files f ON f.id = recipes.rowid" if where else ""
    sql = (f"SELECT recipes.rowid, -bm25(recipes, {weights}) AS score "  # noqa: S608
           f"FROM recipes{join} WHERE recipes MATCH ?{where} "
           "ORDER BY score DESC, recipes.rowid LIMIT ?")
    ranked = conn.execute(sql, [match, *params, limit]).fetchall()
    return [_hit(conn, match, rowid, score) for rowid, score in ranked]


def _hit(conn: sqlite3.Connection, match: str, rowid: int, score: float) -> Hit:
    # The snippet comes from the text that explains the match best: the description, else the
    # template, else the variables; a match in the name, title or tags alone (already on the
    # hit's line) shows the description's start.
    snippets = ", ".join(f"snippet(recipes, {col}, char(2), char(3), '…', {SNIPPET_TOKENS})"
                         for col in _SNIPPET_COLUMNS)
    sql = ("SELECT f.collection, f.name, f.title, f.tags, f.relpath, f.description, "  # noqa: S608
           f"{snippets} FROM recipes JOIN files f ON f.id = recipes.rowid "
           "WHERE recipes MATCH ? AND recipes.rowid = ?")
    c, n, title, tag_text, relpath, description, *marked = conn.execute(
        sql, (match, rowid)).fetchone()
    text = next((m for m in marked if MARK_START in m), description)
    return Hit(f"{c}/{n}", c, n, title, tuple(tag_text.split()), score, relpath, _clean(text))


def _clean(text: str, width: int = 120) -> str:
    """One line, cut at a word to about `width` characters: snippets span template lines."""
    line = " ".join(text.split())
    if len(line) <= width:
        return line
    return line[:width].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def _problems(conn: sqlite3.Connection, colls: Sequence[str]) -> list[RecipeError]:
    rows = conn.execute(
        f"SELECT problem FROM files WHERE problem IS NOT NULL "  # noqa: S608
        f"AND collection IN ({','.join('?' * len(colls))}) ORDER BY collection, relpath",
        list(colls))
    return [index.problem_error(r[0]) for r in rows]


# --- typo tolerance -------------------------------------------------------------------------------


def _correct(conn: sqlite3.Connection, terms: Sequence[Term]) -> list[Term] | None:
    """Each plain word that matches nothing, swapped for the closest word in the library."""
    out, changed = [], False
    for term in terms:
        if term.kind == "word" and _PLAIN_WORD.fullmatch(term.text) and not _matches(conn, term):
            close = closest_word(conn, term.text.lower())
            if close:
                out.append(Term(close, "word"))
                changed = True
                continue
        out.append(term)
    return out if changed else None


def _matches(conn: sqlite3.Connection, term: Term) -> bool:
    row = conn.execute("SELECT 1 FROM recipes WHERE recipes MATCH ? LIMIT 1", (term.fts(),))
    return row.fetchone() is not None


def closest_word(conn: sqlite3.Connection, word: str) -> str | None:
    """The library word nearest to `word`: at most one edit away (two for words of five letters
    or more), the more common one first. Candidates share the first letter, so the lookup reads
    one slice of the vocabulary rather than all of it."""
    budget = 1 if len(word) < 5 else 2
    rows = conn.execute("SELECT term, doc FROM words_vocab WHERE term >= ? AND term < ?",
                        (word[0], chr(ord(word[0]) + 1)))
    best: tuple[int, int, str] | None = None
    for term, docs in rows:
        if abs(len(term) - len(word)) > budget or term == word:
            continue
        distance = edit_distance(word, term, budget)
        if distance <= budget and (best is None or (distance, -docs, term) < best):
            best = (distance, -docs, term)
    return best[2] if best else None


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count once), or limit + 1 once over it."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
