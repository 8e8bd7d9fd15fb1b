"""Microsoft Prompty files (`*.prompty`): YAML front matter, then a Jinja2 body whose lines
`system:` / `user:` / `assistant:` start the messages (text before the first marker is the
system message).

Both front matters are read. v1: `authors`, `tags`, `version` at the top, `model: {api,
configuration, parameters}`, `inputs: {name: {type, description, default, sample}}`, `sample`.
v2: `metadata: {authors, tags}`, `model: {id, provider, connection, options}`, `inputs: [{name,
kind, description, required, default, example, enumValues}]`, `template: {format, parser}`.
Export writes v2.

The body already is Jinja2, so it is kept as it is (role lines become headings); its variables
are whatever it reads, described by `inputs`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promptlib.catalog.formats import text
from promptlib.catalog.formats.base import (
    Draft,
    Exported,
    OneFilePerRecipe,
    Skip,
    UnsupportedError,
    apply_extras,
    describe,
    load_yaml,
    mapping,
    plain_value,
    read_text,
    recipe_extras,
    source_files,
    split_front_matter,
    string,
)
from promptlib.recipe.model import Recipe
from promptlib.utils.yamltext import dump_yaml

SUFFIX = ".prompty"
INPUT = "input"
# Prompty's own role boundary, arguments in brackets included.
_ROLE_LINE = re.compile(r"^[ \t]*#?[ \t]*(assistant|function|system|user|tools)"
                        r"(\[[^\]\n]*\])?[ \t]*:[ \t]*$", re.IGNORECASE | re.MULTILINE)
_NOT_MAPPED = ("model", "outputs", "tools", "base", "version", "connection", "response")
_KNOWN = ("name", "displayName", "description", "authors", "tags", "metadata", "inputs",
          "sample", "template", "$schema", "id", *_NOT_MAPPED)


class Prompty(OneFilePerRecipe):
    name = "prompty"

    def find(self, root: Path) -> list[Path]:
        return source_files(root, (SUFFIX,))

    def read(self, path: Path) -> Draft | Skip:
        try:
            front, body = split_front_matter(read_text(path))
            return _draft(path, load_yaml(front, "the front matter"), body)
        except UnsupportedError as exc:
            return Skip(str(path), exc.reason)

    def write(self, recipe: Recipe) -> Exported:
        messages = text.split_messages(recipe.template, plain_role="system")
        if len(messages) == 1 and messages[0][0] == "system":
            body = recipe.template
        else:
            body = "\n".join(f"{role}:\n{content}\n" for role, content in messages)
        first = recipe.examples[0].vars if recipe.examples else {}
        inputs = []
        for var in recipe.variables:
            item: dict[str, Any] = {"name": var.name, "kind": "string"}
            if var.description:
                item["description"] = var.description
            if not var.required or var.default is not None:
                item["required"] = False
            if var.default is not None:
                item["default"] = var.default
            if var.choices:
                item["enumValues"] = list(var.choices)
            if var.name in first:
                item["example"] = first[var.name]
            inputs.append(item)
        metadata: dict[str, Any] = {"tags": list(recipe.tags)}
        if recipe.author:
            metadata["authors"] = [recipe.author]
        metadata["promptlib"] = recipe_extras(recipe, ("max_chars", "truncate"))
        front: dict[str, Any] = {"name": recipe.name, "displayName": recipe.title,
                                 "description": recipe.description.strip(),
                                 "metadata": metadata}
        if inputs:
            front["inputs"] = inputs
        front["template"] = {"format": {"kind": "jinja2"}, "parser": {"kind": "prompty"}}
        notes = ["no model: add `model:` to run it with Prompty"]
        if len(recipe.examples) > 1:
            notes.append(f"only the first of {len(recipe.examples)} examples kept (as inputs' "
                         "`example`)")
        document = "---\n" + dump_yaml(front) + "---\n" + body
        return Exported({f"{recipe.name}{SUFFIX}": document.encode("utf-8")}, notes)



def _draft(path: Path, front: dict[str, Any], body: str) -> Draft | Skip:
    notes: list[str] = []
    engine = _engine(front.get("template"))
    if engine != "jinja2":
        return Skip(str(path), f"a {engine} template: only Jinja2 Prompty files are imported")
    if "![thread]" in body:
        return Skip(str(path), "uses `![thread]` (a conversation thread), which a recipe cannot "
                               "hold")
    try:
        template = _messages(body, notes)
    except UnsupportedError as exc:
        return Skip(str(path), exc.reason)
    metadata = mapping(front, "metadata")
    v2 = bool(metadata) or isinstance(front.get("inputs"), list) or isinstance(
        front.get("template"), dict)
    extras = mapping(metadata, "promptlib")
    variables, examples = _inputs(front.get("inputs"), notes)
    if isinstance(front.get("sample"), dict):
        examples = [{"vars": {str(k): plain_value(v) for k, v in front["sample"].items()}}]
    elif "sample" in front:
        notes.append(f"sample {describe(front['sample'])} (a file reference) not read")
    stdin = string(extras, "stdin") or INPUT
    if stdin in variables:
        variables[stdin]["stdin"] = True
    tags = metadata.get("tags", front.get("tags"))
    authors = metadata.get("authors", front.get("authors"))
    notes += [f"{key}: {describe(front[key])}" for key in _NOT_MAPPED if key in front]
    notes += [f"unknown key {key!r}: {describe(front[key])}" for key in front
              if key not in _KNOWN]
    title = _title(front, path)
    description = text.one_line(string(front, "description"))
    notes.insert(0, f"read as Prompty {'v2' if v2 else 'v1'}")
    draft = Draft(str(path), text.recipe_name(path.stem), title,
                  description or text.first_sentence(body) or title,
                  text.tags([], tags if isinstance(tags, list) else [], "prompty"), template,
                  variables, examples, notes, reconcile=True,
                  author=", ".join(str(a) for a in authors) if isinstance(authors, list)
                  and authors else None)
    apply_extras(draft, extras)
    return draft


def _engine(template: Any) -> str:
    if template is None:
        return "jinja2"
    if isinstance(template, str):
        return template.strip().lower() or "jinja2"
    if isinstance(template, dict):
        fmt = template.get("format")
        kind = fmt.get("kind") if isinstance(fmt, dict) else fmt
        return str(kind or "jinja2").lower()
    return describe(template)


def _messages(body: str, notes: list[str]) -> str:
    """Role lines → headings; text before the first one is the system message."""
    messages: list[tuple[str, str]] = []
    role, pos = "system", 0
    for match in _ROLE_LINE.finditer(body):
        messages.append((role, body[pos:match.start()]))
        role, pos = match.group(1).lower(), match.end()
        if role in ("function", "tools"):
            raise UnsupportedError(f"a `{role}:` section, which a recipe cannot hold")
        if match.group(2):
            notes.append(f"role arguments {match.group(2)} dropped")
    messages.append((role, body[pos:]))
    return text.join_messages(messages, plain_role="system")


def _inputs(inputs: Any, notes: list[str]) -> tuple[dict[str, dict[str, Any]],
                                                     list[dict[str, Any]]]:
    """v1 `{name: {type, …}}` or v2 `[{name, kind, …}]` → variables, and the per-input sample
    or example values as one example."""
    if isinstance(inputs, dict):
        items = [{"name": k, **(v if isinstance(v, dict) else {"kind": v})}
                 for k, v in inputs.items()]
    elif isinstance(inputs, list):
        items = [i for i in inputs if isinstance(i, dict) and isinstance(i.get("name"), str)]
    else:
        items = []
    variables: dict[str, dict[str, Any]] = {}
    sample: dict[str, Any] = {}
    for item in items:
        name = str(item["name"])
        var: dict[str, Any] = {"description": text.one_line(item.get("description") or "")
                               or text.humanize(name)}
        kind = item.get("kind", item.get("type", "string"))
        if kind in ("object", "array"):
            notes.append(f"input {name!r} is an {kind}: imported as text")
        if item.get("default") is not None:
            var["default"] = plain_value(item["default"])
        elif item.get("required") is False:
            var["required"] = False
        enum = item.get("enumValues", item.get("enum"))
        if isinstance(enum, list) and enum:
            var["choices"] = [str(v) for v in enum]
        value = item.get("sample", item.get("example"))
        if value is not None:
            sample[name] = plain_value(value)
        variables[name] = var
    return variables, ([{"vars": sample}] if sample else [])


def _title(front: dict[str, Any], path: Path) -> str:
    for key in ("displayName", "name"):
        value = front.get(key)
        if isinstance(value, str) and value.strip():
            return text.one_line(value) if " " in value.strip() or key == "displayName" \
                else text.humanize(value)
    return text.humanize(path.stem)
