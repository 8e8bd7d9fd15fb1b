"""Reading a value from stdin or a file with bounded memory, whatever the size of the input.

`cat huge.log | promptlib render log-triage` at 3 AM must neither exhaust memory nor spend
seconds redacting text that the variable's bound throws away. The stream is read in chunks and
only what the bound keeps (head, tail, or both ends for middle) is held — plus a margin on each
side of every cut, so that redaction, which runs before the final cut, still sees a credential
that straddles it whole (render/fill.py: redact first, then truncate).
"""

from __future__ import annotations

import codecs
import os
import select
import stat
from collections.abc import Iterator
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
# Reading stops here: `-v logs=@/dev/zero` or `yes | promptlib render …` never ends by itself.
MAX_READ_BYTES = 256 << 20
# Characters kept beyond the bound at each cut: a PEM private key is ~3 KB, a JWT rarely 8 KB.
MARGIN_CHARS = 65_536


def input_waiting(stream: BinaryIO) -> bool:
    """Whether non-blank input is already waiting on `stream`, found without ever waiting: a
    pipe or socket with bytes ready this instant (polled with a zero timeout), or a regular file
    with bytes left in it. A pipe nobody has written to (yet), /dev/null or a terminal: no.

    Used when no variable can take stdin: the input would otherwise be dropped without a word,
    and an open pipe that never closes must not hang the render either. Blank bytes read from a
    pipe while looking are consumed: nothing was going to read them.
    """
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError):
        return _buffered_waiting(stream)
    if stat.S_ISREG(mode):
        position = os.lseek(fd, 0, os.SEEK_CUR)
        start = os.pread(fd, CHUNK_BYTES, position)
        return bool(start.strip()) or len(start) == CHUNK_BYTES
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    read = 0
    while read < CHUNK_BYTES and poller.poll(0):
        chunk = os.read(fd, CHUNK_BYTES)  # ready: returns at once, with what is there
        if not chunk:
            return False  # the writer closed it, empty
        if chunk.strip():
            return True
        read += len(chunk)
    return False


def _buffered_waiting(stream: BinaryIO) -> bool:
    """An in-memory stream (a test's, an embedding program's): what is left in it."""
    if not stream.seekable():
        return False
    position = stream.tell()
    start = stream.read(CHUNK_BYTES)
    stream.seek(position)
    return bool(start.strip())


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
