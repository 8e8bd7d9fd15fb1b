"""`promptlib redact` as a core: the detector over whole inputs (stdin or files), with what the
command prints built here — the redacted bytes, the findings document — and nothing printed.

Bytes that are not UTF-8 pass through unchanged (surrogate escapes), so a filter in a pipe
alters nothing but the credentials it replaces.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from promptlib.redact import detector

if TYPE_CHECKING:
    from collections.abc import Iterable

    from promptlib.redact.allow import AllowList


class Filtered(NamedTuple):
    source: str  # a file's path as given, or "-" for stdin
    result: detector.Redaction

    def output(self) -> bytes:
        return encode(self.result.text)


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def filter_inputs(
    inputs: Iterable[tuple[str, bytes]], *, pii: bool, allow: AllowList | None
) -> list[Filtered]:
    """Each (source, content) redacted, with its findings."""
    return [
        Filtered(source, detector.analyse(decode(data), pii=pii, allow=allow))
        for source, data in inputs
    ]


def total_counts(filtered: Iterable[Filtered]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in filtered:
        for kind, n in item.result.counts.items():
            counts[kind] = counts.get(kind, 0) + n
    return counts


def locations(filtered: Iterable[Filtered]) -> list[dict[str, Any]]:
    """Where each finding is — file, line, column, kind — and never the secret itself."""
    return [
        {"file": item.source, "line": f.line, "column": f.column, "kind": f.kind}
        for item in filtered
        for f in item.result.findings
    ]


def findings_document(filtered: list[Filtered]) -> dict[str, Any]:
    """`promptlib redact --json`: {findings: [{file, line, column, kind}], redactions}."""
    return {"findings": locations(filtered), "redactions": total_counts(filtered)}


# --------------------------------------------------------------------------------------------
# Streaming: `kubectl logs -f | promptlib redact` prints each line as soon as it is safe to
# --------------------------------------------------------------------------------------------

_HOLD_LIMIT = 1 << 20  # past this much held text, redact what is held rather than wait on
_TAIL = 4096  # how far back a YAML block scalar's header is looked for
_BLOCK_HEADER = re.compile(rb"""[:=][ \t]*+[|>][-+0-9]{0,2}[ \t]*+$""")


def safe_cut(data: bytes) -> int:
    """How much of `data` can be redacted and written now: whole lines only, and not a key
    block whose END line has not come, nor a YAML block scalar whose lines may still come.
    Every credential the detector knows lies within one line or within one of those two."""
    cut = data.rfind(b"\n") + 1
    begin = data.rfind(b"-----BEGIN", 0, cut)
    if begin >= 0 and data.find(b"-----END", begin, cut) < 0:
        cut = data.rfind(b"\n", 0, begin) + 1
    cut = _before_open_block(data, cut)
    if cut == 0 and len(data) > _HOLD_LIMIT:
        return data.rfind(b"\n") + 1 or len(data)
    return cut


def _before_open_block(data: bytes, cut: int) -> int:
    """The start of a block scalar's header line if the lines after it, up to `cut`, are all
    indented or blank (so the block may go on); else `cut`."""
    start = cut
    floor = max(0, cut - _TAIL)
    while start > floor:
        line_start = data.rfind(b"\n", 0, start - 1) + 1
        line = data[line_start : start - 1]
        if _BLOCK_HEADER.search(line.rstrip(b"\r")):
            return line_start
        if line.strip() and not line[:1].isspace():
            return cut  # a line back at the margin: no block is open
        start = line_start
    return cut


class StreamFilter:
    """Feed bytes as they come; get back the redacted bytes that are safe to write."""

    def __init__(self, *, pii: bool, allow: AllowList | None) -> None:
        self._pending = b""
        self._pii = pii
        self._allow = allow
        self.counts: dict[str, int] = {}

    def feed(self, data: bytes) -> bytes:
        self._pending += data
        cut = safe_cut(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return self._redact(ready)

    def finish(self) -> bytes:
        ready, self._pending = self._pending, b""
        return self._redact(ready)

    def _redact(self, data: bytes) -> bytes:
        if not data:
            return b""
        text, counts = detector.redact(decode(data), pii=self._pii, allow=self._allow)
        for kind, n in counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + n
        return encode(text)
