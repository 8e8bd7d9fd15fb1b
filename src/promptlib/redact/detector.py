"""Secret detection and redaction (DESIGN §7 "Secrets"): the public API and the merging.

`render` runs every variable value through `redact` before rendering; `add`, `edit`, `share` and
`push` refuse a recipe for which `find_secrets` is not empty. A finding always spans the whole
credential, and its replacement is ``[REDACTED:<kind>]``.

The detectors live apart: redact/patterns.py holds the kind names (in the rank order that names a
span several detectors claim) and the detectors that know a credential by its shape;
redact/keyvalues.py the `password` kind, read from the setting a value belongs to. This module
runs them, merges overlapping claims, and writes the markers.

`redact` is idempotent and never flags its own markers; `find_secrets` reports exactly the spans
`redact` replaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from promptlib.redact.keyvalues import scan_flags, scan_key_values
from promptlib.redact.patterns import (
    KINDS,
    PII_KINDS,
    RULES,
    Span,
    scan_aws,
    scan_emails,
    scan_ips,
    scan_pem,
)
from promptlib.redact.patterns import span as _span

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# KINDS and PII_KINDS are defined beside the patterns and are part of this module's API.
__all__ = ["KINDS", "PII_KINDS", "Finding", "find_secrets", "redact", "summary"]


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    line: int


# --------------------------------------------------------------------------------------------
# Running the detectors, merging their claims, writing the markers
# --------------------------------------------------------------------------------------------

_SCANNERS: tuple[Callable[[str, str], Iterator[Span]], ...] = (
    scan_pem,
    scan_aws,
    *(rule.scan for rule in RULES),
    scan_key_values,
    scan_flags,
)
_PII_SCANNERS: tuple[Callable[[str, str], Iterator[Span]], ...] = (scan_emails, scan_ips)
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


def _claims(text: str, pii: bool) -> list[_Claim]:
    lower = _ascii_lower(text)
    scanners = _SCANNERS + _PII_SCANNERS if pii else _SCANNERS
    spans = [span for scan in scanners for span in scan(text, lower) if span.end > span.start]
    spans.sort()
    return _merge(_without_markers(text, spans))


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


def _settled_claims(text: str, pii: bool) -> list[_Claim]:
    claims = _claims(text, pii)
    for _ in range(_MAX_ROUNDS - 1):
        if not claims:
            break
        later = _claims(_apply(text, claims), pii)
        if not later:
            break
        spans = [_span(kind, start, end) for kind, start, end in claims]
        claims = _merge(sorted([*spans, *_to_source(claims, later)]))
    return claims


def find_secrets(text: str, *, pii: bool = False) -> list[Finding]:
    """Non-overlapping findings in order of start."""
    findings: list[Finding] = []
    line, counted_to = 1, 0
    for kind, start, end in _settled_claims(text, pii):
        line += text.count("\n", counted_to, start)
        counted_to = start
        findings.append(Finding(kind, start, end, line))
    return findings


def redact(text: str, *, pii: bool = False) -> tuple[str, dict[str, int]]:
    """The text with every finding replaced by [REDACTED:kind], and counts by kind."""
    claims = _settled_claims(text, pii)
    counts: dict[str, int] = {}
    for kind, _, _ in claims:
        counts[kind] = counts.get(kind, 0) + 1
    return (_apply(text, claims) if claims else text), counts


def summary(counts: dict[str, int]) -> str:
    """One line for stderr, e.g. 'redacted 3 secrets: 2 aws_key_id, 1 jwt' ('' when none)."""
    total = sum(counts.values())
    if total == 0:
        return ""
    ordered = sorted((kind for kind in counts if counts[kind]), key=lambda k: (-counts[k], k))
    noun = "secret" if total == 1 else "secrets"
    return f"redacted {total} {noun}: " + ", ".join(f"{counts[k]} {k}" for k in ordered)
