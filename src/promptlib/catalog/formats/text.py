"""Text helpers every format shares: literal text made safe for Jinja2, role headings, names.

A converted template is built from pieces: literal text (which must render as itself, braces and
all) and variables. `literal` keeps Jinja2's delimiters in source text inert with `{% raw %}`, so
fabric's `{{BaseURL}}` or a Vue `{{ text }}` stays literal and never becomes a variable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Where Jinja2 would start a tag: `{{`, `{%`, `{#`. A span from one to its closer on the same
# line (or to the end of the line) goes inside one raw block.
_OPENER = re.compile(r"\{[{%#]")
_SPAN = re.compile(r"\{[{%#].*?(?:[}%#]\}|$)", re.MULTILINE)
_ENDRAW = re.compile(r"\{%-?\s*endraw")

_HEADING = re.compile(r"^## (System|User|Assistant)$", re.MULTILINE)


def literal(text: str) -> str:
    """`text` as Jinja2 source that renders exactly `text`."""
    if _OPENER.search(text):
        text = _SPAN.sub(_raw, text)
    # A trailing `{` would join the `{{` of a variable that follows it into `{{{`.
    if text.endswith("{"):
        text = text[:-1] + "{% raw %}{{% endraw %}"
    return text


def _raw(match: re.Match[str]) -> str:
    span = match.group()
    if _ENDRAW.search(span):
        # A raw block cannot hold its own end tag: spell each opener as a string expression.
        return _OPENER.sub(lambda m: "{{ '" + m.group() + "' }}", span)
    return "{% raw %}" + span + "{% endraw %}"


def variable(name: str) -> str:
    return "{{ " + name + " }}"


# --- messages: one template, a heading per role ------------------------------------------------


def join_messages(messages: Sequence[tuple[str, str]], *, plain_role: str) -> str:
    """One template from role-split messages. A lone message in the format's own default role
    (`plain_role`) needs no heading; otherwise each message sits under `## System`, `## User`
    or `## Assistant`, so the rendered prompt still says who speaks."""
    kept = [(role, body.strip("\n")) for role, body in messages if body.strip()]
    if not kept:
        return ""
    if len(kept) == 1 and kept[0][0] == plain_role:
        # One plain message keeps its own ending, so a round trip does not add a newline.
        ends = next(body for role, body in messages if body.strip()).rstrip(" \t")
        return kept[0][1] + ("\n" if ends.endswith("\n") else "")
    return "\n\n".join(f"## {role.capitalize()}\n\n{body}" for role, body in kept) + "\n"


def split_messages(template: str, *, plain_role: str) -> list[tuple[str, str]]:
    """The inverse of `join_messages`: split on heading lines, but only when the template starts
    with one (a pattern's own `## User` section further down is just text)."""
    stripped = template.lstrip("\n")
    first = _HEADING.match(stripped)
    if first is None:
        return [(plain_role, template)]
    heads = list(_HEADING.finditer(stripped))
    messages = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(stripped)
        messages.append((head.group(1).lower(), stripped[head.end():end].strip("\n")))
    return messages


# --- names, titles, tags -----------------------------------------------------------------------

_NOT_NAME = re.compile(r"[^a-z0-9-]+")


def recipe_name(stem: str) -> str:
    """A file or folder name as a recipe name: `Extract_Wisdom.v2` → `extract-wisdom-v2`.
    May still be invalid (empty, too long): the loader says so for that file."""
    name = re.sub(r"[\s_.]+", "-", stem.strip().lower())
    return re.sub(r"-{2,}", "-", _NOT_NAME.sub("", name)).strip("-")


def humanize(stem: str) -> str:
    """`extract_wisdom` → `Extract wisdom`: a title where the source has none."""
    words = re.sub(r"[_\-.]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem


def tag_slug(tag: str) -> str:
    return recipe_name(str(tag))


def tags(given: Iterable[str], found: Iterable[object], fmt: str) -> list[str]:
    """`--tag`s first (the first tag is the use case), then the source's own tags, then the
    format's name, so every imported recipe has a use case and can be found by where it came
    from."""
    out: list[str] = []
    for tag in [*given, *(tag_slug(str(t)) for t in found), fmt]:
        slug = tag_slug(tag)
        if slug and slug not in out and len(slug) <= 64:
            out.append(slug)
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def first_sentence(text: str, limit: int = 300) -> str:
    """The first sentence of the first prose paragraph (headings, lists and code skipped)."""
    in_code = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if in_code or not stripped or stripped[0] in "#-*>|<{$`":
            continue
        sentence = _SENTENCE_END.split(stripped, maxsplit=1)[0]
        return sentence[:limit].rstrip()
    return ""


def one_line(text: str) -> str:
    return " ".join(str(text).split())
