"""Filling a recipe: where each value comes from, bounding and cleaning it, redacting, rendering.

Order matters: values are redacted *before* truncation, so a cut can never split a credential
and leave the half the detector would no longer recognise; and both happen before rendering,
where values are only ever data (the sandbox never evaluates them as template).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from promptlib.errors import InvalidError, UsageError
from promptlib.recipe.model import Recipe, Value, Variable
from promptlib.render.reading import MAX_READ_BYTES, has_content, input_waiting, read_bounded
from promptlib.utils.text import CONTROL_CHARS

if TYPE_CHECKING:
    from promptlib.redact.allow import AllowList

Source = Literal["flag", "file", "stdin", "default", "prompt"]

# Piped input with no max_chars of its own is kept to this many characters (about 50k tokens):
# a runaway `kubectl logs` must not produce a prompt no model will take.
DEFAULT_STDIN_MAX_CHARS = 200_000


@dataclass(frozen=True)
class Assignment:
    """One `-v K=V`, `-v K=@file` or `-v K=-`."""

    name: str
    kind: Literal["literal", "file", "stdin"]
    payload: str

    @classmethod
    def parse(cls, item: str) -> Assignment:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"-v {item!r}: expected NAME=VALUE, NAME=@FILE or NAME=-")
        if value == "-":
            return cls(name, "stdin", "")
        if value.startswith("@") and len(value) > 1:
            return cls(name, "file", value[1:])
        return cls(name, "literal", value)


@dataclass
class Inputs:
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    # Characters a bounded read already left out, per variable: they count in the cut reported.
    dropped: dict[str, int] = field(default_factory=dict)
    # Variables whose input was too large to read to its end (render_input.MAX_READ_BYTES).
    unfinished: set[str] = field(default_factory=set)

    def set(self, name: str, value: str, source: Source) -> None:
        self.values[name] = value
        self.sources[name] = source


@dataclass(frozen=True)
class Rendered:
    id: str
    text: str
    redactions: dict[str, int]
    truncated: dict[str, int]
    variables: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "redactions": self.redactions,
                "truncated": self.truncated, "variables": self.variables}


def gather(recipe: Recipe, assignments: Sequence[str], *, stdin: BinaryIO, stdin_is_tty: bool,
           max_chars: int | None = None) -> Inputs:
    """Collect values from flags, files and stdin (DESIGN §4 "Render input rules").

    Piped stdin fills the variable marked `stdin: true`, else the only required variable still
    unset; an empty pipe is no value. Stdin is only read when some variable could take it, so a
    fully specified render never waits on an inherited pipe — but input already waiting there
    that no variable takes is refused (InvalidError), never silently dropped. Files and stdin
    are read with bounded memory: the variable's `max_chars`, else `max_chars`, else the
    default bound.
    """
    inputs = Inputs()
    stdin_used = False
    for item in assignments:
        a = Assignment.parse(item)
        variable = _declared(recipe, a.name)
        if a.kind == "stdin":
            if stdin_used:
                raise UsageError("stdin can fill only one variable (`-v NAME=-` given twice)")
            stdin_used = True
            _read_into(inputs, variable, stdin, "stdin", max_chars)
        elif a.kind == "file":
            with _open_file(a.name, a.payload) as handle:
                _read_into(inputs, variable, handle, "file", max_chars)
        else:
            inputs.set(a.name, a.payload, "flag")
    if stdin_used or stdin_is_tty:
        return inputs
    if not _stdin_candidates(recipe, inputs):
        if input_waiting(stdin):
            raise _unused_stdin(recipe)
        return inputs
    start = has_content(stdin)
    if start is not None:
        target = _stdin_target(recipe, inputs)
        _read_into(inputs, target, stdin, "stdin", max_chars, prefix=start)
    return inputs


def literal_inputs(recipe: Recipe, values: Mapping[str, str]) -> Inputs:
    """Values given as plain text (`promptlib mcp`): each is what `-v NAME=VALUE` would set, and
    never a file or stdin, whatever it starts with."""
    inputs = Inputs()
    for name, value in values.items():
        inputs.set(_declared(recipe, name).name, value, "flag")
    return inputs


def _read_into(inputs: Inputs, variable: Variable, stream: BinaryIO, source: Source,
               max_chars: int | None, prefix: bytes = b"") -> None:
    limit = variable.max_chars or max_chars or DEFAULT_STDIN_MAX_CHARS
    text, dropped, complete = read_bounded(stream, limit, variable.truncate, prefix=prefix)
    inputs.set(variable.name, text, source)
    if dropped:
        inputs.dropped[variable.name] = dropped
    if not complete:
        inputs.unfinished.add(variable.name)


def _open_file(name: str, path: str) -> BinaryIO:
    try:
        return Path(path).expanduser().open("rb")
    except OSError as exc:
        raise InvalidError(f"-v {name}=@{path}: cannot read the file: {exc.strerror}") from None


def _stdin_candidates(recipe: Recipe, inputs: Inputs) -> list[Variable]:
    """The variables piped input could fill: the one marked `stdin: true` (unless -v set it),
    else the required ones still unset."""
    marked = recipe.stdin_variable
    if marked is not None:
        return [marked] if marked.name not in inputs.values else []
    return [v for v in recipe.variables if v.required and v.name not in inputs.values]


def _unused_stdin(recipe: Recipe) -> InvalidError:
    """Input is waiting on stdin and no variable takes it: refused rather than dropped."""
    marked = recipe.stdin_variable
    if marked is not None:
        return InvalidError(f"stdin was piped in, but {marked.name!r} (the variable that takes "
                            "stdin) is already set with -v",
                            hint=f"drop `-v {marked.name}=…` to use the piped input, or "
                                 "redirect stdin from /dev/null")
    names = ", ".join(v.name for v in recipe.variables) or "none"
    return InvalidError(f"stdin holds input, but no variable of {recipe.name} takes it (none "
                        "is marked stdin, and every required one is set)",
                        hint=f"to use it, pass `-v NAME=-` for one of: {names}; to leave it "
                             "out, redirect stdin from /dev/null")


def _declared(recipe: Recipe, name: str) -> Variable:
    variable = recipe.variable(name)
    if variable is None:
        known = ", ".join(v.name for v in recipe.variables) or "none"
        raise InvalidError(f"{recipe.name} has no variable {name!r} (it takes: {known})")
    return variable


def _stdin_target(recipe: Recipe, inputs: Inputs) -> Variable:
    marked = recipe.stdin_variable
    if marked is not None:
        return marked  # unset: `_stdin_candidates` leaves out a marked variable -v set
    unset = _stdin_candidates(recipe, inputs)
    if len(unset) == 1:
        return unset[0]
    names = ", ".join(v.name for v in unset)
    raise InvalidError(f"stdin was piped in, but it could fill any of: {names}",
                     hint="say which with `-v NAME=-`")


def missing(recipe: Recipe, inputs: Inputs) -> list[Variable]:
    """Required variables with neither a value nor a default, in display order."""
    return [v for v in recipe.variables
            if v.required and v.default is None and v.name not in inputs.values]


def missing_error(recipe: Recipe, absent: Sequence[Variable]) -> InvalidError:
    lines = [f"{v.name}" + (f" ({v.description})" if v.description else "") for v in absent]
    return InvalidError(
        f"{recipe.name} needs a value for: " + "; ".join(lines),
        hint="pass them with -v NAME=VALUE, -v NAME=@FILE, or pipe the main input in",
    )


def render(recipe: Recipe, recipe_id: str, inputs: Inputs, *, redact: bool = True,
           pii: bool = False, max_chars: int | None = None,
           allow: AllowList | None = None) -> Rendered:
    """Clean, redact, truncate and render. Raises InvalidError for a missing or bad value."""
    absent = missing(recipe, inputs)
    if absent:
        raise missing_error(recipe, absent)
    values: dict[str, Value] = {}
    redactions: dict[str, int] = {}
    truncated: dict[str, int] = {}
    report: dict[str, dict[str, Any]] = {}
    for variable in recipe.variables:
        if variable.name in inputs.values:
            source: Source = inputs.sources[variable.name]
            text = _clean(inputs.values[variable.name])
            _check_choice(variable, text)
            if redact:
                text = _redact_into(text, redactions, pii=pii, allow=allow)
            limit = variable.max_chars or (
                (max_chars or DEFAULT_STDIN_MAX_CHARS) if source in ("stdin", "file") else None)
            text, cut = truncate(text, limit, variable.truncate,
                                 already_cut=inputs.dropped.get(variable.name, 0),
                                 unfinished=variable.name in inputs.unfinished)
            if cut:
                truncated[variable.name] = cut
            values[variable.name] = text
        else:
            source = "default"
            values[variable.name] = variable.default if variable.default is not None else ""
        report[variable.name] = {"source": source, "chars": len(str(values[variable.name]))}
    from promptlib.sandbox import api as sandbox  # noqa: PLC0415  (start-up: only this path loads it)

    # The loader refuses control characters in recipes, but a Jinja2 string literal can still
    # spell one ('\x1b'): the prompt that reaches a terminal or clipboard holds none.
    text = CONTROL_CHARS.sub("", sandbox.render_template(recipe.template, _plain(values)))
    return Rendered(recipe_id, text, redactions, truncated, report)


def render_example(recipe: Recipe, example_vars: Mapping[str, Value]) -> str:
    """An example's prompt, as `lint` checks it: example values over defaults, no redaction."""
    from promptlib.sandbox import api as sandbox  # noqa: PLC0415  (start-up: only this path loads it)

    unknown = sorted(set(example_vars) - {v.name for v in recipe.variables})
    if unknown:
        raise InvalidError(f"sets undeclared variable(s): {', '.join(unknown)}")
    values: dict[str, Value] = {}
    for variable in recipe.variables:
        if variable.name in example_vars:
            values[variable.name] = example_vars[variable.name]
        elif variable.default is not None:
            values[variable.name] = variable.default
        elif variable.required:
            raise InvalidError(f"gives no value for required variable {variable.name!r}")
        else:
            values[variable.name] = ""
    return sandbox.render_template(recipe.template, _plain(values))


