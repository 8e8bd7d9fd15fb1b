"""`promptlib pick`: an interactive finder over the library, then render's questions.

Built on prompt_toolkit, imported here and only here (its ~100 ms import is paid by `pick`
alone). The finder runs on the user's terminal even when stdin is a pipe (`kubectl logs x |
promptlib pick`) or stdout a file: keys come from stdin when it is a terminal, else from
/dev/tty, and the screen is drawn on stderr when it is a terminal, else on /dev/tty — so stdout
only ever holds the prompt. Type to filter (the ranking of `search`, the last word taken as a
prefix while it is being typed), arrows or Ctrl-N/Ctrl-P to move, Enter to choose; Esc or
Ctrl-C leaves, printing nothing.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO

from promptlib.errors import UsageError

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples

    from promptlib.index.search import Hit
    from promptlib.recipe.model import Variable
    from promptlib.store.collections import LoadedRecipe

SHOWN = 50  # hits listed at once: more than fit on a screen
_PLAIN_WORD = re.compile(r"\w[\w-]*")


@dataclass
class Terminal:
    """Where the finder reads keys and draws: the user's terminal, whatever stdin and stdout
    are redirected to."""

    keys: TextIO
    screen: TextIO
    opened: tuple[TextIO, ...] = ()

    def close(self) -> None:
        for handle in self.opened:
            handle.close()


@contextlib.contextmanager
def terminal() -> Iterator[Terminal]:
    """The terminal, or UsageError (exit 2) when there is none (a script, cron, CI)."""
    opened: list[TextIO] = []
    try:
        keys = sys.stdin if sys.stdin.isatty() else _open_tty("r", opened)
        screen = sys.stderr if sys.stderr.isatty() else _open_tty("w", opened)
    except OSError:
        for handle in opened:
            handle.close()
        raise UsageError("pick needs a terminal to choose on",
                         hint="in a script, use `promptlib search WORDS` and then "
                              "`promptlib render NAME`") from None
    term = Terminal(keys, screen, tuple(opened))
    try:
        yield term
    finally:
        term.close()


def _open_tty(mode: Literal["r", "w"], opened: list[TextIO]) -> TextIO:
    from promptlib import paths  # noqa: PLC0415  (only pick needs the terminal's path)

    handle: TextIO = open(paths.TTY, mode, encoding="utf-8")  # noqa: SIM115, PTH123 - closed by Terminal
    opened.append(handle)
    if not handle.isatty():
        raise OSError("not a terminal")
    return handle


def finder_words(text: str) -> list[str]:
    """The search words for what has been typed so far: the last word, still being typed, is a
    prefix (`crashl` finds crashloop) — unless a space already ended it."""
    words = text.split()
    if words and not text[-1:].isspace() and _PLAIN_WORD.fullmatch(words[-1]):
        words[-1] += "*"
    return words


def choose(query: str, find: Callable[[Sequence[str]], list[Hit]],
           preview: Callable[[Hit], str], term: Terminal) -> Hit | None:
    """Run the finder; the chosen hit, or None when the user left (Esc, Ctrl-C, Ctrl-D)."""
    from prompt_toolkit.application import Application  # noqa: PLC0415  (pick only)
    from prompt_toolkit.buffer import Buffer  # noqa: PLC0415  (pick only)
    from prompt_toolkit.data_structures import Point  # noqa: PLC0415  (pick only)
    from prompt_toolkit.input import create_input  # noqa: PLC0415  (pick only)
    from prompt_toolkit.key_binding import KeyBindings  # noqa: PLC0415  (pick only)
    from prompt_toolkit.layout import HSplit, Layout, Window  # noqa: PLC0415  (pick only)
    from prompt_toolkit.layout.controls import (  # noqa: PLC0415  (pick only)
        BufferControl,
        FormattedTextControl,
    )
    from prompt_toolkit.layout.dimension import Dimension  # noqa: PLC0415  (pick only)
    from prompt_toolkit.layout.processors import BeforeInput  # noqa: PLC0415  (pick only)
    from prompt_toolkit.output import create_output  # noqa: PLC0415  (pick only)

    state = _Listing(find(finder_words(query)))
    buffer = Buffer(multiline=False, on_text_changed=lambda b: state.replace(
        find(finder_words(b.text))))
    buffer.text = query
    buffer.cursor_position = len(query)
    keys = KeyBindings()

    @keys.add("up")
    @keys.add("c-p")
    def _up(_event: Any) -> None:
        state.move(-1)

    @keys.add("down")
    @keys.add("c-n")
    def _down(_event: Any) -> None:
        state.move(1)

    @keys.add("enter")
    def _enter(event: Any) -> None:
        if state.current is not None:
            event.app.exit(result=state.current)

    @keys.add("escape", eager=True)
    @keys.add("c-c")
    @keys.add("c-d")
    def _leave(event: Any) -> None:
        event.app.exit(result=None)

    body = HSplit([
        Window(BufferControl(buffer, input_processors=[BeforeInput("pick> ")]), height=1),
        # The cursor on the highlighted line makes the window scroll to keep it in view.
        Window(FormattedTextControl(state.lines, get_cursor_position=lambda: Point(
            0, state.index)), height=Dimension(min=3, max=15, weight=1)),
        Window(char="─", height=1),
        Window(FormattedTextControl(lambda: preview(state.current) if state.current else ""),
               wrap_lines=True, height=Dimension(min=5, weight=2)),
        Window(FormattedTextControl("↑↓ or Ctrl-P/N move · Enter choose · Esc leave"),
               height=1, style="class:hint"),
    ])
    app: Application[Hit | None] = Application(
        layout=Layout(body, focused_element=buffer), key_bindings=keys, full_screen=True,
        style=_style(), input=create_input(term.keys), output=create_output(term.screen))
    app.ttimeoutlen = 0.05  # Esc leaves at once instead of waiting for an Alt- sequence
    return app.run()


class _Listing:
    """The hits shown and which one is highlighted."""

    def __init__(self, hits: list[Hit]):
        self.hits = hits
        self.index = 0

    def replace(self, hits: list[Hit]) -> None:
        self.hits, self.index = hits, 0

    def move(self, step: int) -> None:
        if self.hits:
            self.index = (self.index + step) % len(self.hits)

    @property
    def current(self) -> Hit | None:
        return self.hits[self.index] if self.hits else None

    def lines(self) -> StyleAndTextTuples:
        if not self.hits:
            return [("class:hint", "  no recipes match; fewer words, or another one\n")]
        return [("class:selected" if i == self.index else "",
                 f"{'›' if i == self.index else ' '} {hit.id}  {hit.title}\n")
                for i, hit in enumerate(self.hits)]


def _style() -> Any:
    from prompt_toolkit.styles import Style  # noqa: PLC0415  (pick only)

    return Style.from_dict({"selected": "reverse", "hint": "#888888"})


def preview(item: LoadedRecipe) -> str:
    """The highlighted recipe as the finder shows it: title, id and tags, the description, and
    the variables (what render will ask for, and what it fills in by itself)."""
    from promptlib.cli.recipes import variable_notes  # noqa: PLC0415  (show's wording)

    recipe = item.recipe
    lines = [recipe.title, f"{item.id}  [{', '.join(recipe.tags)}]", "",
             " ".join(recipe.description.split())]
    if recipe.variables:
        lines += ["", "variables:"]
        lines += [f"  {v.name}{variable_notes(v)}" + (f" — {v.description}" if v.description
                                                     else "") for v in recipe.variables]
    return "\n".join(lines)


def asker(term: Terminal) -> Callable[[Variable], str]:
    """render's questions, asked on the same terminal with prompt_toolkit's line editor: a
    choice offers its values as a menu, a default is pre-filled, and a pasted multi-line log is
    taken whole (bracketed paste) until Enter. Esc or Ctrl-C raises KeyboardInterrupt."""
    from prompt_toolkit import PromptSession  # noqa: PLC0415  (pick only)
    from prompt_toolkit.completion import WordCompleter  # noqa: PLC0415  (pick only)
    from prompt_toolkit.input import create_input  # noqa: PLC0415  (pick only)
    from prompt_toolkit.key_binding import KeyBindings  # noqa: PLC0415  (pick only)
    from prompt_toolkit.output import create_output  # noqa: PLC0415  (pick only)
    from prompt_toolkit.validation import Validator  # noqa: PLC0415  (pick only)

    from promptlib.cli.render_flow import question  # noqa: PLC0415  (render's wording)

    keys = KeyBindings()

    @keys.add("escape", eager=True)
    def _leave(event: Any) -> None:
        event.app.exit(exception=KeyboardInterrupt())

    session: PromptSession[str] = PromptSession(
        input=create_input(term.keys), output=create_output(term.screen), key_bindings=keys)
    session.app.ttimeoutlen = 0.05

    def ask(variable: Variable) -> str:
        choices = list(variable.choices or [])
        valid = Validator.from_callable(
            (lambda text: text in choices) if choices else (lambda text: bool(text.strip())),
            error_message=f"choose one of: {', '.join(choices)}" if choices
            else "a value is needed", move_cursor_to_end=True)
        return session.prompt(
            question(variable) + ": ", default=str(variable.default or ""),
            completer=WordCompleter(choices) if choices else None,
            complete_while_typing=bool(choices), validator=valid, validate_while_typing=False,
            pre_run=session.default_buffer.start_completion if choices else None)

    return ask
