"""fabric patterns: a folder per pattern holding `system.md` (rarely `user.md`), with
descriptions and tags in `pattern_descriptions.json` beside the patterns (or in fabric's
`scripts/pattern_descriptions/`).

What fabric does, and so what a variable is here: fabric sends `system.md` with the piped input
in place of `{{input}}`, or appended after a newline when there is none; every other `{{name}}`
it must be given with `-v=name:value`. promptlib reads `{{name}}` as a variable only when `name`
is a lowercase identifier outside code (fabric's own patterns spell theirs `{{lang_code}}`), so
the nuclei pattern's `{{BaseURL}}`, a Vue `{{ text }}` or braces in a code block stay literal
text. `{{plugin:…}}` and `{{ext:…}}` calls stay literal too, with a note: promptlib runs no
fabric plugins.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from promptlib.catalog.formats import jinja, text
from promptlib.catalog.formats.base import (
    Draft,
    Exported,
    Skip,
    UnexpressibleError,
    UnsupportedError,
    listing,
    read_text,
)
from promptlib.recipe.model import Recipe

_TOKEN = re.compile(r"\{\{([^{}]+)\}\}")  # fabric's template token
_VARIABLE = re.compile(r"[a-z_][a-z0-9_]*")
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.DOTALL)
DESCRIPTIONS = "pattern_descriptions.json"
INPUT = "input"


class Fabric:
    name = "fabric"

    def find(self, root: Path) -> list[Path]:
        if root.name == "system.md" and root.is_file():
            return [root.parent]
        if (root / "system.md").is_file():
            return [root]
        if not root.is_dir():
            return []
        for inner in (root / "data" / "patterns", root / "patterns"):
            if inner.is_dir() and not any((p / "system.md").is_file() for p in _folders(root)):
                root = inner  # a checkout of fabric itself: its patterns are in there
                break
        return _folders(root)

    def read(self, path: Path) -> Draft | Skip:
        source = str(path / "system.md")
        if not (path / "system.md").is_file():
            return Skip(str(path), "no system.md: not a fabric pattern")
        try:
            system = read_text(path / "system.md")
            user = read_text(path / "user.md") if (path / "user.md").is_file() else ""
        except UnsupportedError as exc:
            return Skip(source, exc.reason)
        if not system.strip():
            return Skip(source, "system.md is empty")
        return _draft(path, source, system, user)

    def write(self, recipe: Recipe) -> Exported:
        pieces = jinja.variables_only(jinja.parts(recipe.template), "fabric")
        stdin = recipe.stdin_variable

        def name(var: jinja.Var) -> str:
            return INPUT if stdin is not None and var.name == stdin.name else var.name

        body = "".join("{{" + name(p) + "}}" if isinstance(p, jinja.Var) else p.text
                       for p in pieces)
        _check_reads_back(body, [name(p) for p in pieces if isinstance(p, jinja.Var)])
        folder = pattern_name(recipe.name)
        return Exported({f"{folder}/system.md": body.encode("utf-8")}, _lost(recipe))

    def finish(self, out: Path, written: list[Recipe]) -> dict[str, bytes]:
        """Descriptions and tags, merged into the folder's pattern_descriptions.json."""
        path = out / DESCRIPTIONS
        entries: list[dict[str, Any]] = []
        if path.is_file():
            try:
                entries = list(json.loads(read_text(path)).get("patterns", []))
            except (ValueError, AttributeError, UnsupportedError):
                entries = []
        mine = {pattern_name(r.name): r for r in written}
        entries = [e for e in entries
                   if not (isinstance(e, dict) and e.get("patternName") in mine)]
        entries += [{"patternName": key, "description": text.one_line(r.description),
                     "tags": [t.upper() for t in r.tags]} for key, r in mine.items()]
        document = json.dumps({"patterns": entries}, indent=2, ensure_ascii=False) + "\n"
        return {DESCRIPTIONS: document.encode("utf-8")}


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))


def pattern_name(recipe_name: str) -> str:
    return recipe_name.replace("-", "_")


# --- import --------------------------------------------------------------------------------------


