"""Words as people type them: compounds and case split, for the index and for the query.

The FTS5 tokenizer (unicode61) already splits `stack-trace` into `stack` and `trace`, but it
keeps `OOMKilled`, `CrashLoopBackOff` and `tier1` whole, and never joins `on-call` into the
`oncall` someone types. So the index stores, after each field's own text, the parts of its mixed
case and letter-digit words (`OOMKilled` → `OOM Killed`) and the joined forms of its hyphenated
words (`on-call` → `oncall`); the query side (`query.py`) adds the same forms of what was typed.
Appending, rather than rewriting in place, keeps the original words and their phrases intact.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

# Case changes (`oomKilled`, `OOMKilled`) and a letter run of three or more before digits
# (`tier1`, `sev2`). Digits before letters (`5xx`, `2fa`) and short numeronyms (`k8s`, `s3`)
# stay whole: their parts mean nothing.
_CASE_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z]{3})(?=\d)")
_CASE_HINT = re.compile(r"[a-z][A-Z]|[A-Z]{2}[a-z]|[A-Za-z]{3}\d")
_WORD = re.compile(r"[^\W_]+")
_SEPARATORS = re.compile(r"[\W_]+")
# Each ASCII letter or digit as its class: `OOMKilled` → `AAAAaaaaa`, so a case change is `aA`.
_CLASSES = str.maketrans({**dict.fromkeys(string.ascii_lowercase, "a"),
                          **dict.fromkeys(string.ascii_uppercase, "A"),
                          **dict.fromkeys(string.digits, "0")})
_ASCII_CLASSES = bytes.maketrans(
    (string.ascii_lowercase + string.ascii_uppercase + string.digits).encode(),
    b"a" * 26 + b"A" * 26 + b"0" * 10)

# Not joined with their neighbours: `infrastructure-as-code` gives no `infrastructureas`. The
# particles of phrasal compounds (`on-call`, `roll-out`, `sign-off`) are joined.
_GLUE = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "of", "or", "the", "to",
                   "with", "vs"})

# Words that carry no meaning in a query on their own: left out of "every word must match"
# and of the count of matching words, unless the query has nothing else. The second paragraph is
# what people add when they ask in a sentence ("tell me what this error means", "a prompt for").
STOPWORDS = frozenset("""\
a an the and or of to in on at by for from with into onto about as is are was were be been
being am do does did doing done can could should would will shall may might must i me my mine
myself we us our ours you your yours it its this that these those there here what which who
whom whose how why when where whenever please some any all both each few more most other such
own same so than too very just only also again then once up during while via per vs

need needs want wants get gets got tell say says said mean means thing things stuff something
someone help way prompt prompts recipe recipes doc docs
""".split())  # noqa: SIM905  (a word list reads best as text)


def split_case(word: str) -> list[str]:
    """`OOMKilled` → [OOM, Killed]; `tier1` → [tier, 1]; a word with no such boundary → [word]."""
    return [part for part in _CASE_BOUNDARY.split(word) if part]


def index_text(text: str) -> str:
    """A field's text as the index stores it: the text, then the split and joined forms of its
    compound words (none for most text, so most fields are stored as they are). Runs on every
    field of every recipe a build parses, so it looks for cheap hints first."""
    return _with_forms(text, _split_forms(_mixed_words(text)), _joined(text))


def index_fields(fields: Sequence[str]) -> tuple[list[str], str]:
    """`index_text` of each field, and of the fields joined by spaces, looking at each field's
    words once. No compound and no hint spans the space between two fields, so the joined text's
    forms are the fields' split forms in order, then their joined forms: but as `_scan` finds
    more than the hints promise (`SEV1`), every field is scanned as soon as one has a hint."""
    hinted = [_hinted(f) for f in fields]
    scan = any(hinted)
    split = [_split_forms(_scan(f)) if scan else [] for f in fields]
    joined = [_joined(f) for f in fields]
    each = [_with_forms(f, s if h else [], j)
            for f, s, h, j in zip(fields, split, hinted, joined, strict=True)]
    return each, _with_forms(" ".join(fields), [x for s in split for x in s],
                             [x for j in joined for x in j])


def _split_forms(words: list[str]) -> list[str]:
    return [" ".join(parts) for word in words if len(parts := split_case(word)) > 1]


def _with_forms(text: str, split: list[str], joined: list[str]) -> str:
    if not split and not joined:
        return text
    return text + "\n" + " ".join(split + joined)


def _mixed_words(text: str) -> list[str]:
    """The words holding a case change or letters before digits. Most text has none, and
    mapping each character to its class first (C speed) says so without a regex scan."""
    return _scan(text) if _hinted(text) else []


def _hinted(text: str) -> bool:
    if text.isascii():  # most text: a byte table maps it ~10x faster than a str table does
        ascii_classes = text.encode("ascii").translate(_ASCII_CLASSES)
        return b"aA" in ascii_classes or b"AAa" in ascii_classes or b"aaa0" in ascii_classes
    classes = text.translate(_CLASSES)
    return "aA" in classes or "AAa" in classes or "aaa0" in classes


def _scan(text: str) -> list[str]:
    words, end = [], 0
    for hint in _CASE_HINT.finditer(text):
        if hint.start() >= end:
            word = _WORD.match(text, _word_start(text, hint.start()))
            if word is not None:
                words.append(word.group())
                end = word.end()
    return words


def _word_start(text: str, at: int) -> int:
    while at > 0 and text[at - 1].isalnum():
        at -= 1
    return at


def _joined(text: str) -> list[str]:
    """`on-call` → `oncall`, for each hyphen between two words (but not with glue words)."""
    out: list[str] = []
    at = text.find("-")
    while at != -1:
        if 0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum():
            before = text[_word_start(text, at):at]
            after = _WORD.match(text, at + 1)
            if after is not None and before.lower() not in _GLUE and (
                    after.group().lower() not in _GLUE):
                out.append(before + after.group())
        at = text.find("-", at + 1)
    return out


def forms(word: str) -> list[tuple[str, ...]]:
    """The other ways a typed word may be written in a recipe, as word sequences: `OOMKilled`
    → (oom, killed); `post-mortem` → (post, mortem) and (postmortem,); `tier1` → (tier, 1)."""
    if word.isalpha() and (word.islower() or word.isupper()):
        return []  # the common case, without a regex: nothing to split or join
    out: list[tuple[str, ...]] = []
    pieces = [p for p in _SEPARATORS.split(word) if p]
    if len(pieces) > 1:
        out.append(tuple(p.lower() for p in pieces))
        out.append(("".join(pieces).lower(),))
    for piece in pieces:
        parts = split_case(piece)
        if len(parts) > 1 and len(pieces) == 1:
            out.append(tuple(p.lower() for p in parts))
    return list(dict.fromkeys(out))