def _plain(values: Mapping[str, Value]) -> dict[str, str | int | bool | list[str]]:
    """Only str, int, bool and list[str] enter a template; a YAML float becomes its text."""
    return {k: str(v) if isinstance(v, float) else v for k, v in values.items()}


def _clean(text: str) -> str:
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return CONTROL_CHARS.sub("", text)


def _check_choice(variable: Variable, value: str) -> None:
    if variable.choices and value not in variable.choices:
        raise InvalidError(f"{variable.name}={value!r} is not allowed; choose one of: "
                           + ", ".join(variable.choices))


def _redact_into(text: str, counts: dict[str, int], *, pii: bool,
                 allow: AllowList | None) -> str:
    from promptlib.redact import detector as redact  # noqa: PLC0415  (start-up: only this path loads it)

    cleaned, found = redact.redact(text, pii=pii, allow=allow)
    for kind, n in found.items():
        counts[kind] = counts.get(kind, 0) + n
    return cleaned


def truncate(text: str, limit: int | None, mode: str, *, already_cut: int = 0,
             unfinished: bool = False) -> tuple[str, int]:
    """Keep `limit` characters (head, tail or both ends); a line of its own says what was cut,
    counting `already_cut` characters that a bounded read left out before (`unfinished`: and
    more that it never read)."""
    if limit is None or (len(text) <= limit and not already_cut):
        return text, 0
    limit = min(limit, len(text))
    cut = len(text) - limit + already_cut
    marker = f"[… promptlib cut {cut} characters here …]" if not unfinished else (
        f"[… promptlib cut {cut} characters here, and read no further than "
        f"{MAX_READ_BYTES >> 20} MiB …]")
    if mode == "head":
        return f"{text[:limit]}\n{marker}\n", cut
    if mode == "middle":
        half = limit // 2
        return f"{text[:half]}\n{marker}\n{text[len(text) - (limit - half):]}", cut
    return f"{marker}\n{text[len(text) - limit:]}", cut
