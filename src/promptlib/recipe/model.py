"""The recipe model (DESIGN §2): what a recipe holds, its rules, and how it checks its template.

Pure: no I/O. `recipe.loader.load` reads a recipe's bytes into one; `dump` writes YAML that
`load` reads back to an equal recipe. Checking a template against its variables needs the
sandbox, which is a sibling of this package, so the catalog does it (`catalog.recipes`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from promptlib.errors import InvalidError, RecipeError
from promptlib.utils.yamltext import dump_yaml

if TYPE_CHECKING:
    pass

NAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
VARIABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
SHARED_FROM_RE = re.compile(rf"({NAME_RE.pattern})/({NAME_RE.pattern})")
FORMAT_VERSION = 1
TRUNCATE_MODES = ("head", "tail", "middle")
# Names Jinja2 already gives a meaning to: a variable called `range` would shadow the builtin.
RESERVED_VARIABLES = frozenset(
    {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop", "self", "caller",
     "varargs", "kwargs", "true", "false", "none", "True", "False", "None"}
)

TOP_LEVEL_KEYS = (
    "name", "title", "description", "tags", "variables", "template", "examples", "author",
    "shared_from", "format",
)
REQUIRED_KEYS = ("name", "title", "description", "tags", "template")
VARIABLE_KEYS = ("description", "required", "default", "choices", "stdin", "max_chars", "truncate")
EXAMPLE_KEYS = ("vars", "expect")

Scalar = str | int | float | bool
Value = str | int | float | bool | list[str]
Truncate = Literal["head", "tail", "middle"]



def is_valid_name(name: str) -> bool:
    """The recipe and collection name rule: lowercase ASCII slug, 1-64 characters."""
    return NAME_RE.fullmatch(name) is not None


def check_name(name: str, what: str = "recipe name") -> str:
    """Return `name` if it follows the rule, else raise. Called before a name touches a path."""
    if not is_valid_name(name):
        shown = name.encode("unicode_escape").decode("ascii")
        raise InvalidError(
            f"invalid {what} {shown!r}: use 1-64 lowercase letters, digits and inner hyphens"
        )
    return name


@dataclass(frozen=True)
class Variable:
    name: str
    description: str = ""
    required: bool = True
    default: Scalar | None = None
    choices: tuple[str, ...] = ()
    stdin: bool = False
    max_chars: int | None = None
    truncate: Truncate = "tail"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.description:
            out["description"] = self.description
        if self.default is not None:
            out["default"] = self.default
        elif not self.required:
            out["required"] = False
        if self.choices:
            out["choices"] = list(self.choices)
        if self.stdin:
            out["stdin"] = True
        if self.max_chars is not None:
            out["max_chars"] = self.max_chars
            out["truncate"] = self.truncate
        return out


@dataclass(frozen=True)
class Example:
    vars: Mapping[str, Value]
    expect: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    template: str
    variables: tuple[Variable, ...] = ()
    examples: tuple[Example, ...] = ()
    author: str | None = None
    shared_from: str | None = None
    format: int = FORMAT_VERSION
    # Where the template starts in its file, so template errors can name a file line.
    template_line: int | None = field(default=None, compare=False)

    @property
    def use_case(self) -> str:
        return self.tags[0]

    def variable(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)

    @property
    def stdin_variable(self) -> Variable | None:
        return next((v for v in self.variables if v.stdin), None)

    def to_dict(self) -> dict[str, Any]:
        """The recipe's fields in file order; empty optional fields left out."""
        out: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
        }
        if self.variables:
            out["variables"] = {v.name: v.to_dict() for v in self.variables}
        out["template"] = self.template
        if self.examples:
            out["examples"] = [
                {"vars": dict(e.vars), "expect": list(e.expect)} for e in self.examples
            ]
        if self.author:
            out["author"] = self.author
        if self.shared_from:
            out["shared_from"] = self.shared_from
        out["format"] = self.format
        return out

    def dump(self) -> str:
        """The recipe as YAML text that `load` reads back to an equal recipe."""
        return dump_yaml(self.to_dict())

    def check_variables_used(self, used: frozenset[str]) -> None:
        declared = {v.name for v in self.variables}
        undeclared = sorted(used - declared)
        if undeclared:
            raise RecipeError(
                f"template uses undeclared variable(s): {', '.join(undeclared)}",
                line=self.template_line,
                field="template",
                hint="declare them under `variables:`",
            )
        unused = sorted(declared - used)
        if unused:
            raise RecipeError(
                f"declared variable(s) not used in the template: {', '.join(unused)}",
                line=self.template_line,
                field="variables",
            )
