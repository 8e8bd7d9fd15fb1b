"""The size bounds of the template sandbox, and the arithmetic that checks them in advance.

No single string or list a template builds may exceed `MAX_OUTPUT_CHARS` (characters or items),
no integer `MAX_INT_DIGITS` digits, and no template source `MAX_TEMPLATE_CHARS`. The checks here
work out the size of a result *before* Python builds it (`'a'*10**9`, `9**(9**9)`,
`'%999999999s' % 'a'`, a `replace` or `join` that multiplies its input), so that an attack fails
fast with a message naming the bound instead of only hitting the worker's memory limit, and so
that the in-process fallback, which has no memory limit, is bounded at all.

Separate from `sandbox.env` because this is plain Python arithmetic on sizes with no Jinja2 in
it: `sandbox.env` wires these checks into Jinja2's operators, methods and filters. Importing it
costs nothing (the printf pattern is compiled on first use).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MIB = 1024 * 1024

#: Largest output, and largest string or list a template may build on the way (characters or
#: items). A single value can be ~1 MB, so this leaves room for a prompt that quotes several.
MAX_OUTPUT_CHARS = 8 * MIB
#: Largest integer a template may compute, in decimal digits: Python's own str(int) limit, so no
#: template can build a number that could not be printed anyway.
MAX_INT_DIGITS = 4300
#: Largest template source accepted. Recipe files are at most 256 KiB (DESIGN §2).
MAX_TEMPLATE_CHARS = 1 * MIB

_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.3219280948873626) + 1  # log2(10) bits per digit


class BoundError(Exception):
    """A sandbox bound was exceeded. The message names the bound."""


def too_big(what: str, size: int, unit: str = "characters") -> BoundError:
    return BoundError(
        f"template output exceeds {MAX_OUTPUT_CHARS // MIB} MiB: "
        f"{what} would make {size:,} {unit}"
    )


def check_size(size: int, what: str, unit: str = "characters") -> None:
    """Refuse a string of `size` characters (or a list of `size` items, unit='items')."""
    if size > MAX_OUTPUT_CHARS:
        raise too_big(what, size, unit)


def check_source(source: str) -> None:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise BoundError(
            f"template is longer than {MAX_TEMPLATE_CHARS // MIB} MiB ({len(source):,} chars)"
        )


def _is_sized_sequence(value: object) -> bool:
    return isinstance(value, str | bytes | list | tuple)


def _int_bits(value: int) -> int:
    return abs(value).bit_length()


def _check_int_bits(bits: int, what: str) -> None:
    if bits > _MAX_INT_BITS:
        raise BoundError(f"template number exceeds {MAX_INT_DIGITS:,} digits: {what}")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse, before computing it, any `*`, `**`, `%` or `+` whose result would break a bound."""
    if operator == "*":
        if isinstance(left, int) and isinstance(right, int):
            _check_int_bits(_int_bits(left) + _int_bits(right), f"{left!r:.40} * {right!r:.40}")
        elif _is_sized_sequence(left) and isinstance(right, int):
            _check_size_of(left, len(left) * right, "*")
        elif isinstance(left, int) and _is_sized_sequence(right):
            _check_size_of(right, len(right) * left, "*")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            import math  # noqa: PLC0415  (stdlib, kept off the start-up path)

            # |left| ** right has right * log2(|left|) bits: check before Python computes it.
            if right > _MAX_INT_BITS or right * math.log2(abs(left)) > _MAX_INT_BITS:
                _check_int_bits(_MAX_INT_BITS + 1, f"{left!r:.40} ** {right!r:.40}")
    elif operator == "%":
        if isinstance(left, str):
            check_printf(left, right)
    elif operator == "+" and _is_sized_sequence(left) and _is_sized_sequence(right):
        _check_size_of(left, len(left) + len(right), "+")


def _check_size_of(sample: object, size: int, operator: str) -> None:
    if isinstance(sample, str | bytes):
        check_size(size, f"a string built with {operator}")
    else:
        check_size(size, f"a list built with {operator}", "items")


def _printf_spec() -> Any:
    import re  # noqa: PLC0415  (stdlib, kept off the start-up path)

    return re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)", re.DOTALL)


_PRINTF: Any = None


def check_printf(fmt: str, args: object) -> None:
    """`fmt % args` can be far bigger than both (`'%999999999s' % 'a'`): add up the widths and
    precisions before Python allocates them."""
    global _PRINTF  # noqa: PLW0603 - compiled on first use, to keep `import` cheap
    if "%" not in fmt:
        return
    if _PRINTF is None:
        _PRINTF = _printf_spec()
    total = len(fmt)
    for match in _PRINTF.finditer(fmt):
        for number in match.group(1, 2):
            if not number:
                continue
            if number == "*":
                raise BoundError(
                    "template uses a '*' width in % formatting, which the sandbox does not "
                    "allow (write the width out)"
                )
            # A width of more than 9 digits is over any bound; int() of a huge one would fail.
            total += int(number) if len(number) <= 9 else MAX_OUTPUT_CHARS + 1
    if isinstance(args, str | bytes):
        total += len(args)
    elif isinstance(args, tuple):
        total += sum(len(a) for a in args if isinstance(a, str | bytes))
    check_size(total, "% formatting")


def check_replace(s: str | bytes, old: Any, new: Any, count: Any) -> None:
    if not isinstance(old, str | bytes) or not isinstance(new, str | bytes):
        return
    if len(new) <= len(old):
        return
    hits = len(s) + 1 if not old else s.count(old)  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    check_size(len(s) + hits * (len(new) - len(old)), "replace")


def joined_size(sep: str | bytes, items: list[Any]) -> int:
    size = len(sep) * max(len(items) - 1, 0)
    for item in items:
        # Non-strings are converted by join (or fail); a bounded int prints in <= 4300 digits.
        size += len(item) if isinstance(item, str | bytes) else MAX_INT_DIGITS
    return size


def bounded_list(iterable: Iterable[Any]) -> list[Any]:
    """list(iterable), refusing to go past MAX_OUTPUT_CHARS items."""
    if isinstance(iterable, list | tuple | str):
        check_size(len(iterable), "a list", "items")
        return list(iterable)
    items: list[Any] = []
    for item in iterable:
        items.append(item)
        check_size(len(items), "a list", "items")
    return items


_STR_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})


def checked_method_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Bound the size-amplifying methods of str/bytes; returns possibly rewritten args."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", None)
    if not isinstance(owner, str | bytes) or not isinstance(name, str):
        return args
    if name in _STR_WIDTH_METHODS:
        width = args[0] if args else None
        if isinstance(width, int):
            check_size(width, f"str.{name}({width})")
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tabsize, int):
            tabs = owner.count("\t" if isinstance(owner, str) else b"\t")  # type: ignore[arg-type]
            check_size(len(owner) + tabs * max(tabsize, 0), "str.expandtabs")
    elif name == "replace" and len(args) >= 2:
        check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    elif name == "join" and len(args) == 1:
        items = bounded_list(args[0])
        check_size(joined_size(owner, items), "str.join")
        return (items,)
    return args
