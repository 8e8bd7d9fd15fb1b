"""The synonym table: ops words and abbreviations people type for the same thing.

Two sources, in the same YAML format (see `synonyms.yaml` beside this module, the reviewed table
that ships with promptlib): that file, and each collection's own committed
`.promptlib/synonyms.yaml`, read only when present. Both are applied at query time, so editing
either never rebuilds the index.

Search must not pay for YAML (importing PyYAML alone costs ~25 ms, a third of the search budget),
so the merged table is kept as JSON in the cache folder with the size, mtime and inode of every
file it came from; a search reads that (well under a millisecond) and parses YAML again only
when one of the files changed, appeared or went away. A collection's file is untrusted input
(it may come from a pull): bounded in size and shape, and a file that breaks a rule is skipped
with a problem naming its file and line, never a crash.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from promptlib import paths
from promptlib.errors import RecipeError
from promptlib.utils.files import read_nofollow, write_atomic

CACHE_VERSION = 1
MAX_FILE_BYTES = 256 * 1024
MAX_ENTRIES = 5_000  # lines of `same` plus keys of `also`, per file
MAX_TERMS = 40  # words or phrases on one line
MAX_WORDS = 4  # words in one phrase
MAX_TERM_CHARS = 60
_SPLIT = re.compile(r"[\W_]+")

Sig = tuple[int, int, int]


class Table(NamedTuple):
    """word or phrase (its words joined by one space) -> the other words and phrases it finds."""

    alternatives: Mapping[str, tuple[str, ...]]
    problems: tuple[RecipeError, ...]

    def lookup(self, words: tuple[str, ...]) -> tuple[str, ...] | None:
        """The alternatives of a word sequence, also for a plural of the last word."""
        key = " ".join(words)
        found = self.alternatives.get(key)
        if found is None and len(words[-1]) > 3 and key.endswith("s") and not key.endswith("ss"):
            found = self.alternatives.get(key[:-1])
        return found

    @property
    def longest(self) -> int:
        return MAX_WORDS


def normalize(term: str) -> str:
    """`On-Call` → `on call`: the form every entry and every query phrase is compared in."""
    return " ".join(w for w in _SPLIT.split(term.lower()) if w)


def package_file() -> Path:
    return Path(__file__).with_name("synonyms.yaml")


def load(roots: Mapping[str, Path]) -> Table:
    """The merged table for these collections: from the cache when no file changed."""
    sources = [("promptlib", package_file()),
               *((name, root / paths.COLLECTION_SYNONYMS) for name, root in roots.items())]
    sigs = [[label, str(path), *_sig(path)] for label, path in sources]
    cache = paths.synonyms_cache_file()
    cached = _read_cache(cache)
    if cached is not None and cached.get("sigs") == sigs:
        return Table({k: tuple(v) for k, v in cached["table"].items()},
                     tuple(_problem(p) for p in cached["problems"]))
    table, problems = _build(sources)
    doc = {"version": CACHE_VERSION, "sigs": sigs, "table": table,
           "problems": [{"message": p.reason, "path": p.path, "line": p.line} for p in problems]}
    with contextlib.suppress(OSError):  # a read-only cache only costs the parse next time
        write_atomic(cache, json.dumps(doc, separators=(",", ":")).encode("utf-8"))
    return Table({k: tuple(v) for k, v in table.items()}, tuple(problems))


def _sig(path: Path) -> Sig:
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != CACHE_VERSION:
        return None
    return doc


def _problem(data: dict[str, Any]) -> RecipeError:
    return RecipeError(data["message"], path=data.get("path"), line=data.get("line"))


# --- reading the YAML files (only when one changed) -----------------------------------------------


class _Entries(NamedTuple):
    same: list[list[str]]
    also: dict[str, list[str]]


def _build(sources: Iterable[tuple[str, Path]]) -> tuple[dict[str, list[str]], list[RecipeError]]:
    groups: list[list[str]] = []
    also: dict[str, list[str]] = {}
    problems: list[RecipeError] = []
    for label, path in sources:
        shown = "promptlib/synonyms.yaml" if label == "promptlib" else (
            f"{label}/{paths.COLLECTION_SYNONYMS}")
        try:
            entries = read_file(path, shown)
        except FileNotFoundError:
            continue
        except RecipeError as exc:
            problems.append(exc)
            continue
        groups += entries.same
        for key, targets in entries.also.items():
            also.setdefault(key, []).extend(targets)
    return merge(groups, also), problems


def merge(groups: list[list[str]], also: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Each term -> every other term of its `same` lines, then its `also` targets and their
    `same` lines. Lines that share a term are one meaning (a collection adding `[kube, kubectl]`
    extends the shipped `[k8s, kubernetes, kube]`)."""
    member_of: dict[str, set[str]] = {}
    for group in groups:
        merged = set(group)
        for term in group:
            merged |= member_of.get(term, set())
        for term in merged:
            member_of[term] = merged
    table: dict[str, list[str]] = {}
    for term, members in member_of.items():
        table[term] = sorted(members - {term})
    for key, targets in also.items():
        found = table.setdefault(key, [])
        for target in targets:
            for alt in [target, *sorted(member_of.get(target, ()))]:
                if alt != key and alt not in found:
                    found.append(alt)
    return table


