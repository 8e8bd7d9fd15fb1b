"""GitHub Models prompt files (`*.prompt.yml`): `messages` of {role, content} with `{{name}}`
variables, `testData` rows for `gh models eval`, model and evaluators.

What `gh models` does, and so what a variable is here: it replaces `{{key}}` exactly (no spaces)
for each key it is given, and `{{input}}` is the input; anything else stays text. So `{{name}}`
with an identifier is a variable, and `{{ text }}` with spaces stays literal.
"""

from __future__ import annotations

import re
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
    plain_value,
    read_extras,
    read_text,
    recipe_extras,
    source_files,
    stdin_name,
    string,
)
from promptlib.recipe.model import Recipe
from promptlib.utils.yamltext import dump_yaml

INPUT = "input"
SUFFIXES = (".prompt.yml", ".prompt.yaml")
DEFAULT_MODEL = "openai/gpt-4o-mini"
_TOKEN = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
_NOT_MAPPED = ("model", "modelParameters", "responseFormat", "jsonSchema", "evaluators")
_KNOWN = ("name", "description", "messages", "testData", *_NOT_MAPPED)
ROLES = ("system", "user", "assistant")


class Github(OneFilePerRecipe):
    name = "github"

    def find(self, root: Path) -> list[Path]:
        return source_files(root, SUFFIXES)

    def read(self, path: Path) -> Draft | Skip:
        try:
            source = read_text(path)
            return _draft(path, source, load_yaml(source, "the prompt file"))
        except UnsupportedError as exc:
            return Skip(str(path), exc.reason)

    def write(self, recipe: Recipe) -> Exported:
        stdin = recipe.stdin_variable
        rename = {stdin.name: INPUT} if stdin else {}
        messages = []
        for role, body in text.split_messages(recipe.template, plain_role="user"):
            content = []
            for piece in jinja.variables_only(jinja.parts(body), "GitHub Models"):
                if isinstance(piece, jinja.Var):
                    content.append("{{" + rename.get(piece.name, piece.name) + "}}")
                else:
                    clash = _TOKEN.search(piece.text)
                    if clash:
                        raise UnexpressibleError(f"holds the literal text {clash.group()}, "
                                                 "which gh models would read as a variable")
                    content.append(piece.text)
            messages.append({"role": role, "content": "".join(content)})
        data: dict[str, Any] = {"name": recipe.title, "description": recipe.description.strip(),
                                "model": DEFAULT_MODEL, "messages": messages}
        if recipe.examples:
            data["testData"] = [_row(recipe, dict(e.vars), rename) for e in recipe.examples]
        notes = [f"model {DEFAULT_MODEL} set: a recipe names none; change it to taste"]
        if any(e.expect for e in recipe.examples):
            notes.append("examples' `expect` (checks on the prompt) not kept: gh evaluators "
                         "check the model's answer")
        extras = recipe_extras(recipe, ("description", "default", "required", "choices",
                                        "max_chars", "truncate"))
        document = extras_comment(extras) + dump_yaml(data)
        return Exported({f"{recipe.name}.prompt.yml": document.encode("utf-8")}, notes)



def _row(recipe: Recipe, values: dict[str, Any], rename: dict[str, str]) -> dict[str, Any]:
    """A testData row: every variable given, defaults filled in (gh has no defaults)."""
    row = {}
    for var in recipe.variables:
        value = values.get(var.name, var.default if var.default is not None else "")
        row[rename.get(var.name, var.name)] = value
    return row


def _draft(path: Path, source: str, data: dict[str, Any]) -> Draft | Skip:
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        return Skip(str(path), "no `messages`: nothing to import")
    extras = read_extras(source)
    rename = {INPUT: stdin_name(extras, INPUT)}
    used: list[str] = []
    converted = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if role not in ROLES or not isinstance(content, str):
            return Skip(str(path), f"messages[{i}] is not a {{role: system|user|assistant, "
                                   "content: text}")
        converted.append((role, _convert(content, used, rename)))
    template = text.join_messages(converted, plain_role="user")
    variables: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(used):
        variables[name] = ({"description": "The input gh models takes from stdin or the command "
                                           "line", "stdin": True} if name == rename[INPUT]
                           else {"description": text.humanize(name)})
    notes = [f"{key}: {describe(data[key])}" for key in _NOT_MAPPED if key in data]
    notes += [f"unknown key {key!r}: {describe(data[key])}" for key in data if key not in _KNOWN]
    examples = _examples(data.get("testData"), variables, rename, notes)
    stem = path.name.removesuffix(".yml").removesuffix(".yaml").removesuffix(".prompt")
    title = text.one_line(string(data, "name")) or text.humanize(stem)
    description = text.one_line(string(data, "description"))
    draft = Draft(str(path), text.recipe_name(stem), title,
                  description or text.first_sentence(converted[0][1]) or title,
                  text.tags([], [], "github"), template, variables, examples, notes)
    apply_extras(draft, extras)
    return draft


def _convert(content: str, used: list[str], rename: dict[str, str]) -> str:
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(content):
        name = rename.get(match.group(1), match.group(1))
        out += [text.literal(content[pos:match.start()]), text.variable(name)]
        used.append(name)
        pos = match.end()
    out.append(text.literal(content[pos:]))
    return "".join(out)


def _examples(rows: Any, variables: dict[str, dict[str, Any]], rename: dict[str, str],
              notes: list[str]) -> list[dict[str, Any]]:
    """testData rows → examples: the values of the template's variables. Other keys
    (`expected`, …) are about the model's answer, not the prompt: reported, not kept."""
    if not isinstance(rows, list):
        return []
    examples, extra_keys, incomplete = [], set(), 0
    for row in rows:
        if not isinstance(row, dict):
            continue
        values = {rename.get(str(k), str(k)): plain_value(v) for k, v in row.items()}
        extra_keys |= {k for k in values if k not in variables}
        if not all(name in values for name in variables):
            incomplete += 1
            continue
        examples.append({"vars": {k: v for k, v in values.items() if k in variables}})
    if extra_keys:
        notes.append(f"testData keys {', '.join(sorted(extra_keys))} (about the answer, "
                     "not the prompt)")
    if incomplete:
        notes.append(f"{incomplete} testData row(s) without a value for every variable")
    return examples
