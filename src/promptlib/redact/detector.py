"""Secret detection and redaction (DESIGN §7 "Secrets"): the public API and the merging.

`render` runs every variable value through `redact` before rendering; `add`, `edit`, `share` and
`push` refuse a recipe for which `find_secrets` is not empty; `promptlib redact` is this module as
a filter. A finding always spans the whole credential, and its replacement is
``[REDACTED:<kind>]``.

The detectors live apart (registry.py lists them in rank order): the token tables (patterns.py,
services.py), the scanners that need more than a pattern (structured.py), the settings named
secret (keyvalues.py, vendors.py) and personal data (pii.py). This module finds which of them
the text can wake (one keyword pass, prefilter.py), runs those, merges overlapping claims, drops
what an allow-list exempts (allow.py), and writes the markers.

`redact` is idempotent and never flags its own markers; `find_secrets` reports exactly the spans
`redact` replaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from promptlib.redact import registry
from promptlib.redact.registry import KINDS, PII_KINDS, RANK
from promptlib.redact.rules import Span

if TYPE_CHECKING:
    from collections.abc import Iterator

    from promptlib.redact.allow import AllowList

__all__ = [
    "KINDS",
    "PII_KINDS",
    "Finding",
    "Redaction",
    "analyse",
    "find_secrets",
    "redact",
    "summary",
]


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    line: int
    column: int = 1  # 1-based, in characters


def _span(kind: str, start: int, end: int) -> Span:
    return Span(start, RANK[kind], end)


# --------------------------------------------------------------------------------------------
# Running the detectors, merging their claims, writing the markers
# --------------------------------------------------------------------------------------------

_MARKER = re.compile(r"\[REDACTED:[a-z_]++\]")  # what `_marker` writes
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lower(text: str) -> str:
    """A lowercased copy with the same offsets (str.lower turns 'İ' into two characters)."""
    lower = text.lower()
    return lower if len(lower) == len(text) else text.translate(_ASCII_LOWER)


def _marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def _without_markers(text: str, spans: list[Span]) -> list[Span]:
    """Drop spans that start inside one of our own markers: they are already redacted."""
    if "[REDACTED:" not in text:
        return spans
    markers = [(m.start(), m.end()) for m in _MARKER.finditer(text)]
    kept: list[Span] = []
    index = 0
    for span in spans:
        while index < len(markers) and markers[index][1] <= span.start:
            index += 1
        if index == len(markers) or span.start < markers[index][0]:
            kept.append(span)
    return kept


_Claim = tuple[str, int, int]  # kind, start, end


def _merge(spans: list[Span]) -> list[_Claim]:
    """Overlapping claims become one span, named by the earliest and most specific claim.

    Taking the union rather than dropping the loser means no detector's credential is ever
    left half-exposed by another's shorter match.
    """
    merged: list[_Claim] = []
    for span in spans:
        if merged and span.start < merged[-1][2]:
            kind, start, end = merged[-1]
            merged[-1] = (kind, start, max(end, span.end))
        else:
            merged.append((KINDS[span.rank], span.start, span.end))
    return merged


def _spans(text: str, lower: str, pii: bool) -> Iterator[Span]:
    present = registry.INDEX.present(lower)
    for index in registry.rules_for(present):
        rule = registry.RULES[index]
        group, rank, check = rule.group, RANK[rule.kind], rule.check
        for match in registry.pattern(index).finditer(lower if rule.on_lower else text):
            start, end = match.start(group), match.end(group)
            if check is None or check(text[start:end]):
                yield Span(start, rank, end)
    for scanner in registry.ALL_SCANNERS:
        if not present.isdisjoint(scanner.keywords):
            for kind, start, end in scanner.scan(text, lower):
                yield Span(start, RANK[kind], end)
    if pii:
        for scan in registry.PII_SCANS:
            for kind, start, end in scan(text, lower):
                yield Span(start, RANK[kind], end)


def _claims(text: str, pii: bool, allow: AllowList | None) -> list[_Claim]:
    lower = _ascii_lower(text)
    spans = sorted(span for span in _spans(text, lower, pii) if span.end > span.start)
    claims = _merge(_without_markers(text, spans))
    if allow is not None:
        claims = [claim for claim in claims if not allow.permits(text[claim[1] : claim[2]])]
    return claims


def _apply(text: str, claims: list[_Claim]) -> str:
    pieces: list[str] = []
    done = 0
    for kind, start, end in claims:
        pieces += (text[done:start], _marker(kind))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _to_source(claims: list[_Claim], later: list[_Claim]) -> Iterator[Span]:
    """Claims found in `_apply(text, claims)`, moved back to offsets in `text`."""
    # (start, end) of each marker in the redacted text, beside the (start, end) it replaced.
    table: list[tuple[int, int, int, int]] = []
    shift = 0
    for kind, start, end in claims:
        marker_start = start + shift
        marker_end = marker_start + len(_marker(kind))
        table.append((marker_start, marker_end, start, end))
        shift = marker_end - end

    def source(pos: int, *, is_end: bool) -> int:
        low, high = 0, len(table)  # find the last marker starting before pos
        while low < high:
            middle = (low + high) // 2
            if table[middle][0] < pos or (not is_end and table[middle][0] == pos):
                low = middle + 1
            else:
                high = middle
        if low == 0:
            return pos
        _, marker_end, start, end = table[low - 1]
        if pos < marker_end or (is_end and pos == marker_end):
            return end if is_end else start
        return end + pos - marker_end

    for kind, start, end in later:
        yield _span(kind, source(start, is_end=False), source(end, is_end=True))


# Redacting can expose a credential that a neighbour hid: in "1.0.0.0AKIA…" the digit before
# AKIA fails the key id's left boundary until the address becomes "…]". Looking again at the
# redacted text, and folding what turns up back into the findings, keeps `find_secrets` and
# `redact` in step and makes `redact` idempotent. Each round costs a scan; chains longer than
# this are contrived, and the bound keeps hostile input linear.
_MAX_ROUNDS = 4


# What a redaction can expose lies next to its marker: the next round looks only at the lines
# around each one (this far on either side), not at the whole text again.
_REACH = 1024


def _claims_near_markers(
    redacted: str, claims: list[_Claim], pii: bool, allow: AllowList | None
) -> list[_Claim]:
    if len(claims) * 4 * _REACH >= len(redacted):
        return _claims(redacted, pii, allow)  # the windows would cover it all anyway
    windows: list[list[int]] = []
    shift = 0
    for kind, start, end in claims:
        marker_start = start + shift
        marker_end = marker_start + len(_marker(kind))
        shift = marker_end - end
        # At a line's edge where one is near; else (one huge line) at twice the reach.
        floor, ceiling = max(0, marker_start - 2 * _REACH), marker_end + 2 * _REACH
        low = redacted.rfind("\n", floor, max(0, marker_start - _REACH)) + 1 or floor
        high = redacted.find("\n", min(len(redacted), marker_end + _REACH), ceiling)
        high = min(len(redacted), ceiling) if high < 0 else high
        if windows and low <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    found: list[_Claim] = []
    for low, high in windows:
        part = redacted if (low, high) == (0, len(redacted)) else redacted[low:high]
        found += [(kind, low + s, low + e) for kind, s, e in _claims(part, pii, allow)]
    return found


def _settled_claims(text: str, pii: bool, allow: AllowList | None) -> list[_Claim]:
    claims = _claims(text, pii, allow)
    for _ in range(_MAX_ROUNDS - 1):
        if not claims:
            break
        later = _claims_near_markers(_apply(text, claims), claims, pii, allow)
        if not later:
            break
        spans = [_span(kind, start, end) for kind, start, end in claims]
        claims = _merge(sorted([*spans, *_to_source(claims, later)]))
    return claims


class Redaction(NamedTuple):
    text: str  # with every finding replaced by its marker
    counts: dict[str, int]  # findings by kind
    findings: list[Finding]


def analyse(text: str, *, pii: bool = False, allow: AllowList | None = None) -> Redaction:
    """The redacted text, the counts and the findings, from one detection pass."""
    claims = _settled_claims(text, pii, allow)
    return Redaction(
        _apply(text, claims) if claims else text, _counts(claims), _findings(text, claims)
    )


def _counts(claims: list[_Claim]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind, _, _ in claims:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _findings(text: str, claims: list[_Claim]) -> list[Finding]:
    findings: list[Finding] = []
    line, counted_to, line_start = 1, 0, 0
    for kind, start, end in claims:
        newlines = text.count("\n", counted_to, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", counted_to, start) + 1
        counted_to = start
        findings.append(Finding(kind, start, end, line, start - line_start + 1))
    return findings


def find_secrets(text: str, *, pii: bool = False, allow: AllowList | None = None) -> list[Finding]:
    """Non-overlapping findings in order of start, with their line and column."""
    return _findings(text, _settled_claims(text, pii, allow))


def redact(
    text: str, *, pii: bool = False, allow: AllowList | None = None
) -> tuple[str, dict[str, int]]:
    """The text with every finding replaced by [REDACTED:kind], and counts by kind."""
    claims = _settled_claims(text, pii, allow)
    return (_apply(text, claims) if claims else text), _counts(claims)


def summary(counts: dict[str, int]) -> str:
    """One line for stderr, e.g. 'redacted 3 secrets: 2 aws_key_id, 1 jwt' ('' when none)."""
    total = sum(counts.values())
    if total == 0:
        return ""
    ordered = sorted((kind for kind in counts if counts[kind]), key=lambda k: (-counts[k], k))
    noun = "secret" if total == 1 else "secrets"
    return f"redacted {total} {noun}: " + ", ".join(f"{counts[k]} {k}" for k in ordered)
