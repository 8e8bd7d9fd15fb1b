"""`promptlib redact`: what it does, shared by the fast path and the Typer command.

Reads stdin (or the files given), redacts with render's detector and allow-lists, and prints:
the redacted text on stdout (or, with `--json`, the findings), the one-line summary on stderr.
`--check` prints nothing on stdout: each finding's place on stderr, and exit 4 if there is one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from promptlib.cli import console
from promptlib.errors import SecretFoundError, UsageError

if TYPE_CHECKING:
    from promptlib.redact.filter import StreamFilter


class RedactArgs(NamedTuple):
    files: list[str]
    check: bool = False
    as_json: bool = False
    redact_pii: bool = False


_FLAGS = {"--check": "check", "--json": "as_json", "--redact-pii": "redact_pii"}


def parse_redact_args(args: list[str]) -> RedactArgs | None:
    """The arguments of a plain `redact`; None for anything the Typer app should explain."""
    flags = dict.fromkeys(_FLAGS.values(), False)
    files: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            files += rest
            break
        if arg in _FLAGS:
            flags[_FLAGS[arg]] = True
        elif arg.startswith("-") and arg != "-":
            return None
        else:
            files.append(arg)
    return RedactArgs(files, **flags)


def run_redact(args: RedactArgs) -> None:
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.redact import detector  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.redact import filter as core  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.store import allow_lists  # noqa: PLC0415  (start-up: only this path loads it)

    user = settings.load()
    allow = allow_lists.near(Path.cwd(), user)
    pii = args.redact_pii or user.redact_pii
    if args.files in ([], ["-"]) and not (args.check or args.as_json):
        _summarise(_stream(core.StreamFilter(pii=pii, allow=allow)))
        return
    filtered = core.filter_inputs(_read(args.files), pii=pii, allow=allow)
    counts = core.total_counts(filtered)
    line = detector.summary(counts)
    if args.check:
        for place in core.locations(filtered):
            console.info(f"{place['file']}:{place['line']}:{place['column']}: {place['kind']}")
        if counts:
            raise SecretFoundError(line.replace("redacted", "found", 1),
                                   hint="remove them, or allow-list a known-safe value in "
                                        ".promptlib/redact.yaml")
        return
    if args.as_json:
        console.json(core.findings_document(filtered))
    else:
        for item in filtered:
            sys.stdout.buffer.write(item.output())
        sys.stdout.flush()
    _summarise(counts)


def _stream(stream: StreamFilter) -> dict[str, int]:
    """stdin to stdout as it comes, each line written once it is safe (`kubectl logs -f`)."""
    read = getattr(sys.stdin.buffer, "read1", sys.stdin.buffer.read)
    out = sys.stdout.buffer
    while chunk := read(1 << 16):
        out.write(stream.feed(chunk))
        out.flush()
    out.write(stream.finish())
    out.flush()
    return stream.counts


def _summarise(counts: dict[str, int]) -> None:
    from promptlib.redact import detector  # noqa: PLC0415  (start-up: only this path loads it)

    line = detector.summary(counts)
    if line:
        console.info(line)


def _read(files: list[str]) -> list[tuple[str, bytes]]:
    if not files or files == ["-"]:
        return [("-", sys.stdin.buffer.read())]
    inputs: list[tuple[str, bytes]] = []
    for name in files:
        if name == "-":
            inputs.append(("-", sys.stdin.buffer.read()))
            continue
        try:
            inputs.append((name, Path(name).read_bytes()))
        except FileNotFoundError:
            raise UsageError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"{name}: is a folder; pass its files") from None
        except OSError as exc:
            raise UsageError(f"{name}: cannot read ({exc.strerror})") from None
    return inputs