def _draft(folder: Path, source: str, system: str, user: str) -> Draft:
    notes: list[str] = []
    used: list[str] = []
    system_t = _convert(system, used, notes)
    user_t = _convert(user, used, notes) if user.strip() else ""
    if INPUT not in used:
        # fabric appends the input after the pattern when the pattern does not place it.
        if user_t:
            user_t = user_t.rstrip("\n") + "\n" + text.variable(INPUT)
        else:
            system_t = (system_t if system_t.endswith("\n") else system_t + "\n") \
                + text.variable(INPUT)
        used.append(INPUT)
    if user_t:
        notes.append("user.md kept as the `## User` part (fabric itself sends only system.md)")
        template = text.join_messages([("system", system_t), ("user", user_t)],
                                      plain_role="system")
    else:
        template = system_t
    meta = _descriptions(folder.parent).get(folder.name, {})
    title = text.humanize(folder.name)
    description = text.one_line(meta.get("description") or "") or text.first_sentence(system) \
        or title
    variables = {name: ({"description": "The input fabric takes from stdin or the command line",
                         "stdin": True} if name == INPUT
                        else {"description": text.humanize(name) + " (fabric -v)"})
                 for name in dict.fromkeys(used)}
    tags = listing(meta, "tags")
    return Draft(source, text.recipe_name(folder.name), title, description,
                 text.tags([], tags, "fabric"), template, variables, notes=notes)


def _convert(source: str, used: list[str], notes: list[str]) -> str:
    """fabric text → Jinja2: variables as `{{ name }}`, everything else literal."""
    code = [m.span() for m in _CODE.finditer(source)] if "`" in source else []
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(source):
        raw = match.group(1)
        in_code = any(start <= match.start() < end for start, end in code)
        if raw == INPUT or (not in_code and _VARIABLE.fullmatch(raw)):
            out.append(text.literal(source[pos:match.start()]))
            out.append(text.variable(raw))
            used.append(raw)
            pos = match.end()
        elif raw.startswith(("plugin:", "ext:")):
            notes.append(f"fabric template call {match.group()} kept as literal text")
    out.append(text.literal(source[pos:]))
    return "".join(out)


@functools.lru_cache(maxsize=32)
def _descriptions(patterns_root: Path) -> dict[str, dict[str, Any]]:
    """patternName → {description, tags}, from the first pattern_descriptions.json found beside
    the patterns or in fabric's scripts folder; {} when there is none."""
    candidates = [patterns_root / DESCRIPTIONS]
    for ancestor in [patterns_root, *list(patterns_root.parents)[:3]]:
        candidates.append(ancestor / "scripts" / "pattern_descriptions" / DESCRIPTIONS)
    for path in candidates:
        if path.is_file():
            try:
                document = json.loads(read_text(path))
            except (ValueError, UnsupportedError):
                continue
            patterns = document.get("patterns") if isinstance(document, dict) else None
            if isinstance(patterns, list):
                return {str(p["patternName"]): p for p in patterns
                        if isinstance(p, dict) and "patternName" in p}
    return {}


# --- export --------------------------------------------------------------------------------------


def _check_reads_back(body: str, expected: list[str]) -> None:
    """The pattern read back must hold exactly these variables: literal braces fabric would
    take for a variable (`{{name}}` outside code), or a variable name it would not, refuse."""
    found: list[str] = []
    _convert(body, found, [])
    if found != expected:
        extra = next((name for name in found if name not in expected), None)
        if extra is not None:
            raise UnexpressibleError(f"holds the literal text {{{{{extra}}}}}, which fabric "
                                     "would read as a variable")
        raise UnexpressibleError("a variable fabric would read as literal text (fabric "
                                 "variables are lowercase, outside code)")


def _lost(recipe: Recipe) -> list[str]:
    notes = []
    defaults = [f"{v.name}={v.default}" for v in recipe.variables if v.default is not None]
    if defaults:
        notes.append("fabric has no defaults: pass -v=" + ", -v=".join(
            d.replace("=", ":", 1) for d in defaults))
    if any(v.choices for v in recipe.variables):
        notes.append("choices are not kept (fabric has none)")
    if recipe.examples:
        notes.append(f"{len(recipe.examples)} example(s) not kept (fabric has none)")
    if recipe.stdin_variable is None:
        notes.append("fabric appends the piped input after the pattern")
    return notes
