"""JSON as `--json` prints it: `json.dumps(doc, indent=2, ensure_ascii=False, default=str)`,
to the character, in half the time.

Why: with `indent`, the standard library leaves its C encoder for a pure-Python one made of
nested generators, ~35 ms for a report's 1.4 MB document at 10,000 recipes. `dumps_indented`
is one recursive function over the same rules (checked against `json.dumps` by
tests/test_utils.py); anything it does not take the short way (a circular document, one too
deep for recursion, a key json refuses) is handed to `json.dumps`, which says what it says.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# The C encoder's string escaping, which json.dumps uses too (ensure_ascii=False).
_escape: Callable[[str], str] = json.encoder.encode_basestring
_INFINITY = float("inf")


def dumps_indented(document: Any) -> str:
    """`json.dumps(document, indent=2, ensure_ascii=False, default=str)`."""
    out: list[str] = []
    try:
        _encode(document, "\n", out.append)
    except (RecursionError, TypeError, ValueError):
        return json.dumps(document, indent=2, ensure_ascii=False, default=str)
    return "".join(out)


def _float(value: float) -> str:
    if value != value:  # noqa: PLR0124 - NaN, the one float unequal to itself
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


_CONSTANTS = {id(None): "null", id(True): "true", id(False): "false"}


def _scalar(value: Any) -> str | None:
    """A leaf as json writes it, in json's order of checks; None for a container or other."""
    if isinstance(value, str):
        return _escape(value)
    constant = _CONSTANTS.get(id(value))
    if constant is not None:  # None, True, False: the objects themselves
        return constant
    if isinstance(value, int):
        return int.__repr__(value)
    return _float(value) if isinstance(value, float) else None


def _key(key: Any) -> str:
    """A dict key as json writes it; TypeError for one it refuses (json.dumps then raises)."""
    if isinstance(key, str):
        return _escape(key)
    if isinstance(key, float):
        return _escape(_float(key))
    if key is True or key is False or key is None:
        return _escape({True: "true", False: "false", None: "null"}[key])
    if isinstance(key, int):
        return _escape(int.__repr__(key))
    raise TypeError(key)


def _encode(value: Any, newline: str, write: Callable[[str], None]) -> None:
    """`value` at the indentation `newline` (a newline and its spaces) has."""
    if type(value) is str:  # the commonest leaf first
        write(_escape(value))
        return
    leaf = _scalar(value)
    if leaf is not None:
        write(leaf)
    elif isinstance(value, list | tuple):
        _encode_list(value, newline, write)
    elif isinstance(value, dict):
        _encode_dict(value, newline, write)
    else:
        _encode(str(value), newline, write)  # default=str


def _encode_list(items: list[Any] | tuple[Any, ...], newline: str,
                 write: Callable[[str], None]) -> None:
    if not items:
        write("[]")
        return
    inner = newline + "  "
    separator = "[" + inner
    for item in items:
        write(separator)
        separator = "," + inner
        _encode(item, inner, write)
    write(newline + "]")


def _encode_dict(mapping: dict[Any, Any], newline: str, write: Callable[[str], None]) -> None:
    if not mapping:
        write("{}")
        return
    inner = newline + "  "
    separator = "{" + inner
    for key, item in mapping.items():
        write(separator + _key(key) + ": ")
        separator = "," + inner
        _encode(item, inner, write)
    write(newline + "}")
