"""What `promptlib mcp` serves, in promptlib's terms: no MCP SDK here, so it is tested directly.

- Prompts are recipes. A prompt's name is the recipe's name; when two collections hold a recipe
  of that name, each is listed as `<collection>_<name>` (clients accept only `[a-z0-9_-]`, and a
  recipe or collection name never holds `_`, so the two forms cannot collide).
- A page of prompts comes from the search index (`index.pages`), never from YAML. A request
  brings the index up to date with its cheap checks (each collection's HEAD, each folder's
  mtime: `add`, `remove`, `pull`, editors that save by rename), a few milliseconds at 10,000
  recipes. The full check, which also sees a file edited in place (the lstat() of every file:
  ~25 ms at 10,000 recipes on an idle machine, 200 ms on a loaded one), is the change watcher's
  (`signature`), run between requests.
- A prompt is rendered from its file as it is on disk now, by the same function `promptlib
  render` calls (`render_flow.fill`), so the text is the text `render --no-input -v NAME=VALUE …`
  prints, and the render is counted in the usage log with `via: mcp`. Values are literals: an
  MCP value `@/etc/passwd` is that text, never a file, and there is no stdin.
- Nothing here writes to a collection.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from promptlib.catalog import lookup
from promptlib.cli import render_flow
from promptlib.errors import InvalidError, NotFoundError, PromptlibError
from promptlib.index import pages
from promptlib.index import search as core
from promptlib.index.pages import Listed
from promptlib.render import fill
from promptlib.render.fill import Rendered
from promptlib.store import collections as store

#: Prompts (and resources) per page: 10,000 recipes are 200 pages. A page's round trip is
#: mostly building and (de)serializing its prompts, so 50 costs about half of what 100 does
#: (benchmarks/bench_mcp.py); the budget is per page.
PAGE_SIZE = 50
#: An argument longer than this is refused: the bound `render` keeps of piped input. A value
#: within it renders exactly as `render -v NAME=VALUE` does, a variable's max_chars included.
MAX_VALUE_CHARS = fill.DEFAULT_STDIN_MAX_CHARS
#: At most this many completion values (the protocol's limit).
MAX_COMPLETIONS = 100

RESOURCE_PREFIX = "promptlib://recipe/"
_RESOURCE = re.compile(r"promptlib://recipe/([a-z0-9-]+)/([a-z0-9-]+)")
_SEPARATOR = "_"
# What `warm` redacts, so that the redaction rules build what they build on first use.
_WARM_UP_TEXT = "2024-05-01T03:12:09Z ERROR login failed from 10.0.4.7: password=warm-up\n"


class Argument(NamedTuple):
    name: str
    description: str
    required: bool


class Prompt(NamedTuple):
    name: str  # the MCP name
    id: str  # collection/name
    title: str
    description: str
    arguments: tuple[Argument, ...]


# --- names and descriptions -------------------------------------------------------------------


def prompt_name(listed: Listed) -> str:
    return listed.name if listed.copies < 2 else f"{listed.collection}{_SEPARATOR}{listed.name}"


def prompt(listed: Listed) -> Prompt:
    tags = ", ".join(listed.tags)
    description = f"{listed.description.strip()}\n\nTags: {tags}. Recipe {listed.id}."
    return Prompt(prompt_name(listed), listed.id, listed.title, description,
                  tuple(argument(v) for v in listed.variables))


def argument(variable: Mapping[str, Any]) -> Argument:
    """`required` exactly when `render` needs a value; the description says what it takes."""
    parts = [str(variable.get("description") or variable["name"]).rstrip(".") + "."]
    if variable.get("default") == "":
        parts.append("Optional (empty by default).")
    elif "default" in variable:
        parts.append(f"Default: {variable['default']}.")
    if variable.get("choices"):
        parts.append("One of: " + ", ".join(variable["choices"]) + ".")
    if variable.get("max_chars"):
        parts.append(f"Longer values are cut to {variable['max_chars']:,} characters "
                     f"(keeping the {variable.get('truncate', 'tail')}).")
    required = "default" not in variable and variable.get("required", True) is not False
    return Argument(str(variable["name"]), " ".join(parts), required)


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(last: Listed) -> str:
    raw = json.dumps([last.name, last.collection], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, collection = json.loads(raw)
        if isinstance(name, str) and isinstance(collection, str):
            return name, collection
    except (binascii.Error, ValueError, TypeError):
        pass
    raise InvalidError(f"invalid cursor {cursor[:40]!r}: pass the nextCursor of a previous page")


# --- the library ------------------------------------------------------------------------------


class Library:
    """The server's view of the library. Every call reads the library as it is now."""

    def __init__(self, page_size: int = PAGE_SIZE):
        self.page_size = page_size

    def page(self, cursor: str | None) -> tuple[list[Listed], str | None]:
        after = decode_cursor(cursor) if cursor else None
        with pages.opened(sweep=False) as idx:
            found = pages.page(after, self.page_size + 1, idx)
        more = len(found) > self.page_size
        found = found[: self.page_size]
        return found, encode_cursor(found[-1]) if more else None

    def prompts(self, cursor: str | None) -> tuple[list[Prompt], str | None]:
        found, next_cursor = self.page(cursor)
        return [prompt(listed) for listed in found], next_cursor

    def resolve(self, name: str) -> Listed:
        """The recipe a prompt name stands for: `name`, `collection_name` or `collection/name`."""
        collection, sep, bare = name.replace("/", _SEPARATOR, 1).rpartition(_SEPARATOR)
        with pages.opened(sweep=False) as idx:
            found = pages.named(bare, idx, collection if sep else None)
            if len(found) == 1:
                return found[0]
            if found:
                names = ", ".join(prompt_name(f) for f in found)
                raise NotFoundError(f"prompt {name!r} is in several collections: use one of "
                                    f"{names}")
            close = pages.close_names(bare, idx)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        raise NotFoundError(f"no prompt named {name!r}{hint}")

    def render(self, name: str, values: Mapping[str, str]) -> Rendered:
        """Render like `render --no-input -v NAME=VALUE …`, and count it (`via: mcp`)."""
        for key, value in values.items():
            if len(value) > MAX_VALUE_CHARS:
                raise InvalidError(f"argument {key!r} is {len(value):,} characters, over the "
                                   f"limit of {MAX_VALUE_CHARS:,}: pipe it into `promptlib "
                                   "render` instead")
        item = self._load(self.resolve(name))
        inputs = fill.literal_inputs(item.recipe, values)
        absent = fill.missing(item.recipe, inputs)
        if absent:
            raise InvalidError("missing required argument" + ("s" if len(absent) > 1 else "")
                               + ": " + "; ".join(_described(v.name, v.description)
                                                  for v in absent))
        rendered = render_flow.fill(item, inputs)
        render_flow.count(item, via="mcp")
        return rendered

    def _load(self, listed: Listed) -> store.LoadedRecipe:
        """The recipe file the index found, read and validated now (`catalog.show` without
        the name lookup, which `resolve` has done): an edit made a moment ago is what renders."""
        rf = store.RecipeFile(listed.collection, store.collection(listed.collection).path,
                              listed.relpath)
        if not rf.path.is_file():  # removed since the index saw it
            raise NotFoundError(f"no prompt named {listed.name!r}")
        return store.LoadedRecipe(rf, store.read(rf))

    def complete(self, name: str, argument_name: str, typed: str) -> list[str]:
        """Values for an argument: its choices that start with what was typed, else its default."""
        listed = self.resolve(name)
        variable = next((v for v in listed.variables if v["name"] == argument_name), None)
        if variable is None:
            raise InvalidError(f"prompt {name!r} has no argument {argument_name!r}")
        options = [str(c) for c in variable.get("choices") or ()]
        if not options and "default" in variable:
            options = [str(variable["default"])]
        folded = typed.casefold()
        return [o for o in options if o.casefold().startswith(folded)][:MAX_COMPLETIONS]

    def search(self, query: str, tags: Sequence[str] = (), team: str | None = None,
               limit: int = 20) -> dict[str, Any]:
        """The hits `promptlib search --json` prints, and the note about a corrected query."""
        results = core.search(query_words(query), tags=tags, teams=[team] if team else [],
                              limit=limit)
        return {"hits": [h.to_dict() for h in results.hits], "note": results.note}

    def read(self, uri: str) -> str:
        """A recipe's YAML, for its resource `promptlib://recipe/<collection>/<name>`."""
        match = _RESOURCE.fullmatch(uri)
        if match is None:
            raise NotFoundError(f"no resource {uri!r}: recipes are "
                                f"{RESOURCE_PREFIX}<collection>/<name>")
        rf = lookup.find(f"{match[1]}/{match[2]}")
        if rf.name != match[2]:
            raise NotFoundError(f"no resource {uri!r}")
        return store.read_bytes_nofollow(rf.path).decode("utf-8", "replace")

    def warm(self) -> None:
        """Load, once and ahead of time, what a render loads on first use: PyYAML, the redaction
        rules (their lazily built parts too), the settings, allow-list and usage-log modules.
        Else the first get pays ~50-100 ms for them. Reads no recipe and writes nothing."""
        import yaml  # noqa: F401, PLC0415  (loaded here on purpose: this is the warm-up)

        from promptlib import settings  # noqa: F401, PLC0415  (likewise)
        from promptlib.metrics import usage_log  # noqa: F401, PLC0415  (likewise)
        from promptlib.redact import allow, detector  # noqa: F401, PLC0415  (likewise)
        from promptlib.store import allow_lists  # noqa: F401, PLC0415  (likewise)

        detector.redact(_WARM_UP_TEXT)

    def signature(self) -> tuple[int, int, int]:
        """Changes when any recipe changes: the change watcher compares it between polls. Runs
        the index's full freshness check, which also sees in-place edits."""
        with pages.opened() as idx:
            return pages.signature(idx)


def resource_uri(listed: Listed) -> str:
    return f"{RESOURCE_PREFIX}{listed.collection}/{listed.name}"


def query_words(query: str) -> list[str]:
    """The words of a tool's query as a shell would pass them to `promptlib search`: a query
    holding quotes is parsed as typed; otherwise each word is a word, not one long phrase."""
    return [query] if '"' in query else query.split()


def _described(name: str, description: str) -> str:
    return f"{name} ({description})" if description else name


def error_text(exc: PromptlibError) -> str:
    return exc.message + (f" ({exc.hint})" if exc.hint else "")
