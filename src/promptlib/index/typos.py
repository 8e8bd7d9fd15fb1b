"""Typo correction, for real typos only.

A query word is a candidate only when it is a plain word that matches nothing in the library
and is not a word: not in the library's vocabulary, not in the synonym table, and not in the
small dictionary of common English and operations words shipped beside this module
(`english_words.txt`, `ops_words.txt`). So `ssl` in a library without it is a word nobody
wrote down, not a typo of `sql`. The search then keeps a correction only when it finds more
than the query as typed (see search.py).
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

from promptlib.index.synonyms import Table

# Endings a listed base form may carry: `wants`, `restarted`, `paging`, `cheaper`, `quickly`.
_ENDINGS = ("s", "es", "ed", "d", "ing", "er", "ers", "ly", "ies", "ied")


def dictionary_files() -> tuple[Path, Path]:
    here = Path(__file__)
    return here.with_name("english_words.txt"), here.with_name("ops_words.txt")


@cache
def _read(path: Path) -> frozenset[str]:
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


def is_english(word: str) -> bool:
    """A common English word (not an abbreviation): it means itself, never the start of another."""
    return _listed(word, _read(dictionary_files()[0]))


def in_dictionary(word: str) -> bool:
    english, ops = dictionary_files()
    return _listed(word, _read(ops)) or _listed(word, _read(english))


def _listed(word: str, words: frozenset[str]) -> bool:
    if word in words:
        return True
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            stem = word[: -len(ending)]
            # `stopped` → `stop`, `ties` → `tie`, `replies` → `reply`.
            if (stem in words or (stem[-1:] == stem[-2:-1] and stem[:-1] in words)
                    or (ending in ("ies", "ied") and stem + "y" in words)
                    or (ending in ("ed", "er", "ers", "ing") and stem + "e" in words)):
                return True
    return False


def is_word(conn: sqlite3.Connection, word: str, table: Table) -> bool:
    """Whether `word` (lowercase) is a word people use: never a typo to correct."""
    if table.lookup((word,)) is not None or in_dictionary(word):
        return True
    row = conn.execute("SELECT 1 FROM words_vocab WHERE term = ?", (word,)).fetchone()
    return row is not None


def closest_word(conn: sqlite3.Connection, word: str, table: Table) -> str | None:
    """The library or synonym-table word nearest to `word`: at most one edit away (two for words
    of five letters or more), the more common one first. Candidates share the first letter, so
    the lookup reads one slice of the vocabulary rather than all of it."""
    budget = 1 if len(word) < 5 else 2
    rows = conn.execute("SELECT term, doc FROM words_vocab WHERE term >= ? AND term < ?",
                        (word[0], chr(ord(word[0]) + 1))).fetchall()
    # Words of the synonym table count as seen once: the library's own words win a tie.
    rows += [(key, 0) for key in table.alternatives if key[:1] == word[0] and " " not in key]
    best: tuple[int, int, str] | None = None
    for term, docs in rows:
        if abs(len(term) - len(word)) > budget or term == word or not term.isalpha():
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
