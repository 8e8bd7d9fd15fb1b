"""The command line: one thin function per command (parse → one core call → print)."""

from __future__ import annotations


def main() -> None:
    from promptlib.cli.app import app

    app(prog_name="promptlib")
