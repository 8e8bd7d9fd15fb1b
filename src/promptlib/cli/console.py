"""The only place that prints. Data goes to stdout, messages to stderr (DESIGN §4).

Plain text and hand-made ANSI styling rather than Rich for the everyday commands: importing
`rich.console` costs ~45 ms, more than a whole `search` may take. Colour only on a TTY and
never when NO_COLOR is set.

Text from other teams' repositories (titles, git author names, commit messages, notes, file
names) is untrusted: everything printed here passes through `_safe`, which keeps only the
colour codes this module writes and drops every other control character, so no OSC 52
clipboard write, title change or screen wipe reaches the terminal (DESIGN §7).
"""

from __future__ import annotations

import contextlib
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

from promptlib import paths as config
from promptlib.utils.jsontext import dumps_indented
from promptlib.utils.text import CONTROL_OR_COLOUR, JSON_C1_ESCAPES

_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36",
           "magenta": "35"}


# A colour code (SGR) is kept when colour is on; any other C0/C1 control but tab and newline
# never is.
_CONTROL = CONTROL_OR_COLOUR
_C1_OR_DEL = re.compile(r"[\x7f-\x9f]")  # what JSON_C1_ESCAPES escapes


def _safe(text: str, stream: IO[str]) -> str:
    if not _CONTROL.search(text):
        return text
    keep_colour = color_enabled(stream)
    return _CONTROL.sub(lambda m: m.group() if keep_colour and len(m.group()) > 1 else "", text)


def color_enabled(stream: IO[str]) -> bool:
    return not config.no_color() and stream.isatty()


def interactive() -> bool:
    """A person at a terminal: stdin and stdout both on one."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def style(text: str, *names: str, stream: IO[str] | None = None) -> str:
    if not color_enabled(stream or sys.stdout) or not names:
        return text
    codes = ";".join(_STYLES[n] for n in names)
    return f"\x1b[{codes}m{text}\x1b[0m"


# --- stdout: data ---------------------------------------------------------------------------------


def out(text: str = "", *, end: str = "\n") -> None:
    sys.stdout.write(_safe(text, sys.stdout) + end)


def raw(text: str) -> None:
    """Exactly `text` on stdout, nothing added (a rendered prompt)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def json(document: Any) -> None:
    text = dumps_indented(document)  # json.dumps(indent=2, ensure_ascii=False, default=str)
    if _C1_OR_DEL.search(text):  # translating a large document costs; most have nothing to escape
        text = text.translate(JSON_C1_ESCAPES)
    sys.stdout.write(text + "\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Aligned columns; the last column takes what is left of the terminal and is cut with …"""
    rows = [list(r) for r in rows]
    if not rows:
        return
    widths = [max(_width(str(r[i])) for r in [list(headers), *rows]) for i in range(len(headers))]
    import shutil  # noqa: PLC0415  (~3 ms with bz2 and lzma: a render prints no table)

    total = shutil.get_terminal_size((120, 24)).columns
    fixed = sum(widths[:-1]) + 2 * (len(widths) - 1)
    widths[-1] = max(10, min(widths[-1], total - fixed)) if sys.stdout.isatty() else widths[-1]
    out(style(_join(headers, widths), "bold"))
    for row in rows:
        out(_join([str(c) for c in row], widths))


def _join(cells: Sequence[str], widths: Sequence[int]) -> str:
    parts = []
    for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        fitted = _fit(cell, width)
        parts.append(fitted if i == len(cells) - 1 else fitted + " " * (width - _width(fitted)))
    return "  ".join(parts).rstrip()


def _fit(text: str, width: int) -> str:
    if _width(text) <= width:
        return text
    cut = text
    while cut and _width(cut) > width - 1:
        cut = cut[:-1]
    return cut + "…"


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@contextlib.contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for a long job (yields `advance(n)`), only on a terminal: Rich is
    imported here and nowhere else on the everyday commands' paths."""
    if not sys.stderr.isatty():
        yield lambda _n: None
        return
    from rich.console import Console  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)
    from rich.progress import (  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    console = Console(stderr=True, no_color=config.no_color())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# --- stderr: messages -----------------------------------------------------------------------------


def ask(label: str) -> str:
    """Ask for a value on the terminal: the question on stderr, so stdout stays the data.

    A pasted multi-line log arrives as several lines at once: every line already waiting is part
    of the answer, so the rest of a paste never spills into the shell after promptlib exits.
    """
    _err(f"{label}: ", end="")
    lines = [sys.stdin.readline()]
    if not lines[0]:
        raise EOFError
    while _more_input_waiting():
        line = sys.stdin.readline()
        if not line:
            break
        lines.append(line)
    return "".join(lines).removesuffix("\n")


# How long a paste may pause between lines and still count as one answer.
_PASTE_GAP_S = 0.05


def _more_input_waiting() -> bool:
    import select  # noqa: PLC0415  (stdlib, kept off the start-up path)

    try:
        ready, _, _ = select.select([sys.stdin], [], [], _PASTE_GAP_S)
    except (OSError, ValueError):
        return False
    return bool(ready)


def _err(text: str, *, end: str = "\n") -> None:
    sys.stderr.write(_safe(text, sys.stderr) + end)
    sys.stderr.flush()


def info(message: str) -> None:
    _err(message)


def hint(message: str) -> None:
    _err(style(message, "dim", stream=sys.stderr))


def warn(message: str) -> None:
    _err(style("warning:", "yellow", "bold", stream=sys.stderr) + f" {message}")


def error(message: str, hint_text: str | None = None) -> None:
    _err(style("error:", "red", "bold", stream=sys.stderr) + f" {message}")
    if hint_text:
        hint(f"hint: {hint_text}")


def success(message: str) -> None:
    _err(style(message, "green", stream=sys.stderr))
