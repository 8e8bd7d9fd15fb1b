"""What a search asks for: the query syntax, and each thing asked for with every way a recipe
may say it.

Syntax: words, "quoted phrases", prefixes `log*`, `tag:incident-response`, `team:sre`. An
argument holding spaces was quoted in the shell, so it is a phrase.

Each word (or run of words the synonym table knows, like `out of memory`) becomes one `Group`:
the words as typed, their compound forms (`post-mortem` → `postmortem`, `OOMKilled` → `oom
killed`), their synonyms, and, for a short word that no recipe holds, is no English word and
has no synonyms, the word as a prefix (`infra` → `infrastructure`; a word with a digit, like
`k8s`, never is one).
A recipe matches a group when it holds any of those; a search wants every group. A recipe
holding the typed word itself matches several of the group's phrases at once, so bm25 ranks it
above one that holds only a synonym or a longer word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from promptlib.index import terms, typos
from promptlib.index.synonyms import MAX_WORDS, Table, normalize

_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w", re.UNICODE)
PREFIX_MIN, PREFIX_MAX = 3, 5  # `cert`, `infra`, `repro`: short words people cut off
MAX_PHRASES = 32  # per group: a collection's table cannot blow a query up


class Term(NamedTuple):
    text: str
    kind: str  # "word", "prefix" or "phrase"

    def fts(self) -> str:
        return phrase(self.text) + ("*" if self.kind == "prefix" else "")

    def __str__(self) -> str:
        if self.kind == "phrase":
            return f'"{self.text}"'
        return self.text + ("*" if self.kind == "prefix" else "")


class Query(NamedTuple):
    terms: list[Term]
    tags: list[str]
    teams: list[str]


def phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def parse_query(args: Sequence[str]) -> Query:
    found: list[Term] = []
    tags: list[str] = []
    teams: list[str] = []
    for arg in args:
        if '"' not in arg and len(arg.split()) > 1:
            found.append(Term(" ".join(arg.split()), "phrase"))
            continue
        for match in _TOKEN.finditer(arg):
            quoted, token = match.groups()
            if quoted is not None:
                found.append(Term(" ".join(quoted.split()), "phrase"))
            elif token.startswith("tag:") and len(token) > 4:
                tags.append(token[4:])
            elif token.startswith("team:") and len(token) > 5:
                teams.append(token[5:])
            elif token.endswith("*"):
                found.append(Term(token.rstrip("*"), "prefix"))
            else:
                found.append(Term(token, "word"))
    # A term with no letter or digit in it matches nothing and would only confuse FTS5.
    return Query([t for t in found if _WORD.search(t.text)], tags, teams)


class Group(NamedTuple):
    """One thing asked for, and the phrases any of which a recipe may hold for it."""

    typed: str
    phrases: tuple[str, ...]  # word sequences, words separated by one space
    prefix: bool = False  # the typed word also matches as the start of a longer one
    optional: bool = False  # a stopword: not needed for a match, unless nothing else is asked
    own: int = 1  # how many of `phrases` (the first ones) are the words as typed and their forms

    def fts(self, *, own: bool = False) -> str:
        """This group as an FTS5 expression; `own`: without the synonyms."""
        alternatives = [phrase(p) for p in self.phrases[:self.own] if own] or [
            phrase(p) for p in self.phrases]
        if self.prefix:
            alternatives.append(phrase(self.phrases[0]) + "*")
        return "(" + " OR ".join(alternatives) + ")"


def plan(found: Sequence[Term], table: Table,
         held: Callable[[str], bool] = lambda _word: False) -> list[Group]:
    """The groups of a query, in order: runs of words the table knows become one group.
    `held(word)`: whether some recipe holds the word itself (then it is no cut-off prefix)."""
    groups: list[Group] = []
    i = 0
    while i < len(found):
        term = found[i]
        if term.kind != "word":
            groups.append(Group(str(term), (term.text.lower(),), prefix=term.kind == "prefix"))
            i += 1
            continue
        run = 1
        while i + run < len(found) and found[i + run].kind == "word" and run < MAX_WORDS:
            run += 1
        n, alternatives = _longest_known(found[i:i + run], table)
        groups.append(word_group(" ".join(t.text for t in found[i:i + n]), alternatives, held))
        i += n
    return groups


def _longest_known(run: Sequence[Term], table: Table) -> tuple[int, tuple[str, ...]]:
    for n in range(len(run), 1, -1):
        words = tuple(normalize(" ".join(t.text for t in run[:n])).split())
        if 0 < len(words) <= MAX_WORDS:
            found = table.lookup(words)
            if found is not None:
                return n, found
    word = run[0].text
    for form in [tuple(normalize(word).split()), *terms.forms(word)]:
        found = table.lookup(form) if form else None
        if found is not None:
            return 1, found
    return 1, ()


def word_group(typed: str, alternatives: Sequence[str] = (),
               held: Callable[[str], bool] = lambda _word: False) -> Group:
    """The group for words as typed (one word, or a run the table knows) and their synonyms."""
    own = normalize(typed)
    phrases = [own] if own else []
    if " " not in typed:
        phrases += [" ".join(form) for form in terms.forms(typed)]
    typed_forms = len(dict.fromkeys(p for p in phrases if p))
    phrases += alternatives
    unique = tuple(dict.fromkeys(p for p in phrases if p))[:MAX_PHRASES]
    single = " " not in typed and own == typed.lower()
    return Group(typed, unique or (typed.lower(),),
                 prefix=(single and typed.isalpha() and not alternatives and _cut_short(own)
                         and not held(own)),
                 optional=single and own in terms.STOPWORDS and not alternatives,
                 own=max(1, typed_forms))


def _cut_short(word: str) -> bool:
    """Whether a plain word with no synonyms may be the start of a longer one (`infra`,
    `perf`): short, and not an English word in its own right (`tell`, `rate`, `mean`). The
    caller also asks whether any recipe holds the word itself: `logs` is no cut-off word."""
    return (PREFIX_MIN <= len(word) <= PREFIX_MAX and word not in terms.STOPWORDS
            and not typos.is_english(word))


def required(groups: Sequence[Group]) -> list[Group]:
    """The groups a recipe must match: all but the stopwords, unless there is nothing else."""
    return [g for g in groups if not g.optional] or list(groups)


def as_words(found: Sequence[Term]) -> list[Term]:
    """The query with each phrase taken word by word: the retry for a quoted phrase that no
    recipe holds as it stands."""
    out: list[Term] = []
    for term in found:
        if term.kind == "phrase" and " " in term.text:
            out += [Term(w, "word") for w in term.text.split()]
        else:
            out.append(term)
    return out
