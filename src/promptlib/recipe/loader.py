"""The strict recipe loader (DESIGN §2): bytes in, a validated `Recipe` or a `RecipeError` out.

The YAML is *composed* (never constructed) with the C loader, and this module builds the values
itself from the node tree, so it sees every line number, every duplicate key, every alias and
every tag — and no YAML tag can ever run code. Kept apart from the model (`model.py`) because
it is most of the code and only loading needs it (and YAML).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from promptlib.errors import RecipeError
from promptlib.paths import MAX_RECIPE_BYTES
from promptlib.recipe.model import (
    EXAMPLE_KEYS,
    FORMAT_VERSION,
    REQUIRED_KEYS,
    RESERVED_VARIABLES,
    SHARED_FROM_RE,
    TOP_LEVEL_KEYS,
    TRUNCATE_MODES,
    VARIABLE_KEYS,
    VARIABLE_RE,
    Example,
    Recipe,
    Scalar,
    Value,
    Variable,
    is_valid_name,
)
from promptlib.utils.text import CONTROL_CHARS, has_controls

if TYPE_CHECKING:
    import yaml

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


def load(data: bytes, *, path: str | None = None, expected_name: str | None = None) -> Recipe:
    """Parse and validate one recipe file's bytes. Raises RecipeError naming file, line, field."""
    try:
        recipe = _load(data, expected_name)
    except RecipeError as exc:
        raise exc.at(path) if path else exc from None
    return recipe


def _load(data: bytes, expected_name: str | None) -> Recipe:
    if len(data) > MAX_RECIPE_BYTES:
        raise RecipeError("file is larger than 256 KiB, the limit for a recipe")
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
    import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

    loader_cls = _loader_class()
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


@functools.cache
def _loader_class() -> Any:
    """CSafeLoader's parser and resolver, without its constructor (composing never constructs),
    and with the resolver's calls made cheap: the C parser calls three Python methods for every
    node (~37 a recipe, 10,000 recipes in an index build). SafeLoader without libyaml."""
    import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

    if not hasattr(yaml, "CSafeLoader"):
        return yaml.SafeLoader
    c_parser: Any = yaml.cyaml.CParser  # type: ignore[attr-defined]
    resolver: Any = yaml.resolver.Resolver
    if resolver.yaml_path_resolvers:  # PyYAML registers none; what follows assumes none
        return yaml.CSafeLoader
    scalar = yaml.ScalarNode
    tags: dict[str, str] = {}
    str_tag = resolver.DEFAULT_SCALAR_TAG

    class Composer(c_parser, resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            c_parser.__init__(self, stream)
            resolver.__init__(self)

        def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
            # What Resolver.resolve gives, without path resolvers: a quoted or block scalar is a
            # string, and a plain one's tag depends on its text alone. Short texts (keys, `true`,
            # `tail`) are remembered: a library holds few of them.
            if kind is not scalar:
                return resolver.resolve(self, kind, value, implicit)  # type: ignore[no-any-return]
            if not implicit[0]:
                return str_tag  # type: ignore[no-any-return]
            tag = tags.get(value)
            if tag is None:
                tag = resolver.resolve(self, kind, value, implicit)
                if len(value) <= 64 and len(tags) < 4096:
                    tags[value] = tag
            return tag

        # Called for every node, and no-ops without path resolvers: C callables taking the
        # same arguments, which a class attribute does not bind, cost least.
        descend_resolver = staticmethod(operator.is_)  # (current_node, current_index)
        ascend_resolver = staticmethod(bool)  # ()

    return Composer


def _explain(exc: yaml.MarkedYAMLError, text: str, line: int | None) -> str:
    problem = exc.problem or exc.context or "not valid YAML"
    if "another document" in problem:
        return "a recipe file holds one YAML document; found a second (`---`)"
    lines = text.splitlines()
    if line is not None and 0 < line <= len(lines) and "\t" in lines[line - 1]:
        return f"invalid YAML: {problem} (a tab: indent with spaces)"
    return f"invalid YAML: {problem}"


def _reject_anchors(text: str, loader_cls: Any) -> None:
    import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

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
    import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

    return yaml.constructor.SafeConstructor()


@functools.lru_cache(maxsize=1024)
def _construct(tag: str, value: str) -> Scalar | None:
    """A plain scalar's value from its tag (int, float, bool or null, checked first) and text:
    the same few (`true`, `20000`) over and over in a library, and immutable."""
    import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

    node = yaml.ScalarNode(tag, value)
    return _constructor().construct_object(node)  # type: ignore[no-any-return]


def _no_controls(value: str, node: yaml.Node, where: str) -> str:
    found = CONTROL_CHARS.search(value) if has_controls(value) else None
    if found:
        raise RecipeError(f"control character U+{ord(found.group()):04X} is not allowed "
                          "(terminal escapes could hide in it)", line=_line(node),
                          field=where or None)
    return value


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
        key = id(node)
        if key in self._seen:
            raise RecipeError("YAML anchors and aliases are not allowed", line=_line(node),
                              field=where or None)
        self._seen.add(key)

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
        self._visit(node, where)
        # Most values: a string scalar (only a scalar node's value is a str), no check can fail.
        if node.tag == _STR and isinstance(node.value, str):
            return _no_controls(node.value, node, where)
        import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

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
            return _no_controls(str(node.value), node, where)
        value = _construct(node.tag, node.value)
        if isinstance(value, float) and math.isnan(value):
            raise RecipeError("must be a number, not NaN", line=_line(node), field=where)
        return value

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


def loads(text: str, *, path: str | None = None) -> Recipe:
    return load(text.encode("utf-8"), path=path)
