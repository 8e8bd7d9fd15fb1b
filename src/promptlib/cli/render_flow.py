"""`promptlib render` without Typer: the flow both the Typer command and the fast path run.

On-call pipes a log into `render`; importing Typer and Click costs ~50-60 ms of a whole-process
budget of 2.5x `grep -ril` (~110 ms at 10,000 recipes, DESIGN §6), so a plain render must not
pay for it. `parse_render_args` knows only render's options and returns None for anything
unusual (`--help`, an unknown option, attached short options), which then goes to Typer.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from promptlib.cli import console

if TYPE_CHECKING:
    from collections.abc import Callable

    from promptlib.gitops.versions import Version
    from promptlib.recipe.model import Variable
    from promptlib.render import fill as core
    from promptlib.store.collections import LoadedRecipe

    Asker = Callable[[Variable], str]  # asks for one missing value, returns the answer

_FLAGS = {"--copy": "copy", "-c": "copy", "--print": "also_print", "--no-redact": "no_redact",
          "--redact-pii": "redact_pii", "--no-input": "no_input", "--json": "as_json"}


@dataclass(frozen=True)
class RenderArgs:
    name: str
    variables: Sequence[str] = field(default_factory=list)
    copy: bool = False
    also_print: bool = False
    no_redact: bool = False
    redact_pii: bool = False
    no_input: bool = False
    max_chars: int | None = None
    as_json: bool = False


def parse_render_args(args: Sequence[str]) -> RenderArgs | None:
    """render's arguments, parsed as Click would; None for anything unusual."""
    names: list[str] = []
    variables: list[str] = []
    flags: dict[str, bool] = {}
    max_chars: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            names += rest
            break
        if arg in _FLAGS:
            flags[_FLAGS[arg]] = True
        elif not arg.startswith("-") or arg == "-":
            names.append(arg)
        else:
            option, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
            if option not in ("-v", "--var", "--max-chars") or (not eq and not rest):
                return None
            value = value if eq else rest.pop(0)
            (max_chars if option == "--max-chars" else variables).append(value)
    if len(names) != 1 or (max_chars and not (max_chars[-1].isdigit()
                                               and int(max_chars[-1]) >= 1)):
        return None
    return RenderArgs(names[0], variables, max_chars=int(max_chars[-1]) if max_chars else None,
                      **flags)


def run_render(args: RenderArgs, *, ask: Asker | None = None, via: str = "cli") -> None:
    """Find the recipe, gather values (asking on a terminal), render, print or copy, log usage.

    `ask` asks for one missing value (default: a line on this terminal, when stdin is one);
    `pick` passes its own, and `via` says in the usage log which way the render came."""
    from promptlib.catalog import recipes as catalog  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.render import fill as core  # noqa: PLC0415  (start-up: only this path loads it)

    shown = catalog.show_version(args.name)
    item, recipe = shown.item, shown.item.recipe
    if shown.version is not None:
        console.info(version_note(shown.item.id, shown.version))
    inputs = core.gather(recipe, args.variables, stdin=sys.stdin.buffer,
                         stdin_is_tty=sys.stdin.isatty(), max_chars=args.max_chars)
    if ask is None and sys.stdin.isatty():
        ask = _ask
    if not args.no_input and ask is not None:
        for variable in core.missing(recipe, inputs):
            inputs.set(variable.name, ask(variable), "prompt")
    result = fill(item, inputs, no_redact=args.no_redact, redact_pii=args.redact_pii,
                  max_chars=args.max_chars)
    _report(result, inputs)
    if args.as_json:
        console.json({**result.to_dict(),
                      "commit": shown.version.commit if shown.version else None})
    elif args.copy:
        _copy(result.text, also_print=args.also_print)
    else:
        console.raw(result.text)
    count(item, via=via, commit=shown.version.commit if shown.version else None,
          blob=shown.blob)


def fill(item: LoadedRecipe, inputs: core.Inputs, *, no_redact: bool = False,
         redact_pii: bool = False, max_chars: int | None = None) -> core.Rendered:
    """The non-interactive heart of `render`, shared with `promptlib mcp`: the configured PII
    setting, redaction, bounds and truncation, the sandbox. Prints and asks nothing."""
    from promptlib import settings  # noqa: PLC0415  (start-up: only this path loads it)
    from promptlib.render import fill as core  # noqa: PLC0415  (start-up: only this path loads it)

    user = settings.load()
    allow = None
    if not no_redact:
        from promptlib.store import allow_lists  # noqa: PLC0415  (start-up: only this path loads it)

        allow = allow_lists.for_collection(item.file.root, user)
    return core.render(item.recipe, item.id, inputs, redact=not no_redact,
                       pii=redact_pii or user.redact_pii, max_chars=max_chars, allow=allow)


def count(item: LoadedRecipe, *, via: str = "cli", commit: str | None = None,
          blob: str | None = None) -> None:
    """Log one render in the usage log (`via`: how it was made; `commit`/`blob`: which version)
    — never the values."""
    from promptlib.metrics import usage_log  # noqa: PLC0415  (start-up: only this path loads it)

    usage_log.append(item.id, item.file.collection, via=via, commit=commit, blob=blob)


def version_note(recipe_id: str, version: Version) -> str:
    """`rendering local/log-triage at 4b1e266 (2026-11-27, Jane Doe: Edit log-triage: …)`."""
    return (f"rendering {recipe_id} at {version.short} ({version.date[:10]}, {version.author}: "
            f"{version.message})")


def _copy(text: str, *, also_print: bool) -> None:
    from promptlib.cli import clipboard  # noqa: PLC0415  (start-up: only this path loads it)

    method = clipboard.copy(text)
    if method:
        console.info(f"copied {len(text):,} characters to the clipboard ({method})")
    else:
        console.warn("no clipboard tool and no terminal: printing the prompt instead")
    if not method or also_print:
        console.raw(text)


def question(variable: Variable) -> str:
    """How a missing value is asked for: its name, and its description when it has one."""
    return variable.name + (f" ({variable.description})" if variable.description else "")


def _ask(variable: Variable) -> str:
    label = question(variable)
    if variable.choices:
        label += f" [{'/'.join(variable.choices)}]"
    while True:
        value = console.ask(label)
        if value and (not variable.choices or value in variable.choices):
            return value
        if variable.choices:
            console.warn(f"choose one of: {', '.join(variable.choices)}")


def _report(result: core.Rendered, inputs: core.Inputs) -> None:
    from promptlib.redact import detector as redact  # noqa: PLC0415  (start-up: only this path loads it)

    line = redact.summary(result.redactions)
    if line:
        console.info(line)
    for name, cut in result.truncated.items():
        if name in inputs.unfinished:
            console.info(f"truncated {name}: cut at least {cut:,} characters (the input was "
                         "too large to read to its end)")
        else:
            console.info(f"truncated {name}: cut {cut:,} characters")
