"""What every format shares: a recipe converted from another tool's file (`Draft`), a file that
could not be converted (`Skip`), the files an export writes (`Exported`), and the interface each
format module implements (`Format`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from promptlib.recipe.model import Recipe
from promptlib.utils.yamltext import dump_yaml

MAX_SOURCE_BYTES = 1024 * 1024  # a prompt file larger than this is not a prompt


class UnexpressibleError(Exception):
    """This recipe's template (or a field of it) has no faithful form in the target format."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsupportedError(Exception):
    """This source file uses something promptlib cannot map: the file is skipped, with this."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Draft:
    """A recipe converted from one source file, before `add`'s validation.

    `notes` says what did not map (a model, parameters, tools, evaluators, an output schema):
    each goes into the import report and, as a YAML comment, to the top of the recipe file.
    """

    source: str
    name: str
    title: str
    description: str
    tags: list[str]
    template: str
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    author: str | None = None
    # The variables come from the source's declarations (Prompty inputs, a Dotprompt schema):
    # fit them to what the template reads once it has been analysed.
    reconcile: bool = False

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "title": self.title,
                               "description": self.description or self.title,
                               "tags": self.tags}
        if self.variables:
            out["variables"] = self.variables
        out["template"] = self.template
        if self.examples:
            out["examples"] = self.examples
        if self.author:
            out["author"] = self.author
        out["format"] = 1
        return out

    def yaml(self, fmt: str) -> bytes:
        header = [f"# imported from {fmt}: {self.source}"]
        header += [f"# note: {_comment(note)}" for note in self.notes]
        return ("\n".join(header) + "\n" + dump_yaml(self.data())).encode("utf-8")


def _comment(note: str) -> str:
    return " ".join(note.split())


@dataclass(frozen=True)
class Skip:
    """A source file that yields no recipe, and why."""

    source: str
    reason: str


@dataclass
class Exported:
    """What one recipe became: files (path relative to the output folder → bytes) and notes
    on what the target format could not hold."""

    files: dict[str, bytes]
    notes: list[str] = field(default_factory=list)


class Format(Protocol):
    name: str

    def find(self, root: Path) -> list[Path]:
        """The source files (for fabric: pattern folders) at or under `root`."""

    def read(self, path: Path) -> Draft | Skip:
        """One source file converted, or the reason it cannot be."""

    def write(self, recipe: Recipe) -> Exported:
        """One recipe in this format, or `UnexpressibleError` with the reason."""

    def finish(self, out: Path, written: list[Recipe]) -> dict[str, bytes]:
        """Files that describe the whole export (fabric's pattern_descriptions.json)."""


class OneFilePerRecipe:
    """A format whose export is one file per recipe and nothing more."""

    def finish(self, out: Path, written: list[Recipe]) -> dict[str, bytes]:  # noqa: ARG002  (the interface)
        return {}


def source_files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """`root` itself when it is a file; else every file below it whose name ends in one of
    `suffixes`, in order, skipping symlinks and anything under a hidden folder."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.name.endswith(suffixes) and p.is_file()
                  and not p.is_symlink()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def read_text(path: Path) -> str:
    """A source file's text: UTF-8 (a BOM dropped), bounded, never through a symlink."""
    from promptlib.utils.files import read_nofollow  # noqa: PLC0415  (I/O only when reading)

    try:
        data = read_nofollow(path, MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise UnsupportedError(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise UnsupportedError("larger than 1 MiB: not a prompt")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedError(f"not UTF-8 (byte offset {exc.start})") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def split_front_matter(text: str) -> tuple[str, str]:
    """`---` YAML `---` body, as Prompty and Dotprompt write it; no front matter is ("", text)."""
    if not text.startswith("---\n") and text.strip() != "---":
        return "", text
    end = text.find("\n---", 3)
    while end != -1 and text[end + 4:end + 5] not in ("\n", ""):
        end = text.find("\n---", end + 4)
    if end == -1:
        raise UnsupportedError("front matter starts with `---` but never ends")
    body = text[end + 4:]
    return text[4:end + 1], body[1:] if body.startswith("\n") else body


def load_yaml(text: str, what: str) -> dict[str, Any]:
    """Front matter or a YAML file: safe loader, a mapping or nothing."""
    import yaml  # noqa: PLC0415  (only the formats that hold YAML pay for it)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        if "&" in text and any(getattr(e, "anchor", None) for e in yaml.parse(text, Loader=loader)):
            # An alias bomb is small as YAML and huge once a report prints it.
            raise UnsupportedError(f"{what} uses YAML anchors and aliases")
        data = yaml.load(text, Loader=loader) if text.strip() else {}  # noqa: S506  (safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UnsupportedError(f"{what} is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise UnsupportedError(f"{what} is not a YAML mapping")
    return data


def describe(value: Any) -> str:
    """A value that did not map, short enough for one report line."""
    text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=False)
    return text if len(text) <= 160 else text[:157] + "..."


def plain_value(value: Any) -> str | int | float | bool | list[str] | None:
    """A default or example value as a recipe holds it (strings, numbers, booleans, lists of
    strings); anything else becomes its JSON text."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return json.dumps(value, ensure_ascii=False, default=str)


# --- what a format cannot hold, kept where promptlib can read it back ---------------------------

EXTRAS_LINE = "# promptlib: "
_EXTRA_VARIABLE_KEYS = ("description", "required", "default", "choices", "max_chars", "truncate")


def recipe_extras(recipe: Recipe, fields: tuple[str, ...], *,
                  examples: bool = False) -> dict[str, Any]:
    """The recipe's title and tags, the name of its stdin variable (exported as the target's
    input), and the variable `fields` the target has no place for."""
    out: dict[str, Any] = {"id": recipe.name, "title": recipe.title, "tags": list(recipe.tags)}
    stdin = recipe.stdin_variable
    if stdin is not None:
        out["stdin"] = stdin.name
    variables = {}
    for var in recipe.variables:
        kept = {k: v for k, v in var.to_dict().items() if k in fields}
        if kept:
            variables[var.name] = kept
    if variables:
        out["variables"] = variables
    if examples and recipe.examples:
        out["examples"] = [{"vars": dict(e.vars), "expect": list(e.expect)}
                           for e in recipe.examples]
    return out


def extras_comment(extras: dict[str, Any]) -> str:
    return EXTRAS_LINE + json.dumps(extras, ensure_ascii=False) + "\n"


def read_extras(source: str) -> dict[str, Any]:
    """The `# promptlib: {…}` line an export wrote at the top of a YAML file, or {}."""
    for line in source.splitlines()[:5]:
        if line.startswith(EXTRAS_LINE):
            try:
                data = json.loads(line[len(EXTRAS_LINE):])
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def stdin_name(extras: dict[str, Any], default: str) -> str:
    name = extras.get("stdin")
    return name if isinstance(name, str) and name.isidentifier() else default


def apply_extras(draft: Draft, extras: dict[str, Any]) -> None:
    """Put back what an earlier export kept aside (everything is validated like any import)."""
    title = extras.get("title")
    if isinstance(title, str) and title.strip():
        draft.title = " ".join(title.split())
    tags = extras.get("tags")
    if isinstance(tags, list) and tags and all(isinstance(t, str) for t in tags):
        draft.tags = list(dict.fromkeys(tags))
    variables = extras.get("variables")
    if isinstance(variables, dict):
        for name, fields in variables.items():
            if name in draft.variables and isinstance(fields, dict):
                draft.variables[name].update(
                    {k: v for k, v in fields.items() if k in _EXTRA_VARIABLE_KEYS})
    examples = extras.get("examples")
    if isinstance(examples, list) and not draft.examples:
        draft.examples = [e for e in examples if isinstance(e, dict)]


def mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` when it is a mapping, else {}: a source file's shape is never trusted."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def listing(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def string(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""
