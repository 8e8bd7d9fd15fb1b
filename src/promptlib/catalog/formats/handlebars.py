"""Dotprompt's Handlebars ↔ Jinja2, for the constructs both can hold.

Handlebars → Jinja2 (import): `{{name}}`/`{{{name}}}` (Dotprompt does not escape), dotted paths,
`{{#if x}}`, `{{#unless x}}`, `{{else}}`, `{{#each xs}}` (with `this`, `@index`, `@first`,
`@last`), comments, `\\{{` escapes, `~` whitespace control, and `{{role "…"}}` markers, which
become headings. A block tag alone on its line takes the line with it, as Handlebars does.
Anything else — partials, `{{json}}`, `{{media}}`, `{{history}}`, `{{section}}`, other helpers —
raises `UnsupportedError`.

Jinja2 → Handlebars (export): text, `{{ name }}` and `{% if %}` blocks, with a block alone on
its line written so that Handlebars' line rule gives back the same text.
"""

from __future__ import annotations

import re

from promptlib.catalog.formats import jinja, text
from promptlib.catalog.formats.base import UnexpressibleError, UnsupportedError

_MUSTACHE = re.compile(r"\\\{\{|\{\{~?!--.*?--~?\}\}|\{\{~?\{.*?\}~?\}\}|\{\{.*?\}\}", re.DOTALL)
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_ROLE = re.compile(r"""role\s+(["'])(system|user|model)\1""")
_LOOP = {"@index": "loop.index0", "@first": "loop.first", "@last": "loop.last"}
ROLE_NAMES = {"system": "system", "user": "user", "model": "assistant"}


class _Token:
    """One piece of the Handlebars source: text, or a tag with its Jinja2 form."""

    def __init__(self, kind: str, value: str, *, trim_left: bool = False,
                 trim_right: bool = False) -> None:
        self.kind, self.value = kind, value  # kind: text | var | block | comment | role
        self.trim_left, self.trim_right = trim_left, trim_right


def to_jinja(source: str) -> list[tuple[str, str]]:
    """Handlebars source → [(role, Jinja2 text)], split at `{{role}}` markers."""
    tokens = _standalone(_tokens(source))
    messages: list[tuple[str, str]] = []
    role = "user"
    out: list[str] = []
    for token in tokens:
        if token.kind == "role":
            messages.append((role, "".join(out)))
            role, out = token.value, []
        elif token.kind == "text":
            out.append(text.literal(token.value))
        elif token.kind != "comment":
            out.append(token.value)
    messages.append((role, "".join(out)))
    return messages


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    stack: list[str] = []
    pos = 0
    for match in _MUSTACHE.finditer(source):
        tokens.append(_Token("text", source[pos:match.start()]))
        pos = match.end()
        tag = match.group()
        if tag == "\\{{":
            tokens.append(_Token("text", "{{"))
            continue
        trim_left, trim_right = tag.startswith("{{~"), tag.endswith("~}}")
        inner = tag[3 if trim_left else 2:-3 if trim_right else -2]
        if inner.startswith("{") and inner.endswith("}"):
            inner = inner[1:-1]
        tokens.append(_tag(inner.strip(), stack, trim_left, trim_right))
    tokens.append(_Token("text", source[pos:]))
    if stack:
        raise UnsupportedError(f"{{{{#{stack[-1]}}}}} is never closed")
    return tokens


