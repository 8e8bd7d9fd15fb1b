"""A recipe's Jinja2 template read as pieces other formats can hold, for export.

Only the subset the starter library uses maps anywhere else: literal text (raw blocks included),
`{{ name }}`, and `{% if name %}` / `{% if not name %}` / `{% else %}` / `{% endif %}`. Anything
else — filters, expressions, loops, macros — raises `UnexpressibleError` with what it met, and the
export refuses that recipe with the reason.

Jinja2's lexer only tokenizes (it compiles nothing and folds no constants), so this runs
in-process on a teammate's template without the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from promptlib.catalog.formats.base import UnexpressibleError


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Block:
    """`if` (with `name`, maybe `negate`), `else` or `endif`."""

    kind: str
    name: str = ""
    negate: bool = False


Part = Text | Var | Block


def parts(template: str) -> list[Part]:
    """The template as text, variables and if-blocks, or `UnexpressibleError`."""
    import jinja2  # noqa: PLC0415  (export is the only user of the lexer)

    env = jinja2.Environment(keep_trailing_newline=True)  # noqa: S701  (lexing only: nothing renders)
    out: list[Part] = []
    tag: list[tuple[str, str]] = []
    tag_kind = ""
    try:
        for _line, kind, value in env.lexer.tokeniter(template, None):
            if kind == "data":
                _add_text(out, value)
            elif kind in ("variable_begin", "block_begin"):
                tag, tag_kind = [], kind
            elif kind in ("variable_end", "block_end"):
                out.append(_var(tag) if tag_kind == "variable_begin" else _block(tag))
            elif kind in ("raw_begin", "raw_end", "comment_begin", "comment", "comment_end",
                           "linecomment"):
                continue  # raw content arrives as data; comments render nothing
            elif kind != "whitespace":
                tag.append((kind, value))
    except jinja2.TemplateSyntaxError as exc:
        raise UnexpressibleError(f"the template does not parse: {exc.message}") from None
    return out


def _add_text(out: list[Part], text: str) -> None:
    if out and isinstance(out[-1], Text):
        out[-1] = Text(out[-1].text + text)
    elif text:
        out.append(Text(text))


def _var(tag: list[tuple[str, str]]) -> Var:
    if len(tag) == 1 and tag[0][0] == "name":
        return Var(tag[0][1])
    raise UnexpressibleError("uses a Jinja2 expression {{ " + " ".join(v for _, v in tag) + " }}")


def _block(tag: list[tuple[str, str]]) -> Block:
    words = [v for _, v in tag]
    kinds = [t for t, _ in tag]
    if words in (["else"], ["endif"]):
        return Block(words[0])
    if len(words) == 2 and words[0] == "if" and kinds[1] == "name":
        return Block("if", words[1])
    if len(words) == 3 and words[:2] == ["if", "not"] and kinds[2] == "name":
        return Block("if", words[2], negate=True)
    raise UnexpressibleError("uses Jinja2 control flow {% " + " ".join(words) + " %}")


def variables_only(pieces: list[Part], fmt: str) -> list[Text | Var]:
    """The pieces of a template a `{{var}}`-only format can hold, or the reason it cannot."""
    for piece in pieces:
        if isinstance(piece, Block):
            shown = "{% if " + ("not " if piece.negate else "") + piece.name + " %}" \
                if piece.kind == "if" else "{% " + piece.kind + " %}"
            raise UnexpressibleError(f"uses Jinja2 control flow ({shown}); {fmt} templates only "
                                "substitute variables")
    return [p for p in pieces if not isinstance(p, Block)]


def standalone_tail(pieces: list[Part], i: int) -> str | None:  # noqa: PLR0911  (one exit per case)
    """For block `i` alone on its line, the text after it that Handlebars drops with that line
    (its spaces and newline), so the exporter can write it once more; None when the block
    shares its line with other text or tags."""
    before = pieces[i - 1] if i > 0 else None
    after = pieces[i + 1] if i + 1 < len(pieces) else None
    if before is not None:
        if not isinstance(before, Text):
            return None
        if "\n" in before.text:
            indent = before.text.rsplit("\n", 1)[1]
        elif i - 1 == 0:
            indent = before.text
        else:
            return None
        if indent.strip(" \t"):
            return None
        if indent:
            raise UnexpressibleError("an indented block line would lose its indent in Handlebars")
    if after is None:
        return ""
    if not isinstance(after, Text):
        return None
    head, newline, _rest = after.text.partition("\n")
    if head.strip(" \t"):
        return None
    if not newline and i + 2 < len(pieces):
        return None
    return head + newline
