"""simonw/llm templates: one YAML file each, `prompt` and/or `system` with `$name`/`${name}`
variables (Python's string.Template; `$$` is a literal `$`), `defaults` for their values.

What llm does with the input, and so where the stdin variable goes: `$input` is the piped input;
a template with only `system` uses the input as the whole user prompt; a `prompt` without
`$input` gets the input appended after a newline.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from promptlib.catalog.formats import jinja, text
from promptlib.catalog.formats.base import (
    Draft,
    Exported,
    OneFilePerRecipe,
    Skip,
    UnexpressibleError,
    UnsupportedError,
    apply_extras,
    describe,
    extras_comment,
    load_yaml,
    mapping,
    plain_value,
    read_extras,
    read_text,
    recipe_extras,
    source_files,
    stdin_name,
)
from promptlib.recipe.model import Recipe, Variable
from promptlib.utils.yamltext import dump_yaml

INPUT = "input"
SUFFIXES = (".yaml", ".yml")
_NOT_MAPPED = ("model", "options", "schema_object", "extract", "extract_last", "fragments",
               "system_fragments", "attachments", "attachment_types", "tools", "functions")
_KNOWN = ("name", "prompt", "system", "defaults", *_NOT_MAPPED)
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_]")


class Llm(OneFilePerRecipe):
    name = "llm"

    def find(self, root: Path) -> list[Path]:
        return source_files(root, SUFFIXES)

    def read(self, path: Path) -> Draft | Skip:
        try:
            source = read_text(path)
            return _draft(path, source, load_yaml(source, "the template"))
        except UnsupportedError as exc:
            return Skip(str(path), exc.reason)

    def write(self, recipe: Recipe) -> Exported:
        stdin = recipe.stdin_variable
        rename = {stdin.name: INPUT} if stdin else {}
        data: dict[str, Any] = {}
        for role, body in text.split_messages(recipe.template, plain_role="user"):
            pieces = jinja.variables_only(_without_appended_input(jinja.parts(body), stdin),
                                          "llm")
            key = {"system": "system", "user": "prompt"}.get(role)
            if key is None or key in data:
                raise UnexpressibleError(f"a second {role} message: an llm template holds one "
                                         "system prompt and one prompt")
            data[key] = _dollar(pieces, rename)
        if "system" in data and data.get("prompt") == "$" + INPUT:
            del data["prompt"]  # llm sends the input as the prompt of a system-only template
        defaults = {v.name: v.default if v.default is not None else ""
                    for v in recipe.variables if not v.stdin and (v.default is not None
                                                                  or not v.required)}
        if defaults:
            data["defaults"] = defaults
        # llm has no place for descriptions, choices or examples: the comment line keeps them.
        extras = recipe_extras(recipe, ("description", "choices", "max_chars", "truncate",
                                        "required"), examples=True)
        document = extras_comment(extras) + dump_yaml(data)
        return Exported({f"{recipe.name}.yaml": document.encode("utf-8")})



def _draft(path: Path, source: str, data: dict[str, Any]) -> Draft | Skip:
    prompt, system = data.get("prompt"), data.get("system")
    if not isinstance(prompt, str | None) or not isinstance(system, str | None):
        return Skip(str(path), "`prompt` and `system` must be text")
    if not (prompt or "").strip() and not (system or "").strip():
        return Skip(str(path), "neither `prompt` nor `system`: nothing to import")
    extras = read_extras(source)
    rename = {INPUT: stdin_name(extras, INPUT)}
    used: list[str] = []
    notes: list[str] = []
    system_t = _convert(system or "", used, notes, rename)
    prompt_t = _convert(prompt or "", used, notes, rename)
    uses_input = rename[INPUT] in used
    stdin = text.variable(rename[INPUT])
    if not (prompt or "").strip():
        prompt_t = stdin  # llm: the input is the prompt of a system-only template
    elif not uses_input:
        # llm appends the input after a newline, when there is one.
        prompt_t += "{% if " + rename[INPUT] + " %}\n" + stdin + "{% endif %}"
    used.append(rename[INPUT])
    template = text.join_messages([("system", system_t), ("user", prompt_t)], plain_role="user")
    defaults = mapping(data, "defaults")
    variables: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(used):
        if name == rename[INPUT]:
            variables[name] = {"description": "The input llm takes from stdin or the command "
                                              "line", "stdin": True}
            if (prompt or "").strip() and not uses_input:
                variables[name]["required"] = False
            continue
        variables[name] = {"description": text.humanize(name)}
        if name in defaults:
            variables[name]["default"] = plain_value(defaults[name])
    notes += [f"default for {k!r}, which no prompt uses, dropped" for k in defaults
              if k not in variables]
    notes += [f"{key}: {describe(data[key])}" for key in _NOT_MAPPED if key in data]
    notes += [f"unknown key {key!r}: {describe(data[key])}" for key in data if key not in _KNOWN]
    body = system or prompt or ""
    title = text.humanize(path.stem)
    draft = Draft(str(path), text.recipe_name(path.stem), title,
                  text.first_sentence(body) or title, text.tags([], [], "llm"), template,
                  variables, notes=notes)
    apply_extras(draft, extras)
    return draft


def _without_appended_input(pieces: list[jinja.Part], stdin: Variable | None) -> list[jinja.Part]:
    """`…{% if input %}\n{{ input }}{% endif %}` at the end is what llm does by itself with the
    input of a prompt that does not place it: leave it to llm."""
    if stdin is None or len(pieces) < 4:
        return pieces
    tail = [jinja.Block("if", stdin.name), jinja.Text("\n"), jinja.Var(stdin.name),
            jinja.Block("endif")]
    return pieces[:-4] if pieces[-4:] == tail else pieces


def _convert(source: str, used: list[str], notes: list[str], rename: dict[str, str]) -> str:
    """string.Template text → Jinja2: `$name`/`${name}` variables, `$$` a literal `$`."""
    out: list[str] = []
    pos = 0
    for match in string.Template.pattern.finditer(source):
        out.append(text.literal(source[pos:match.start()]))
        pos = match.end()
        name = match.group("named") or match.group("braced")
        if match.group("escaped") is not None:
            out.append("$")
        elif name is not None:
            name = rename.get(name, name)
            out.append(text.variable(name))
            used.append(name)
        else:
            out.append("$")
            notes.append("a `$` llm cannot substitute (llm would stop on it) kept as text")
    out.append(text.literal(source[pos:]))
    return "".join(out)


def _dollar(pieces: list[jinja.Text | jinja.Var], rename: dict[str, str]) -> str:
    """Pieces → string.Template text."""
    out: list[str] = []
    for i, piece in enumerate(pieces):
        if isinstance(piece, jinja.Text):
            out.append(piece.text.replace("$", "$$"))
            continue
        name = rename.get(piece.name, piece.name)
        after = pieces[i + 1] if i + 1 < len(pieces) else None
        joined = isinstance(after, jinja.Text) and _IDENT_CHAR.match(after.text[:1])
        out.append("${" + name + "}" if joined else "$" + name)
    return "".join(out)
