"""What every detector shares: the `Rule` record, the span a detector claims, and the checks that
tell a credential from a placeholder.

A rule is data: the kind it names, the family it belongs to (for the README's table), the literal
keywords of which at least one must occur in the lowercased text before the rule runs at all,
the regular expression (as source: it is compiled the first time the rule runs, so a process
pays only for the rules its input wakes up), an optional check of the match, and the vendor's
documented format as a *sample template*, from which the tests generate their corpus and the
allow-list check generates the shapes an allow entry may never cover.

Sample templates are literal text with ``{alphabet:length}`` or ``{alphabet:min-max}`` holes;
the alphabets are the keys of `ALPHABETS`.
"""

from __future__ import annotations

import re
from math import log2
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

ALPHABETS = {
    "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",  # base62
    "A": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "h": "0123456789abcdef",
    "H": "0123456789ABCDEF",
    "d": "0123456789",
    "l": "abcdefghijklmnopqrstuvwxyz0123456789",
    "L": "abcdefghijklmnopqrstuvwxyz",
    "u": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "U": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "b": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "w": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    "3": "abcdefghijklmnopqrstuvwxyz234567",  # base32, lowercase
    "2": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",  # bech32, uppercase
}
_HOLE = re.compile(r"\{([A-Za-z0-9]):(\d+)(?:-(\d+))?\}")


class Span(NamedTuple):
    start: int
    rank: int  # ties at one start go to the more specific kind (the lower rank)
    end: int


class Rule(NamedTuple):  # a NamedTuple, not a dataclass: cheaper to import and to build
    kind: str
    family: str
    keywords: tuple[str, ...]
    regex: str
    sample: str | Callable[[random.Random], str] = ""
    check: Callable[[str], bool] | None = None  # on the secret's text
    group: int = 0
    on_lower: bool = False  # match the lowercased copy (re.IGNORECASE defeats prefix search)
    alone: bool = True  # names itself: found with no context around it


def token(prefix: str, body: str, *, end: str = r"(?![A-Za-z0-9_])") -> str:
    """A pattern for `prefix` + `body`: the prefix a whole word (the look-behind is placed after
    the literal so that `re` can still search for the literal), the body possessive, then a
    right boundary."""
    literal = re.escape(prefix)
    return rf"{literal}(?<![A-Za-z0-9_]{literal}){body}{end}"


def fill(template: str, rng: random.Random) -> str:
    """One value of a sample template."""

    def one(hole: re.Match[str]) -> str:
        alphabet = ALPHABETS[hole.group(1)]
        low = int(hole.group(2))
        length = rng.randint(low, int(hole.group(3))) if hole.group(3) else low
        return "".join(rng.choice(alphabet) for _ in range(length))

    return _HOLE.sub(one, template)


def sample_of(rule: Rule, rng: random.Random) -> str:
    return rule.sample(rng) if callable(rule.sample) else fill(rule.sample, rng)


# --------------------------------------------------------------------------------------------
# Placeholders: the general checks (no lists of words)
# --------------------------------------------------------------------------------------------

_MARK = "example"  # AWS, RFC 2606 and most vendors' docs mark sample credentials so


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    total = len(value)
    return -sum(n / total * log2(n / total) for n in counts.values()) if total else 0.0


def periodic(value: str, longest: int = 16) -> bool:
    """'a1B2a1B2a1B2…', 'abcabc…': a short unit repeated is typed, not generated."""
    for period in range(1, min(longest, len(value) // 2) + 1):
        if value[period:] == value[:-period]:
            return True
    return False


def random_enough(value: str) -> bool:
    """True of a generated key's random part; false of masks (`xxxx`, `****`, `0000`), of a
    short unit repeated, of a marked example, and of text too uniform to be random.

    The entropy floor scales with length: n random characters from an alphabet of at least 16
    hold about min(log2(n), 4) bits each; a placeholder holds far less.
    """
    if len(value) < 8:
        return len(set(value)) > len(value) // 2
    if _MARK in value.lower() or periodic(value):
        return False
    floor = min(log2(len(value)) * 0.62, 3.0)
    return entropy(value) >= floor


def body_random(start: int) -> Callable[[str], bool]:
    """A check that a token's random part, after its `start` characters of prefix, is random:
    the longest run of letters and digits (the secret of `xoxb-<team>-<bot>-<secret>`, of
    `github_pat_<id>_<secret>`), or the whole body when every run is short."""
    return lambda value: _MARK not in value.lower() and random_enough(longest_run(value[start:]))


_SEPARATORS = re.compile(r"[^A-Za-z0-9]++")


def runs(value: str) -> list[str]:
    """The runs of letters and digits in a value."""
    return _SEPARATORS.split(value)


def longest_run(body: str) -> str:
    longest = max(_SEPARATORS.split(body), key=len)
    return longest if len(longest) >= 16 else _SEPARATORS.sub("", body)


def mixed(value: str) -> bool:
    """Upper, lower and digit together: true of generated keys, rare in names and words."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


class Kind(NamedTuple):
    """What the README, the corpus and the allow-list check know of a kind."""

    name: str
    family: str
    sample: str | Callable[[random.Random], str]
    alone: bool = True  # names itself: recognised with no context around it


_B64_VALUE = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_B64URL_VALUE = {**_B64_VALUE, "-": 62, "_": 63}


def b64decode(data: str, *, urlsafe: bool = False) -> bytes | None:
    """Base64 (padded or not) without importing `base64` (start-up discipline); None if bad."""
    table = _B64URL_VALUE if urlsafe else _B64_VALUE
    data = data.rstrip("=")
    if len(data) % 4 == 1:
        return None
    out = bytearray()
    bits = nbits = 0
    for char in data:
        value = table.get(char)
        if value is None:
            return None
        bits = ((bits << 6) | value) & 0xFFFF
        nbits += 6
        if nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)
    return bytes(out)


def run_start(text: str, end: int, chars: frozenset[str], reach: int = 64) -> int:
    """Where the run of `chars` that ends at `end` starts, looking back at most `reach`
    characters: a setting's name before its `=`, an address's local part before its `@`."""
    start, floor = end, max(0, end - reach)
    while start > floor and text[start - 1] in chars:
        start -= 1
    return start


def sample_of_kind(kind: Kind, rng: random.Random) -> str:
    return kind.sample(rng) if callable(kind.sample) else fill(kind.sample, rng)


def lazy(source: str, flags: int = 0) -> Callable[[], re.Pattern[str]]:
    """A pattern compiled on first use: a process pays only for the detectors its input wakes."""
    cache: list[re.Pattern[str]] = []

    def get() -> re.Pattern[str]:
        if not cache:
            cache.append(re.compile(source, flags))
        return cache[0]

    return get
