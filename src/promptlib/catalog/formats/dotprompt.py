"""Google Dotprompt files (`*.prompt`): YAML front matter (`model`, `config`, `input: {schema,
default}`, `output`, `metadata`), then a Handlebars body with `{{role "…"}}` markers.

The variables are the input schema's fields, in Picoschema (`name?: string, description`,
`kind(enum, description): [A, B]`, `tags(array): string`) or JSON Schema; `?` makes one
optional, `input.default` gives defaults. Names the body reads that the schema does not declare
are declared too (Handlebars would render them empty), and said so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from promptlib.catalog.formats import handlebars, text
from promptlib.catalog.formats.base import (
    Draft,
    Exported,
    OneFilePerRecipe,
    Skip,
    UnexpressibleError,
    UnsupportedError,
    apply_extras,
    describe,
    listing,
    load_yaml,
    mapping,
    plain_value,
    read_text,
    recipe_extras,
    source_files,
    split_front_matter,
    string,
)
from promptlib.recipe.model import Recipe, Variable
from promptlib.utils.yamltext import dump_yaml

SUFFIX = ".prompt"
INPUT = "input"
_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\?)?(?:\(([a-z]+)(?:,\s*(.*))?\))?", re.DOTALL)
_SCALARS = ("string", "number", "integer", "boolean", "null", "any")
_NOT_MAPPED = ("model", "config", "tools", "output", "variant", "raw", "toolChoice")
_KNOWN = ("name", "description", "input", "metadata", *_NOT_MAPPED)


class Dotprompt(OneFilePerRecipe):
    name = "dotprompt"

    def find(self, root: Path) -> list[Path]:
        return source_files(root, (SUFFIX,))

    def read(self, path: Path) -> Draft | Skip:
        try:
            front, body = split_front_matter(read_text(path))
            return _draft(path, load_yaml(front, "the front matter"), body)
        except UnsupportedError as exc:
            return Skip(str(path), exc.reason)

    def write(self, recipe: Recipe) -> Exported:
        messages = text.split_messages(recipe.template, plain_role="user")
        if len(messages) == 1 and messages[0][0] == "user":
            body = handlebars.from_jinja(recipe.template)
        else:
            body = "\n".join("{{role \"" + {"assistant": "model"}.get(role, role) + "\"}}\n"
                             + handlebars.from_jinja(content + "\n")
                             for role, content in messages)
        schema = {_field_key(v): _field_value(v) for v in recipe.variables}
        defaults = {v.name: v.default for v in recipe.variables if v.default is not None}
        front: dict[str, Any] = {}
        if schema:
            front["input"] = {"schema": schema, **({"default": defaults} if defaults else {})}
        front["metadata"] = {"title": recipe.title, "description": recipe.description.strip(),
                             "tags": list(recipe.tags),
                             "promptlib": recipe_extras(recipe, ("max_chars", "truncate"),
                                                        examples=True)}
        document = "---\n" + dump_yaml(front) + "---\n" + body
        return Exported({f"{recipe.name}{SUFFIX}": document.encode("utf-8")},
                        ["no model: add `model:` to run it with Dotprompt"])



# --- import --------------------------------------------------------------------------------------


def _draft(path: Path, front: dict[str, Any], body: str) -> Draft | Skip:
    notes: list[str] = []
    try:
        messages = handlebars.to_jinja(body)
        schema = mapping(front, "input").get("schema")
        variables = _schema(schema, notes)
    except UnsupportedError as exc:
        return Skip(str(path), exc.reason)
    for name, value in mapping(mapping(front, "input"), "default").items():
        if name in variables:
            variables[name]["default"] = plain_value(value)
            variables[name].pop("required", None)
    metadata = mapping(front, "metadata")
    extras = mapping(metadata, "promptlib")
    stdin = string(extras, "stdin") or INPUT
    if stdin in variables:
        variables[stdin]["stdin"] = True
    notes += [f"{key}: {describe(front[key])}" for key in _NOT_MAPPED if key in front]
    notes += [f"unknown key {key!r}: {describe(front[key])}" for key in front
              if key not in _KNOWN]
    template = text.join_messages(messages, plain_role="user")
    description = text.one_line(string(front, "description") or string(metadata, "description"))
    tags = listing(metadata, "tags")
    title = text.one_line(string(metadata, "title")) or text.humanize(path.stem)
    draft = Draft(str(path), text.recipe_name(path.stem), title,
                  description or text.first_sentence(body) or title,
                  text.tags([], tags, "dotprompt"), template, variables, notes=notes,
                  reconcile=True)
    apply_extras(draft, extras)
    return draft


def _schema(schema: Any, notes: list[str]) -> dict[str, dict[str, Any]]:
    """Input schema (Picoschema or JSON Schema) → variables."""
    if schema is None:
        return {}
    if isinstance(schema, str):
        notes.append(f"input schema {schema!r} is a named schema: its fields are not known here")
        return {}
    if not isinstance(schema, dict):
        raise UnsupportedError("input.schema is neither Picoschema nor JSON Schema")
    if schema.get("type") == "object" or isinstance(schema.get("properties"), dict):
        return _json_schema(schema)
    variables: dict[str, dict[str, Any]] = {}
    for key, value in schema.items():
        if key == "(*)":
            notes.append("wildcard input fields (*) not kept")
            continue
        name, var = _picofield(str(key), value, notes)
        variables[name] = var
    return variables


def _picofield(key: str, value: Any, notes: list[str]) -> tuple[str, dict[str, Any]]:
    """One Picoschema field: `name?(kind, description): value` or `name?: type, description`."""
    match = _FIELD.fullmatch(key)
    if match is None:
        raise UnsupportedError(f"input field {key!r} is not Picoschema")
    name, optional, kind, description = match.groups()
    var: dict[str, Any] = {}
    if kind == "enum":
        if not isinstance(value, list):
            raise UnsupportedError(f"input field {key!r}: an enum lists its values")
        var["choices"] = [str(v) for v in value if v is not None]
    elif kind == "object" or isinstance(value, dict):
        raise UnsupportedError(f"input field {name!r} is an object; a recipe's variables are "
                               "plain values")
    elif kind == "array":
        notes.append(f"input {name!r} is an array: imported as a list variable")
    else:
        kind, _, description = str(value).partition(",")
        if kind.strip() not in _SCALARS:
            raise UnsupportedError(f"input field {name!r} has an unknown type {kind.strip()!r}")
    out: dict[str, Any] = {"description": text.one_line(description or "")
                           or text.humanize(name), **var}
    if optional:
        out["required"] = False
    return name, out


def _json_schema(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    required = listing(schema, "required")
    variables: dict[str, dict[str, Any]] = {}
    for name, raw in (schema.get("properties") or {}).items():
        prop = raw if isinstance(raw, dict) else {}
        if prop.get("type") == "object":
            raise UnsupportedError(f"input field {name!r} is an object; a recipe's variables are "
                              "plain values")
        var: dict[str, Any] = {"description": text.one_line(prop.get("description") or "")
                               or text.humanize(str(name))}
        if isinstance(prop.get("enum"), list):
            var["choices"] = [str(v) for v in prop["enum"] if v is not None]
        if prop.get("default") is not None:
            var["default"] = plain_value(prop["default"])
        elif name not in required:
            var["required"] = False
        variables[str(name)] = var
    return variables


# --- export --------------------------------------------------------------------------------------


def _field_key(var: Variable) -> str:
    optional = "?" if (not var.required or var.default is not None) else ""
    if var.choices:
        description = var.description.replace("(", "[").replace(")", "]")
        return f"{var.name}{optional}(enum, {description})" if description \
            else f"{var.name}{optional}(enum)"
    return var.name + optional


def _field_value(var: Variable) -> Any:
    if var.choices:
        return list(var.choices)
    kind = {bool: "boolean", int: "number", float: "number"}.get(type(var.default), "string")
    if "\n" in var.description:
        raise UnexpressibleError(f"variable {var.name}'s description spans lines")
    return f"{kind}, {var.description}" if var.description else kind
