"""The command line: one thin function per command (parse → one core call → print).

The only layer that prints, prompts, exits or imports Typer, Click or Rich (docs/architecture.md).
`main()` first offers the arguments to the Typer-free fast path (`fastpath`), which answers a
plain `search` or `render` in a fraction of Typer's start-up; everything else goes to the Typer
app (`app`), where the commands are registered top-down.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["__complete"]:
        # A TAB (completion_scripts.py): before anything else is imported, since it has ~20 ms.
        from promptlib.cli import complete  # noqa: PLC0415  (start-up: only this path loads it)

        sys.exit(complete.main(sys.argv[2:]))
    from promptlib.cli.fastpath import fast_command, guarded  # noqa: PLC0415  (start-up: only this path loads it)

    command = fast_command(sys.argv[1:])
    if command is not None:
        sys.exit(guarded(command))
    from promptlib.cli.app import app  # noqa: PLC0415  (start-up: only this path loads it)

    app(prog_name="promptlib")
