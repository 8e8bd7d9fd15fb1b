"""Ranked search over every collection, answered from the index (index/db.py).

What is matched (query.py): each word as typed, its compound forms, its synonyms (synonyms.py)
and, for a short word, longer words it starts; stopwords are not needed. Recipes holding every
word come first; when none does, the recipes holding the most of them (`Results.note` says so).
Ranking is bm25 weighted name > tags = title > description > variables > template, nudged by
how often the team renders each recipe (ranking.py). A word that matches nothing and is not a
word (typos.py) is corrected to the closest library word, but only when that finds more than
the query as typed.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from promptlib.errors import NotFoundError, RecipeError
from promptlib.index import db as index
from promptlib.index import ranking, synonyms, typos
from promptlib.index.fresh import Progress
from promptlib.index.query import (
    Group,
    Query,
    Term,
    as_words,
    parse_query,
    phrase,
    plan,
    required,
)
from promptlib.index.ranking import Filters, Ranked

__all__ = ["MARK_END", "MARK_START", "Entry", "Hit", "Results", "Term", "listing", "parse_query",
           "search", "tag_counts"]

T = TypeVar("T")
MARK_START, MARK_END = "\x02", "\x03"  # around the matched words in Hit.marked
SNIPPET_TOKENS = 12
_SNIPPET_COLUMNS = (3, 5, 4)  # description, template, variables (index/db.py's column order)
_COLUMNS = "f.collection, f.name, f.title, f.tags, f.relpath, f.description"
_SNIPPETS = ", ".join(f"snippet(recipes, {col}, char(2), char(3), '…', {SNIPPET_TOKENS})"
                      for col in _SNIPPET_COLUMNS)
_CORRUPT = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


class Hit(NamedTuple):
    id: str
    collection: str
    name: str
    title: str
    tags: tuple[str, ...]
    score: float
    relpath: str
    marked: str  # the snippet, matched words between MARK_START and MARK_END
    text_score: float = 0.0
    usage_boost: float = 0.0  # the fraction use added to the text score
    renders: int = 0  # recent renders counted for that boost
    words_matched: int = 0
    words: int = 0
    fields: Mapping[str, tuple[str, ...]] | None = None  # field -> words matched (explain only)

    @property
    def snippet(self) -> str:
        return self.marked.replace(MARK_START, "").replace(MARK_END, "")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "collection": self.collection, "name": self.name,
            "title": self.title, "tags": list(self.tags), "score": round(self.score, 3),
            "snippet": self.snippet,
            "score_parts": {"text": round(self.text_score, 3),
                            "usage_boost": round(self.usage_boost, 4),
                            "recent_renders": self.renders,
                            "words_matched": self.words_matched, "words": self.words}}
        if self.fields is not None:
            data["matched"] = {field: list(words) for field, words in self.fields.items()}
        return data


class Results(NamedTuple):
    hits: list[Hit]
    problems: list[RecipeError]
    notes: tuple[str, ...] = ()

    @property
    def note(self) -> str | None:
        return "; ".join(self.notes) or None


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
        where = _filters(wanted, colls)
        rows = idx.conn.execute(
            "SELECT f.collection, f.name, f.title, f.tags FROM files f "  # noqa: S608
            f"WHERE f.problem IS NULL{where.sql}", where.params)
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
           limit: int = 20, progress: Progress | None = None,
           uses: Mapping[str, int] | None = None, explain: bool = False) -> Results:
    """The best `limit` recipes for `query`. `uses` maps `collection/name` to the recipe's
    recent renders (the caller counts them; see metrics/popularity.py); `explain` adds which
    words each hit matched in which field."""
    parsed = _full_query(query, tags, teams)
    return _with_index(lambda idx: _Search(idx, parsed, limit, uses or {}, explain).run(),
                       progress)


def _full_query(query: Sequence[str], tags: Iterable[str], teams: Iterable[str]) -> Query:
    parsed = parse_query(query)
    # Tags are lowercase slugs by rule, so a filter in any case means the same tag.
    return Query(parsed.terms, [t.lower() for t in [*tags, *parsed.tags]],
                 [*teams, *parsed.teams])


Searcher = Callable[[Sequence[str], int], list[Hit]]


@contextlib.contextmanager
def session(progress: Progress | None = None,
            uses: Mapping[str, int] | None = None) -> Iterator[Searcher]:
    """Many searches on one index, brought up to date once: `pick` asks one per keystroke, and
    checking the disk for each would cost it the sweep every time. Yields `find(words, limit)`,
    ranked as `search` ranks; an unknown `team:` finds nothing rather than failing mid-typing."""
    idx = index.fresh(progress)

    def find(words: Sequence[str], limit: int) -> list[Hit]:
        try:
            return _Search(idx, _full_query(words, (), ()), limit, uses or {}, False).run().hits
        except NotFoundError:
            return []

    try:
        yield find
    finally:
        idx.close()


class _Outcome(NamedTuple):
    ranked: list[Ranked]
    groups: list[Group]  # the groups that had to match
    complete: bool  # every hit holds every group

    @property
    def best(self) -> int:
        """How many groups the best hit holds (0: no hit)."""
        return self.ranked[0].matched if self.ranked else 0


class _Search:
    def __init__(self, idx: index.Index, query: Query, limit: int, uses: Mapping[str, int],
                 explain: bool) -> None:
        self.idx, self.conn, self.query = idx, idx.conn, query
        self.limit, self.uses, self.explain = limit, uses, explain
        colls = _collections(idx, query.teams)
        self.colls = colls
        self.filters = _filters(query.tags, colls if query.teams else None)
        self.table = synonyms.load(idx.roots)
        self._matched: dict[str, bool] = {}

    def run(self) -> Results:
        outcome, notes = self._best()
        hits = self._hits(outcome)
        if index.recheck(self.idx, [(h.collection, h.relpath) for h in hits]):
            outcome, notes = self._best()
            hits = self._hits(outcome)
        problems = [*self.table.problems, *_problems(self.conn, self.colls)]
        return Results(hits, problems, tuple(notes))

    def _best(self) -> tuple[_Outcome, list[str]]:
        """The outcome to show, and the notes that say how it was found."""
        terms = self.query.terms
        if not terms:
            return _Outcome(self._by_name(), [], True), []
        outcome = self._rank(terms)
        if not (outcome.complete and outcome.ranked) and any(
                t.kind == "phrase" and " " in t.text for t in terms):
            words = self._rank(as_words(terms))
            if words.best > outcome.best or (words.complete and words.ranked):
                outcome, terms = words, as_words(terms)
        notes: list[str] = []
        if not outcome.complete or not outcome.ranked:
            corrected = self._corrected(terms)
            if corrected is not None:
                better = self._rank(corrected)
                if better.ranked and (better.complete or better.best > outcome.best):
                    outcome = better
                    notes.append("showing results for " + " ".join(map(str, corrected)))
        if outcome.ranked and not outcome.complete:
            asked = ", ".join(g.typed for g in outcome.groups)
            notes.append(f"no recipe has all of {asked}; showing recipes with most of them")
        return outcome, notes

    def _rank(self, terms: Sequence[Term]) -> _Outcome:
        groups = required(plan(terms, self.table, self._held))
        found = ranking.all_of(self.conn, groups, self.filters, self.limit, self.uses)
        if found or len(groups) < 2:
            return _Outcome(found, groups, True)
        found = ranking.most_of(self.conn, groups, self.filters, self.limit, self.uses)
        return _Outcome(found, groups, False)

    def _by_name(self) -> list[Ranked]:
        rows = self.conn.execute(
            "SELECT f.id, f.collection || '/' || f.name FROM files f "  # noqa: S608
            f"WHERE f.problem IS NULL{self.filters.sql} ORDER BY f.name, f.collection LIMIT ?",
            [*self.filters.params, self.limit])
        return [Ranked(rowid, 0.0, 0, 0.0, key, 0) for rowid, key in rows]

    def _corrected(self, terms: Sequence[Term]) -> list[Term] | None:
        """Each plain word that matches nothing and is no word, swapped for the closest word
        in the library or the synonym table; None when there is nothing to correct."""
        out, changed = [], False
        for term in terms:
            word = term.text.lower()
            if (term.kind == "word" and term.text.isalpha() and len(word) >= 3
                    and not self._matches(word) and not typos.is_word(self.conn, word, self.table)):
                close = typos.closest_word(self.conn, word, self.table)
                if close:
                    out.append(Term(close, "word"))
                    changed = True
                    continue
            out.append(term)
        return out if changed else None

    def _matches(self, word: str) -> bool:
        """Whether any recipe holds the word or one of its forms, synonyms or longer words."""
        return self._any(plan([Term(word, "word")], self.table, self._held)[0].fts())

    def _held(self, word: str) -> bool:
        """Whether any recipe holds the word itself (stemmed: `logs` holds for `log`)."""
        return self._any(phrase(word))

    def _any(self, match: str) -> bool:
        found = self._matched.get(match)
        if found is None:
            row = self.conn.execute("SELECT 1 FROM recipes WHERE recipes MATCH ? LIMIT 1",
                                    (match,)).fetchone()
            found = self._matched[match] = row is not None
        return found

    def _hits(self, outcome: _Outcome) -> list[Hit]:
        if not outcome.groups:
            return [self._hit(r, None, (), 0) for r in outcome.ranked]
        joiner = " AND " if outcome.complete else " OR "
        match = joiner.join(g.fts() for g in outcome.groups)
        # The snippet shows the words as typed where the recipe has them all, else any match.
        snippet_matches = tuple(dict.fromkeys(
            (joiner.join(g.fts(own=True) for g in outcome.groups), match)))
        return [self._hit(r, match, snippet_matches, len(outcome.groups))
                for r in outcome.ranked]

    def _hit(self, ranked: Ranked, match: str | None, snippet_matches: Sequence[str],
             words: int) -> Hit:
        # The snippet comes from the text that explains the match best: the description, else
        # the template, else the variables; a match in the name, title or tags alone (already on
        # the hit's line) shows the description's start.
        row = None
        for snippet_match in snippet_matches if match is not None else ():
            row = self.conn.execute(
                f"SELECT {_COLUMNS}, {_SNIPPETS} FROM recipes "  # noqa: S608
                "JOIN files f ON f.id = recipes.rowid WHERE recipes MATCH ? AND recipes.rowid = ?",
                (snippet_match, ranked.rowid)).fetchone()
            if row is not None:  # the recipe holds the words as typed, else only synonyms
                break
        if row is None:
            row = self.conn.execute(f"SELECT {_COLUMNS} FROM files f WHERE f.id = ?",  # noqa: S608
                                    (ranked.rowid,)).fetchone()
        text = next((m for m in row[6:] if MARK_START in m), None)
        c, n, title, tag_text, relpath, description = row[:6]
        fields = None
        if self.explain and match is not None:
            from promptlib.index.explain import matched_fields  # noqa: PLC0415  (--explain only)

            fields = matched_fields(self.conn, match, ranked.rowid)
        renders = ranked.renders or self.uses.get(f"{c}/{n}", 0)
        return Hit(f"{c}/{n}", c, n, title, tuple(tag_text.split()), ranked.score, relpath,
                   _clean(text or description), ranked.text, ranked.boost, renders,
                   ranked.matched, words, fields)


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


def _filters(tags: Sequence[str], colls: Sequence[str] | None) -> Filters:
    sql, params = "", []
    if colls is not None:
        sql += f" AND f.collection IN ({','.join('?' * len(colls))})"
        params += list(colls)
    for tag in dict.fromkeys(tags):
        sql += " AND f.id IN (SELECT file_id FROM tags WHERE tag = ?)"
        params.append(tag)
    return Filters(sql, params)


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