def _tag(inner: str, stack: list[str], trim_left: bool,  # noqa: PLR0911  (one exit per tag)
         trim_right: bool) -> _Token:
    left, right = ("-" if trim_left else ""), ("-" if trim_right else "")

    def block(body: str) -> _Token:
        return _Token("block", "{%" + left + " " + body + " " + right + "%}",
                      trim_left=trim_left, trim_right=trim_right)

    if inner.startswith("!"):
        return _Token("comment", "", trim_left=trim_left, trim_right=trim_right)
    word, _, rest = inner.partition(" ")
    rest = rest.strip()
    if word in ("#if", "#unless") and _PATH.fullmatch(rest):
        stack.append(word[1:])
        return block(("if " if word == "#if" else "if not ") + rest)
    if word == "#each" and _PATH.fullmatch(rest):
        stack.append("each")
        return block(f"for this in {rest}")
    if inner in ("else", "^"):
        if not stack or stack[-1] == "each":
            raise UnsupportedError("{{else}} outside {{#if}}")
        return block("else")
    if word in ("/if", "/unless", "/each") and not rest:
        if not stack or stack.pop() != word[1:]:
            raise UnsupportedError(f"{{{{{inner}}}}} closes a block it did not open")
        return block("endfor" if word == "/each" else "endif")
    role = _ROLE.fullmatch(inner)
    if role:
        return _Token("role", ROLE_NAMES[role.group(2)])
    if inner in _LOOP and "each" in stack:
        return _Token("var", "{{" + left + " " + _LOOP[inner] + " " + right + "}}")
    if _PATH.fullmatch(inner):
        head = inner.split(".", 1)[0]
        if "each" in stack and head != "this":
            raise UnsupportedError(f"{{{{{inner}}}}} inside {{{{#each}}}} (only `this` maps)")
        return _Token("var", "{{" + left + " " + inner + " " + right + "}}")
    raise UnsupportedError(f"the Handlebars helper or partial {{{{{inner}}}}}, which has no "
                      "Jinja2 equivalent here")


def _standalone(tokens: list[_Token]) -> list[_Token]:
    """Handlebars drops a line that holds only a block tag or comment (its indent and newline
    too); Jinja2 keeps it, so drop it here. Which lines are decided on the source as written,
    then trimmed."""
    alone = [i for i, token in enumerate(tokens)
             if token.kind in ("block", "comment") and 0 < i < len(tokens) - 1
             and _alone(tokens, i)]
    for i in alone:
        before, after = tokens[i - 1], tokens[i + 1]
        before.value = before.value[:before.value.rfind("\n") + 1]
        head, newline, _rest = after.value.partition("\n")
        after.value = after.value[len(head) + len(newline):]
    return tokens


def _alone(tokens: list[_Token], i: int) -> bool:
    before, after = tokens[i - 1], tokens[i + 1]
    if before.kind != "text" or after.kind != "text":
        return False
    line_start = before.value.rfind("\n") + 1
    if not (line_start > 0 or i - 1 == 0) or before.value[line_start:].strip(" \t"):
        return False
    head, newline, _rest = after.value.partition("\n")
    return not head.strip(" \t") and (bool(newline) or i + 2 == len(tokens))


# --- Jinja2 → Handlebars -------------------------------------------------------------------------

_HB_OPEN = re.compile(r"\{\{")


def from_jinja(template: str) -> str:
    """A Jinja2 template (text, variables, if-blocks) as Handlebars, or `UnexpressibleError`."""
    pieces = jinja.parts(template)
    out: list[str] = []
    stack: list[str] = []
    for i, piece in enumerate(pieces):
        if isinstance(piece, jinja.Text):
            if piece.text.endswith("\\") and i + 1 < len(pieces):
                raise UnexpressibleError("a backslash right before a tag, which Handlebars "
                                         "reads as an escape")
            out.append(_HB_OPEN.sub(r"\\{{", piece.text))
        elif isinstance(piece, jinja.Var):
            out.append("{{" + piece.name + "}}")
        else:
            out.append(_block(piece, stack))
            tail = jinja.standalone_tail(pieces, i)
            if tail:
                out.append(tail)  # Handlebars drops this line's own newline: write it twice
    return "".join(out)


def _block(piece: jinja.Block, stack: list[str]) -> str:
    if piece.kind == "if":
        stack.append("unless" if piece.negate else "if")
        return "{{#" + stack[-1] + " " + piece.name + "}}"
    if not stack:
        raise UnexpressibleError(f"{{% {piece.kind} %}} without {{% if %}}")
    if piece.kind == "else":
        return "{{else}}"
    return "{{/" + stack.pop() + "}}"
