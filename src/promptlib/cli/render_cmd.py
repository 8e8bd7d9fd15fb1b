"""render: fill a recipe and print exactly the prompt on stdout."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from promptlib import catalog, console, settings
from promptlib import render as core
from promptlib.cli.app import app
from promptlib.recipe import Recipe, Variable


@app.command()
def render(
    name: Annotated[str, typer.Argument(help="Recipe name, collection/name, or a unique prefix.")],
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
        f"{core.DEFAULT_STDIN_MAX_CHARS:,} characters, unless the variable sets max_chars).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print {id, text, redactions, "
                                          "truncated, variables}.")] = False,
) -> None:
    """Fill a recipe's variables and print the prompt — and nothing else — on stdout."""
    item = catalog.show(name)
    recipe = item.recipe
    inputs = core.gather(recipe, var or [], stdin_is_tty=sys.stdin.isatty(),
                         read_stdin=sys.stdin.read)
    if not no_input and sys.stdin.isatty():
        _ask_missing(recipe, inputs)
    pii = redact_pii or settings.load().redact_pii
    result = core.render(recipe, item.id, inputs, redact=not no_redact, pii=pii,
                         stdin_max_chars=max_chars)
    _report(result)
    if as_json:
        console.json(result.to_dict())
    elif copy:
        from promptlib import clipboard

        method = clipboard.copy(result.text)
        if method:
            console.info(f"copied {len(result.text):,} characters to the clipboard ({method})")
        if not method or also_print:
            if not method:
                console.warn("no clipboard tool and no terminal: printing the prompt instead")
            console.raw(result.text)
    else:
        console.raw(result.text)
    from promptlib import usage_log

    usage_log.append(item.id, item.file.collection)  # the usage log: never the values


def _ask_missing(recipe: Recipe, inputs: core.Inputs) -> None:
    for variable in core.missing(recipe, inputs):
        inputs.set(variable.name, _ask(variable), "prompt")


def _ask(variable: Variable) -> str:
    label = variable.name + (f" ({variable.description})" if variable.description else "")
    if variable.choices:
        label += f" [{'/'.join(variable.choices)}]"
    while True:
        value = str(typer.prompt(label, err=True))
        if not variable.choices or value in variable.choices:
            return value
        console.warn(f"choose one of: {', '.join(variable.choices)}")


def _report(result: core.Rendered) -> None:
    from promptlib import redact

    line = redact.summary(result.redactions)
    if line:
        console.info(line)
    for name, cut in result.truncated.items():
        console.info(f"truncated {name}: cut {cut:,} characters")