def read_file(path: Path, shown: str) -> _Entries:
    """One synonyms file, checked; RecipeError naming the file and line when it breaks a rule."""
    try:
        data = read_nofollow(path, MAX_FILE_BYTES + 1)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise RecipeError(f"cannot read: {exc.strerror}", path=shown) from None
    if len(data) > MAX_FILE_BYTES:
        raise RecipeError(f"larger than {MAX_FILE_BYTES // 1024} KiB", path=shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RecipeError("not UTF-8 text", path=shown) from None
    return _Reader(shown).entries(_compose(text, shown))


def _compose(text: str, shown: str) -> Any:
    import yaml  # noqa: PLC0415  (only when a synonyms file changed)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = event.start_mark
                raise RecipeError("anchors and aliases are not allowed", path=shown,
                                  line=mark.line + 1 if mark else None)
        return yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise RecipeError(f"not valid YAML: {exc.problem}", path=shown,
                          line=mark.line + 1 if mark else None) from None


class _Reader:
    """Turns the composed YAML nodes of one file into entries, or a RecipeError at a line."""

    def __init__(self, shown: str) -> None:
        import yaml  # noqa: PLC0415  (already imported by _compose)

        self.yaml, self.shown = yaml, shown

    def fail(self, message: str, node: Any) -> RecipeError:
        return RecipeError(message, path=self.shown, line=node.start_mark.line + 1)

    def entries(self, node: Any) -> _Entries:
        found = _Entries([], {})
        if node is None:
            return found
        if not isinstance(node, self.yaml.MappingNode):
            raise self.fail("expected a mapping with `same` and/or `also`", node)
        seen: set[str] = set()
        for key_node, value in node.value:
            key = key_node.value if isinstance(key_node, self.yaml.ScalarNode) else None
            if key not in ("same", "also") or key in seen:
                raise self.fail(f"unknown or repeated key {key!r}: expected `same` and `also`",
                                key_node)
            seen.add(key)
            if key == "same":
                found.same.extend(self.same(value))
            else:
                found.also.update(self.also(value))
        return found

    def same(self, node: Any) -> list[list[str]]:
        if not isinstance(node, self.yaml.SequenceNode):
            raise self.fail("`same` must be a list of lists of words", node)
        self.bounded(node, "lines in `same`")
        lines = []
        for line in node.value:
            terms = self.terms(line)
            if len(terms) < 2:
                raise self.fail("a line of `same` needs at least two words", line)
            lines.append(terms)
        return lines

    def also(self, node: Any) -> dict[str, list[str]]:
        if not isinstance(node, self.yaml.MappingNode):
            raise self.fail("`also` must map a word to a list of words", node)
        self.bounded(node, "keys in `also`")
        out: dict[str, list[str]] = {}
        for word_node, targets in node.value:
            word = self.term(word_node)
            if word in out:
                raise self.fail(f"{word!r} appears twice in `also`", word_node)
            out[word] = self.terms(targets)
        return out

    def bounded(self, node: Any, what: str) -> None:
        if len(node.value) > MAX_ENTRIES:
            raise self.fail(f"more than {MAX_ENTRIES:,} {what}", node)

    def terms(self, node: Any) -> list[str]:
        if not isinstance(node, self.yaml.SequenceNode):
            raise self.fail("expected a list of words, like [k8s, kubernetes]", node)
        if len(node.value) > MAX_TERMS:
            raise self.fail(f"more than {MAX_TERMS} words on one line", node)
        return list(dict.fromkeys(self.term(item) for item in node.value))

    def term(self, node: Any) -> str:
        if not isinstance(node, self.yaml.ScalarNode) or node.tag.endswith((":null", ":bool")):
            raise self.fail("expected a word or phrase", node)
        value = str(node.value)
        if not value.isprintable():
            raise self.fail("control characters are not allowed", node)
        term = normalize(value)
        if not term or len(term) > MAX_TERM_CHARS or len(term.split()) > MAX_WORDS:
            raise self.fail(f"{value[:40]!r}: a word or a phrase of at most {MAX_WORDS} words "
                            f"and {MAX_TERM_CHARS} characters", node)
        return term
