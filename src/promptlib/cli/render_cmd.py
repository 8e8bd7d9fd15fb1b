"""render: fill a recipe and print exactly the prompt on stdout."""

from __future__ import annotations

from typing import Annotated

import typer

from promptlib.cli.render_flow import RenderArgs, run_render
from promptlib.render.fill import DEFAULT_STDIN_MAX_CHARS


def render(
    name: Annotated[str, typer.Argument(help="Recipe name, collection/name, or a unique prefix; "
                                        "NAME@REV renders a version (commit, tag, branch, "
                                        "label, ~N).")],
    var: Annotated[list[str] | None, typer.Option(
        "--var", "-v", metavar="K=V",
        help="A value: K=text, K=@file, or K=- for stdin. Repeatable.")] = None,
    copy: Annotated[bool, typer.Option("--copy", "-c", help="Put the prompt on the clipboard "
                                       "instead of printing it.")] = False,
    also_print: Annotated[bool, typer.Option("--print", help="With --copy, print it "
                                             "too.")] = False,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Keep secrets in the values "
                                            "(redaction is on by default).")] = False,
    redact_pii: Annotated[bool, typer.Option("--redact-pii", help="Also redact emails and "
                                             "public IP addresses.")] = False,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never ask for missing "
                                           "values.")] = False,
    max_chars: Annotated[int | None, typer.Option(
        "--max-chars", min=1, metavar="N", help=f"Bound for piped input (default "
        f"{DEFAULT_STDIN_MAX_CHARS:,} characters, unless the variable sets max_chars).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print {id, text, redactions, "
                                          "truncated, variables, commit}.")] = False,
) -> None:
    """Fill a recipe's variables and print the prompt — and nothing else — on stdout."""
    run_render(RenderArgs(name, var or [], copy=copy, also_print=also_print, no_redact=no_redact,
                          redact_pii=redact_pii, no_input=no_input, max_chars=max_chars,
                          as_json=as_json))
