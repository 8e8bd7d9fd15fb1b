"""`promptlib redact` as a core: the detector over whole inputs (stdin or files), with what the
command prints built here — the redacted bytes, the findings document — and nothing printed.

Bytes that are not UTF-8 pass through unchanged (surrogate escapes), so a filter in a pipe
alters nothing but the credentials it replaces.
"""

from __future__ import annotations

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
