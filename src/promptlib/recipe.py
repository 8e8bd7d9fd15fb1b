"""The recipe model and its strict loader (DESIGN §2).

Pure: bytes in, a `Recipe` or a `RecipeError` out. The YAML is *composed* (never constructed) with
the C loader, and this module builds the values itself from the node tree, so it sees every
line number, every duplicate key, every alias and every tag — and no YAML tag can ever run code.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from promptlib.config import MAX_RECIPE_BYTES
from promptlib.errors import InvalidError, RecipeError, TemplateError

if TYPE_CHECKING:
    import yaml

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

_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    _STR: "string",
    "tag:yaml.org,2002:int": "integer",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:null": "null",
}
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


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

    def check_template(self) -> None:
        """Every variable the template reads is declared, and every declared one is read.

        Analysing a template compiles it, and Jinja2 folds constants while compiling, so this goes
        through the bounded sandbox: a hostile template fails here, fast, instead of hanging.
        """
        from promptlib import sandbox

        try:
            used = sandbox.template_variables(self.template)
        except TemplateError as exc:
            raise RecipeError(str(exc), line=self.template_line, field="template") from None
        self.check_variables_used(used)

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


# --- loading --------------------------------------------------------------------------------------


def load(data: bytes, *, path: str | None = None, expected_name: str | None = None) -> Recipe:
    """Parse and validate one recipe file's bytes. Raises RecipeError naming file, line, field."""
    try:
        recipe = _load(data, expected_name)
    except RecipeError as exc:
        raise exc.at(path) if path else exc from None
    return recipe


def _load(data: bytes, expected_name: str | None) -> Recipe:
    if len(data) > MAX_RECIPE_BYTES:
        raise RecipeError(f"file is {len(data)} bytes; a recipe may be at most 256 KiB")
    text = _decode(data)
    root = _compose(text)
    fields = _Fields(root)
    recipe = fields.build()
    if expected_name is not None and recipe.name != expected_name:
        raise RecipeError(
            f"name {recipe.name!r} does not match the file name {expected_name + '.yaml'!r}",
            line=fields.line_of("name"),
            field="name",
        )
    return recipe


def loads(text: str, *, path: str | None = None) -> Recipe:
    return load(text.encode("utf-8"), path=path)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RecipeError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line=line
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _compose(text: str) -> yaml.Node:
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader_cls)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise RecipeError(_explain(exc, text, line), line=line) from None
    except yaml.YAMLError as exc:
        raise RecipeError(f"invalid YAML: {exc}") from None
    if root is None:
        raise RecipeError("empty file: a recipe is a YAML mapping")
    # An anchor that is never referenced leaves no trace in the node tree; look for it in the
    # event stream, but only when the text could hold one (most recipes never pay for this).
    if "&" in text:
        _reject_anchors(text, loader_cls)
    return root


def _explain(exc: yaml.MarkedYAMLError, text: str, line: int | None) -> str:
    problem = exc.problem or exc.context or "not valid YAML"
    if "another document" in problem:
        return "a recipe file holds one YAML document; found a second (`---`)"
    lines = text.splitlines()
    if line is not None and 0 < line <= len(lines) and "\t" in lines[line - 1]:
        return f"invalid YAML: {problem} (a tab: indent with spaces)"
    return f"invalid YAML: {problem}"


def _reject_anchors(text: str, loader_cls: Any) -> None:
    import yaml

    for event in yaml.parse(text, Loader=loader_cls):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise RecipeError(
                f"YAML anchors and aliases are not allowed (&{anchor})",
                line=event.start_mark.line + 1 if event.start_mark else None,
            )


