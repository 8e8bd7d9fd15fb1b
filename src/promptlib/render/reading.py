"""Reading a value from stdin or a file with bounded memory, whatever the size of the input.

`cat huge.log | promptlib render log-triage` at 3 AM must neither exhaust memory nor spend
seconds redacting text that the variable's bound throws away. The stream is read in chunks and
only what the bound keeps (head, tail, or both ends for middle) is held — plus a margin on each
side of every cut, so that redaction, which runs before the final cut, still sees a credential
that straddles it whole (render/fill.py: redact first, then truncate).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
# Reading stops here: `-v logs=@/dev/zero` or `yes | promptlib render …` never ends by itself.
MAX_READ_BYTES = 256 << 20
# Characters kept beyond the bound at each cut: a PEM private key is ~3 KB, a JWT rarely 8 KB.
MARGIN_CHARS = 65_536


def has_content(stream: BinaryIO) -> bytes | None:
    """The bytes read up to the first non-blank ones, or None when the stream held only blanks.

    An empty pipe — or one holding only whitespace — is no value (DESIGN §4).
    """
    seen = b""
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            return None
        seen += chunk
        if chunk.strip():
            return seen


def read_bounded(stream: BinaryIO, limit: int, mode: str, *,
                 prefix: bytes = b"") -> tuple[str, int, bool]:
    """Decode the stream as UTF-8 (bad bytes replaced), keeping what `mode` keeps of `limit`
    characters plus the margins. Returns the kept text, how many characters were dropped, and
    whether the stream was read to its end (False: reading stopped at MAX_READ_BYTES)."""
    head_room = 0 if mode == "tail" else (limit // 2 if mode == "middle" else limit) + MARGIN_CHARS
    tail_room = 0 if mode == "head" else (limit - limit // 2 if mode == "middle" else limit) \
        + MARGIN_CHARS
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    head: list[str] = []
    head_len = 0
    tail = ""
    total = 0
    read = 0
    for raw in _chunks(stream, prefix):
        read += len(raw)
        text = decoder.decode(raw, final=not raw)
        total += len(text)
        if head_len < head_room:
            taken = text[:head_room - head_len]
            head.append(taken)
            head_len += len(taken)
            text = text[len(taken):]
        if tail_room and text:
            tail = (tail + text)[-tail_room:]
    kept = "".join(head) + tail
    return kept, total - len(kept), read < MAX_READ_BYTES


def _chunks(stream: BinaryIO, prefix: bytes) -> Iterator[bytes]:
    read = len(prefix)
    if prefix:
        yield prefix
    while read < MAX_READ_BYTES and (chunk := stream.read(CHUNK_BYTES)):
        read += len(chunk)
        yield chunk
    yield b""  # flushes the decoder
