"""The control-character rules, in one place.

Untrusted text (recipes from other teams, file names in a pulled tree, piped logs) can carry
terminal escape sequences. Tab and newline are text; every other C0 or C1 control is not.
"""

from __future__ import annotations

import re

# Every C0 and C1 control but tab and newline: refused in recipes, dropped from rendered prompts.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The same, or one colour code (SGR): what the console cleans from everything it prints, keeping
# only its own colours.
CONTROL_OR_COLOUR = re.compile(r"\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Every C0 and C1 control, tab and newline included: what a one-line message must escape.
ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# JSON escapes C0 controls itself but not DEL and C1, which some terminals act on.
JSON_C1_ESCAPES = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


# The ASCII characters CONTROL_CHARS does not match, for `has_controls`.
_ASCII_TEXT = bytes(b for b in range(128) if not CONTROL_CHARS.match(chr(b)))


def has_controls(text: str) -> bool:
    """Whether CONTROL_CHARS matches anywhere in `text`. The strict loader asks it of every
    string in every recipe: a regex scan costs ~40 instructions a character, while printable
    text (one line) is told at once, and other ASCII text by a byte table."""
    if text.isprintable():
        return False
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _ASCII_TEXT))
    return CONTROL_CHARS.search(text) is not None


def strip_controls(text: str) -> str:
    return CONTROL_CHARS.sub("", text)


def escape_controls(text: str) -> str:
    """Every control character shown as its escape (`\\x1b`), so a message stays one safe line."""
    return ANY_CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