@functools.cache
def _constructor() -> yaml.constructor.SafeConstructor:
    # Only ever handed plain scalar nodes whose tag was checked first: int, float, bool, null.
    import yaml

    return yaml.constructor.SafeConstructor()


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Fields:
    """Turns the composed node tree into validated fields, remembering where each one was."""

    def __init__(self, root: yaml.Node):
        self._seen: set[int] = set()
        if root.tag != _MAP:
            raise RecipeError("a recipe must be a YAML mapping of fields", line=_line(root))
        self.nodes = self._mapping(root, "")
        unknown = [k for k in self.nodes if k not in TOP_LEVEL_KEYS]
        if unknown:
            key = unknown[0]
            raise RecipeError(
                f"unknown field {key!r}",
                line=_line(self.nodes[key][0]),
                field=key,
                hint=f"allowed fields: {', '.join(TOP_LEVEL_KEYS)}",
            )

    def line_of(self, key: str) -> int | None:
        entry = self.nodes.get(key)
        return _line(entry[0]) if entry else None

    # --- node walking ---

    def _visit(self, node: yaml.Node, where: str) -> None:
        # The composer shares one node between an anchor and its aliases: a node seen twice is
        # an alias, and an alias bomb stops at its first repetition.
        if id(node) in self._seen:
            raise RecipeError("YAML anchors and aliases are not allowed", line=_line(node),
                              field=where or None)
        self._seen.add(id(node))

    def _mapping(self, node: yaml.Node, where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        self._visit(node, where)
        if node.tag != _MAP:
            raise RecipeError("must be a mapping", line=_line(node), field=where or None)
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag != _STR:
                shown = key_node.value if isinstance(key_node.value, str) else "?"
                kind = _SCALAR_TAGS.get(key_node.tag, "non-scalar")
                raise RecipeError(
                    f"key {shown!r} is read as a {kind}, not a string: quote it",
                    line=_line(key_node),
                    field=where or None,
                )
            key = key_node.value
            if key in out:
                raise RecipeError(
                    f"duplicate key {key!r} (first at line {_line(out[key][0])})",
                    line=_line(key_node),
                    field=f"{where}.{key}" if where else key,
                )
            out[key] = (key_node, value_node)
        return out

    def _scalar(self, node: yaml.Node, where: str) -> Scalar | None:
        import yaml

        self._visit(node, where)
        if node.tag not in _SCALAR_TAGS and node.tag not in (_SEQ, _MAP):
            raise RecipeError(f"unsupported YAML tag {node.tag!r}: use a plain value",
                              line=_line(node), field=where)
        if not isinstance(node, yaml.ScalarNode):
            raise RecipeError("must be a single value, not a list or mapping",
                              line=_line(node), field=where)
        if node.tag not in _SCALAR_TAGS:
            raise RecipeError(f"unsupported YAML tag {node.tag!r}: use a plain value",
                              line=_line(node), field=where)
        if node.tag == _STR:
            return str(node.value)
        value = _constructor().construct_object(node)
        if isinstance(value, float) and math.isnan(value):
            raise RecipeError("must be a number, not NaN", line=_line(node), field=where)
        return value  # type: ignore[no-any-return]

    def _string(self, node: yaml.Node, where: str, *, one_line: bool = False) -> str:
        value = self._scalar(node, where)
        if not isinstance(value, str):
            raise RecipeError(f"must be a string, not {_kind(value)}", line=_line(node),
                              field=where)
        if one_line and ("\n" in value.strip()):
            raise RecipeError("must be a single line", line=_line(node), field=where)
        return value

    def _string_list(self, node: yaml.Node, where: str) -> list[str]:
        self._visit(node, where)
        if node.tag != _SEQ:
            raise RecipeError("must be a list of strings", line=_line(node), field=where)
        return [self._string(item, f"{where}[{i}]") for i, item in enumerate(node.value)]

    def _value(self, node: yaml.Node, where: str) -> Value:
        if node.tag == _SEQ:
            return self._string_list(node, where)
        value = self._scalar(node, where)
        if value is None:
            raise RecipeError("must have a value (not null)", line=_line(node), field=where)
        return value

    def _get(self, key: str) -> yaml.Node | None:
        entry = self.nodes.get(key)
        return entry[1] if entry else None

    # --- fields ---

    def build(self) -> Recipe:
        for key in REQUIRED_KEYS:
            if key not in self.nodes:
                raise RecipeError(f"missing required field {key!r}", line=1, field=key)
        name = self._string(self.nodes["name"][1], "name")
        if not is_valid_name(name):
            raise RecipeError(
                f"invalid name {name!r}: use 1-64 lowercase letters, digits and inner hyphens",
                line=self.line_of("name"),
                field="name",
            )
        title = self._nonempty(self._string(self.nodes["title"][1], "title", one_line=True),
                               "title").strip()
        description = self._nonempty(self._string(self.nodes["description"][1], "description"),
                                     "description").strip()
        template_node = self.nodes["template"][1]
        template = self._nonempty(self._string(template_node, "template"), "template")
        return Recipe(
            name=name,
            title=title,
            description=description,
            tags=tuple(self._tags()),
            template=template,
            variables=tuple(self._variables()),
            examples=tuple(self._examples()),
            author=self._optional_string("author", one_line=True),
            shared_from=self._shared_from(),
            format=self._format(),
            # A block scalar's text starts on the line after its `template: |` key.
            template_line=_line(template_node) + (1 if getattr(template_node, "style", None)
                                                   in ("|", ">") else 0),
        )

    def _nonempty(self, value: str, key: str) -> str:
        if not value.strip():
            raise RecipeError("must not be empty", line=self.line_of(key), field=key)
        return value

    def _optional_string(self, key: str, *, one_line: bool = False) -> str | None:
        node = self._get(key)
        if node is None:
            return None
        value = self._scalar(node, key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise RecipeError(f"must be a string, not {_kind(value)}", line=_line(node),
                              field=key)
        if one_line and "\n" in value.strip():
            raise RecipeError("must be a single line", line=_line(node), field=key)
        return value.strip() or None

    def _tags(self) -> Iterator[str]:
        node = self.nodes["tags"][1]
        tags = self._string_list(node, "tags")
        if not tags:
            raise RecipeError("needs at least one tag (the first names the use case)",
                              line=_line(node), field="tags")
        seen: set[str] = set()
        for i, tag in enumerate(tags):
            if not is_valid_name(tag):
                raise RecipeError(f"invalid tag {tag!r}: use a lowercase slug like "
                                  "'incident-response'", line=_line(node.value[i]),
                                  field=f"tags[{i}]")
            if tag not in seen:
                seen.add(tag)
                yield tag

    def _variables(self) -> Iterator[Variable]:
        node = self._get("variables")
        if node is None or (node.tag == "tag:yaml.org,2002:null"):
            return
        stdin_seen: str | None = None
        for name, (key_node, spec_node) in self._mapping(node, "variables").items():
            where = f"variables.{name}"
            if not VARIABLE_RE.fullmatch(name) or name in RESERVED_VARIABLES:
                raise RecipeError(f"invalid variable name {name!r}: use a letter or _ then "
                                  "letters, digits or _ (not a Jinja2 builtin)",
                                  line=_line(key_node), field=where)
            variable = self._variable(name, spec_node, where)
            if variable.stdin:
                if stdin_seen:
                    raise RecipeError(f"only one variable may take stdin ({stdin_seen!r} "
                                      "already does)", line=_line(spec_node),
                                      field=f"{where}.stdin")
                stdin_seen = name
            yield variable

    def _variable(self, name: str, node: yaml.Node, where: str) -> Variable:
        if node.tag == "tag:yaml.org,2002:null":
            return Variable(name=name)
        spec = self._mapping(node, where)
        for key, (key_node, _) in spec.items():
            if key not in VARIABLE_KEYS:
                raise RecipeError(f"unknown variable field {key!r}", line=_line(key_node),
                                  field=f"{where}.{key}",
                                  hint=f"allowed: {', '.join(VARIABLE_KEYS)}")
        values: dict[str, Any] = {}
        for key, (_, value_node) in spec.items():
            values[key] = (self._string_list(value_node, f"{where}.{key}") if key == "choices"
                           else self._scalar(value_node, f"{where}.{key}"))

        def fail(key: str, message: str) -> RecipeError:
            return RecipeError(message, line=_line(spec[key][1]), field=f"{where}.{key}")

        _check_variable(values, fail)
        default = values.get("default")
        required = values.get("required")
        return Variable(
            name=name,
            description=(values.get("description") or "").strip(),
            required=(default is None) if required is None else bool(required),
            default=default,
            choices=tuple(values.get("choices") or ()),
            stdin=bool(values.get("stdin", False)),
            max_chars=values.get("max_chars"),
            truncate=values.get("truncate") or "tail",
        )

    def _examples(self) -> Iterator[Example]:
        node = self._get("examples")
        if node is None or node.tag == "tag:yaml.org,2002:null":
            return
        self._visit(node, "examples")
        if node.tag != _SEQ:
            raise RecipeError("must be a list", line=_line(node), field="examples")
        for i, item in enumerate(node.value):
            where = f"examples[{i}]"
            spec = self._mapping(item, where)
            for key, (key_node, _) in spec.items():
                if key not in EXAMPLE_KEYS:
                    raise RecipeError(f"unknown example field {key!r}", line=_line(key_node),
                                      field=f"{where}.{key}", hint="allowed: vars, expect")
            example_vars: dict[str, Value] = {}
            if "vars" in spec:
                for var, (_, value_node) in self._mapping(spec["vars"][1],
                                                          f"{where}.vars").items():
                    example_vars[var] = self._value(value_node, f"{where}.vars.{var}")
            expect = (self._string_list(spec["expect"][1], f"{where}.expect")
                      if "expect" in spec else [])
            yield Example(vars=example_vars, expect=tuple(expect), line=_line(item))

    def _shared_from(self) -> str | None:
        value = self._optional_string("shared_from", one_line=True)
        if value is not None and not SHARED_FROM_RE.fullmatch(value):
            raise RecipeError("must be '<collection>/<name>'", line=self.line_of("shared_from"),
                              field="shared_from")
        return value

    def _format(self) -> int:
        node = self._get("format")
        if node is None:
            return FORMAT_VERSION
        value = self._scalar(node, "format")
        if value != FORMAT_VERSION or isinstance(value, bool):
            raise RecipeError(f"unsupported format {value!r}: this promptlib reads format 1",
                              line=_line(node), field="format")
        return FORMAT_VERSION


def _check_variable(values: dict[str, Any], fail: Callable[[str, str], RecipeError]) -> None:
    if not isinstance(values.get("description") or "", str):
        raise fail("description", "must be a string")
    for flag in ("required", "stdin"):
        if flag in values and not isinstance(values[flag], bool):
            raise fail(flag, "must be true or false")
    default = values.get("default")
    choices = values.get("choices") or ()
    if choices and default is not None and str(default) not in choices:
        raise fail("default", f"default {default!r} is not one of the choices")
    max_chars = values.get("max_chars")
    if max_chars is not None and (isinstance(max_chars, bool)
                                  or not isinstance(max_chars, int) or max_chars < 1):
        raise fail("max_chars", "must be a positive whole number")
    truncate = values.get("truncate")
    if truncate is not None:
        if truncate not in TRUNCATE_MODES:
            raise fail("truncate", "must be one of head, tail, middle")
        if max_chars is None:
            raise fail("truncate", "only makes sense with max_chars")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


# --- dumping --------------------------------------------------------------------------------------


def dump_yaml(data: Mapping[str, Any]) -> str:
    """YAML as a person would write it: field order kept, multi-line text as `|` blocks."""
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class _Dumper(base):  # type: ignore[valid-type,misc]
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar(_STR, value, style=style)

    _Dumper.add_representer(str, represent_str)
    text: str = yaml.dump(
        dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
        default_flow_style=False,
    )
    return text
