"""redact: the render redactor as a filter for any pipe, and a check for hooks and CI."""

from __future__ import annotations

from typing import Annotated

import typer

from promptlib.cli.redact_flow import RedactArgs, run_redact


def redact(
    files: Annotated[list[str] | None, typer.Argument(
        metavar="[FILE]...", help="Files to read (default: stdin; `-` is stdin too).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Print nothing on stdout; list where "
                                        "each finding is on stderr; exit 4 if any.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings (file, line, "
                                          "column, kind; never the secret) as JSON.")] = False,
    redact_pii: Annotated[bool, typer.Option("--redact-pii", help="Also redact emails, public "
                                             "IP addresses and phone numbers.")] = False,
) -> None:
    """Redact secrets from stdin or files and print the result: `kubectl logs … | promptlib
    redact | pbcopy`. The same detector and allow-lists as render."""
    run_redact(RedactArgs(files or [], check=check, as_json=as_json, redact_pii=redact_pii))
