"""Render and analyse untrusted Jinja2 templates with bounded time, memory and output.

Recipes from other teams are untrusted (DESIGN §7). Jinja2's `ImmutableSandboxedEnvironment`
stops a template from reaching Python internals, but it bounds nothing: `{{ 9**(9**9) }}` spins
forever, `{{ 'a'*10**9 }}` allocates a gigabyte, and because Jinja2 folds constants while it
compiles, *parsing and analysing* such a template (`jinja2.meta.find_undeclared_variables`) hangs
or allocates just the same. So every step that touches a template's text runs here, bounded.

Design, in three layers:

1. **A forked worker** (POSIX). `os.fork()` a child that parses, analyses or renders; the child
   sets `RLIMIT_AS` (its address space at fork + `MEMORY_BYTES`), `RLIMIT_CPU` (a backstop that
   still fires if the parent itself is killed), `RLIMIT_CORE=0` (a SIGXCPU must not dump a core)
   and `RLIMIT_FSIZE=0`; the parent enforces a wall-clock deadline with `poll()` and SIGKILLs
   the child when it passes. The result comes back through a pipe as framed messages: the UTF-8
   output, streamed in pieces while it is produced, or a small JSON error/result tuple (JSON
   rather than pickle, so nothing the child writes is ever executed by the parent). The context
   is inherited through fork, so a 1 MB value costs no copy on the way in. Why fork rather than
   a thread or `multiprocessing`: a thread cannot be stopped while it is inside one long C call
   (`'a'*10**9`, a big `str.center`), and Python cannot bound one thread's memory;
   `multiprocessing`'s spawn re-imports Jinja2 (~50 ms) per worker, while a fork costs ~1-2 ms
   and the child inherits the already-imported Jinja2 and the already-built environment. The
   child never returns into the caller's code: it ends with `os._exit`, so no atexit handler
   runs and no inherited stdio buffer is flushed twice; it points fds 0-2 at /dev/null and
   closes every other inherited fd (it can never write into the caller's stdout, and a
   concurrent worker's pipe cannot be held open by it); it freezes the GC so a finalizer of a
   parent object can never run in the child. A child that dies of a signal (SIGKILL, SIGXCPU,
   SIGSEGV, an abort under memory pressure) or runs out of memory becomes a TemplateError naming
   the bound, and every child is reaped (`waitpid`) on every path, KeyboardInterrupt included,
   so none is left a zombie.

2. **Interceptors** in the environment, so that the common attacks fail fast with a specific
   message instead of only hitting the rlimit: `*`, `**`, `%` and `+` are intercepted
   (`intercepted_binops`; intercepted operators are also never constant-folded at compile time),
   the size-amplifying filters (`center`, `indent`, `wordwrap`, `format`, `join`, `replace`,
   `batch`, `slice`, `tojson`) and `str` methods (`center`, `ljust`, `rjust`, `zfill`,
   `expandtabs`, `replace`, `join`) check the size of their result before building it, and
   `lipsum` is bounded. No single string or list built by a template may exceed
   `MAX_OUTPUT_CHARS`, no integer `MAX_INT_DIGITS`. `str.format`/`format_map` are refused
   outright (the `|format` filter does the same job, bounded): they are the route of most
   published Jinja2 sandbox escapes.

3. **A static check** of the parsed template, so that `add`/`lint` refuse an escape attempt
   (`.__class__`, `|attr('_x')`, `''.format`) with a SecurityError even though nothing renders.

The output is counted inside the child while it is produced (`Template.generate()`), so a
runaway loop stops at `MAX_OUTPUT_CHARS` instead of filling memory.

`check_templates` analyses many templates in ONE worker: each template gets its own
`RENDER_SECONDS` wall-clock deadline (reset by each result the parent receives) and its own
CPU budget (the child raises its soft `RLIMIT_CPU` before each one). When one template kills or
exhausts the worker, that template gets the error and a fresh worker carries on with the next.

Without `os.fork` (Windows) everything runs in-process, with the interceptors, the output cap,
and a deadline checked cooperatively (at every output chunk, every intercepted operation and
filter, and every 1024 steps of `range`): thread-free, so nothing is left running behind a
timeout, but a single long C call cannot be interrupted, constant folding at compile time is
bounded only by the interceptors, and there is no memory limit beyond the size checks.

Measured on the 2-core dev box (Python 3.11, Jinja2 3.1.6, other work running alongside):
the worker costs ~4-5 ms per render in a warm process (fork ~1 ms; the rest is the child's
copy-on-write page faults while it compiles, and the reap), ~7-8 ms with a 1 MB value rendered into
1 MB of output (vs ~0.4 ms in-process), and ~12 ms in a fresh `render`-like process that pipes in
1 MB (94 ms vs 83 ms whole process, medians). That is the price of a bound that holds against
anything; warming Jinja2's lexer in the parent (below) saves ~5 ms of it per render. Every hostile
template in the tests fails in 0.1-0.7 s (those that only the deadline can stop at 2 s), with
the peak RSS of the whole process tree at most ~240 MiB (the memory bombs; ~20 MiB otherwise),
through the real CLI too.

Jinja2 is imported inside functions only, so `import promptlib.sandbox` stays cheap (DESIGN §5).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from promptlib.errors import SecurityError, TemplateError

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "MAX_INT_DIGITS",
    "MAX_OUTPUT_CHARS",
    "MAX_TEMPLATE_CHARS",
    "MEMORY_BYTES",
    "RENDER_SECONDS",
    "Value",
    "check_templates",
    "render_template",
    "template_variables",
]

Value = str | int | bool | list[str]

_MiB = 1024 * 1024

#: Wall-clock budget of one render, and of the analysis of one template. A real prompt template
#: renders in milliseconds; 2 s is generous even on a loaded laptop.
RENDER_SECONDS = 2.0
#: Memory a worker may add on top of the address space it inherits at fork. The worker's peak
#: RSS is at most what it inherits (~30 MB with Jinja2 loaded) plus this, which keeps the whole
#: process tree under 300 MB while leaving room for 8 MiB outputs of 4-byte characters and their
#: intermediate copies.
MEMORY_BYTES = 224 * _MiB
#: Largest output, and largest string or list a template may build on the way (characters or
#: items). A single value can be ~1 MB, so this leaves room for a prompt that quotes several.
MAX_OUTPUT_CHARS = 8 * _MiB
#: Largest integer a template may compute, in decimal digits: Python's own str(int) limit, so no
#: template can build a number that could not be printed anyway.
MAX_INT_DIGITS = 4300
#: Largest template source accepted. Recipe files are at most 256 KiB (DESIGN §2).
MAX_TEMPLATE_CHARS = 1 * _MiB

_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.3219280948873626) + 1  # log2(10) bits per digit
_MAX_MESSAGE_CHARS = 500  # an error message quoting hostile data must stay one readable line
_TEMPLATE_FILENAME = "<template>"  # what Jinja2 names from_string templates in tracebacks

# Frame kinds on the worker's pipe: b"O" a piece of UTF-8 output, b"E" the end of a good
# output, b"J" a JSON result or error.
_HEADER_SIZE = 9  # 1 kind byte + 8 length bytes, big-endian
_EXIT_OK = 0
_EXIT_CRASH = 70
_EXIT_MEMORY = 71


# --------------------------------------------------------------------------------------------
# Public API


def template_variables(source: str) -> frozenset[str]:
    """The variables a template reads (jinja2.meta.find_undeclared_variables), bounded.

    Raises TemplateError (syntax error: 'template line 3: unexpected }'), SecurityError, or
    TemplateError for a bound exceeded.
    """
    result = check_templates([source])[0]
    if isinstance(result, TemplateError):
        raise result
    return result


def check_templates(sources: Sequence[str]) -> list[frozenset[str] | TemplateError]:
    """`template_variables` for many templates at once, in ONE bounded worker.

    Each template has its own time budget; one hostile template gets its own error and does not
    spoil the others. Errors are returned in place, never raised.
    """
    if isinstance(sources, str):
        raise TypeError("check_templates takes a sequence of templates, not one str")
    sources = list(sources)
    for source in sources:
        if not isinstance(source, str):
            raise TypeError(f"a template is a str, not {type(source).__name__}")
    if not sources:
        return []
    if not _fork_available():
        env = _make_environment(None)
        return [_analyse_in_process(env, source) for source in sources]
    return _analyse_in_workers(_environment(), sources)


def render_template(source: str, context: Mapping[str, Value]) -> str:
    """Render `source` with `context` in the bounded sandbox.

    An ImmutableSandboxedEnvironment with StrictUndefined and an empty DictLoader (no includes),
    autoescape off, keep_trailing_newline=True; bounded in CPU time, memory and output size.
    Raises TemplateError (undefined variable, runtime error, bound exceeded: the message names
    the bound) or SecurityError ('template tried to reach outside the sandbox: ...').
    """
    if not isinstance(source, str):
        raise TypeError(f"a template is a str, not {type(source).__name__}")
    values = _plain_context(context)
    if not _fork_available():
        return _render_in_process(source, values)
    return _render_in_worker(_environment(), source, values)


# --------------------------------------------------------------------------------------------
# Errors: one plain description (kind, message) that crosses the pipe and becomes an exception.


class _BoundError(Exception):
    """A sandbox bound was exceeded. The message names the bound."""


class _EscapeError(Exception):
    """The static check found an attempt to reach outside the sandbox."""


def _too_big(what: str, size: int, unit: str = "characters") -> _BoundError:
    return _BoundError(
        f"template output exceeds {MAX_OUTPUT_CHARS // _MiB} MiB: "
        f"{what} would make {size:,} {unit}"
    )


def _timeout_message() -> str:
    return f"template took longer than {RENDER_SECONDS:g} s"


def _memory_message() -> str:
    return f"template used more than {MEMORY_BYTES // _MiB} MiB of memory"


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[: _MAX_MESSAGE_CHARS - 1] + "…"
    return text


def _template_line(exc: BaseException) -> int | None:
    """The template line of the innermost template frame of a (Jinja2-rewritten) traceback."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(exc: BaseException) -> tuple[str, str]:
    """(kind, message) for an exception raised while handling a template. Kinds: 'template',
    'security', 'memory'."""
    from jinja2 import exceptions as jexc

    if isinstance(exc, MemoryError):
        return "memory", _memory_message()
    if isinstance(exc, jexc.TemplateSyntaxError):
        # Includes TemplateAssertionError (an unknown filter or test), which knows its line too.
        where = f"template line {exc.lineno}: " if exc.lineno else "template: "
        return "template", where + _short(exc.message or str(exc))
    line = _template_line(exc)
    where = f" (template line {line})" if line else ""
    if isinstance(exc, _EscapeError):  # its message already names the line
        return "security", f"template tried to reach outside the sandbox: {_short(str(exc))}"
    if isinstance(exc, jexc.SecurityError):
        return "security", f"template tried to reach outside the sandbox: {_short(str(exc))}{where}"
    if isinstance(exc, _BoundError):
        message = _short(str(exc)) + where
    elif isinstance(exc, RecursionError):
        message = (f"template nests or recurses too deeply (more than "
                   f"{sys.getrecursionlimit()} Python frames){where}")
    elif isinstance(exc, OverflowError) and "MAX_RANGE" in str(exc):
        from jinja2.sandbox import MAX_RANGE

        message = f"template range too big: at most {MAX_RANGE:,} items{where}"
    else:
        prefix = f"template line {line}: " if line else "template: "
        detail = _short(str(exc))
        if not isinstance(exc, jexc.TemplateError):  # UndefinedError etc. speak for themselves
            name = type(exc).__name__
            detail = f"{name}: {detail}" if detail else name
        message = prefix + detail
    return "template", message


def _make_error(kind: str, message: str) -> TemplateError:
    if kind == "security":
        return SecurityError(message)
    return TemplateError(message)


# --------------------------------------------------------------------------------------------
# The context: plain data only (defence in depth: no object with methods of its own gets in).


def _plain_context(context: Mapping[str, Value]) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for key, value in context.items():
        if type(key) is not str:
            raise TemplateError(f"template variable names are strings, not {type(key).__name__}")
        kind = type(value)
        if kind is str or kind is int or kind is bool:
            values[key] = value
        elif kind is list and all(type(item) is str for item in value):  # type: ignore[union-attr]
            values[key] = list(value)  # type: ignore[arg-type]
        else:
            raise TemplateError(
                f"variable {key!r}: only strings, integers, booleans and lists of strings can "
                f"go into a template, not {kind.__name__}"
            )
    return values


# --------------------------------------------------------------------------------------------
# The environment: Jinja2's immutable sandbox plus size interceptors and an optional deadline.

_ENV: ImmutableSandboxedEnvironment | None = None


def _environment() -> ImmutableSandboxedEnvironment:
    """The shared environment, built once in the parent so that every forked worker inherits it
    (and the Jinja2 import) for free. It carries no deadline: the worker is bounded by the OS."""
    global _ENV  # noqa: PLW0603 - a per-process cache, built on first use (lazy Jinja2 import)
    if _ENV is None:
        env = _make_environment(None)
        # Warm Jinja2's lazy state (the lexer and its regexes, the code generator) once, here,
        # with a fixed trusted template: otherwise every worker rebuilds it and throws it
        # away, which measured ~5 ms of each render.
        env.from_string("{% if a %}{{ b|upper }}{% endif %}\n")
        _ENV = env
    return _ENV


def _make_environment(deadline: float | None) -> ImmutableSandboxedEnvironment:
    from jinja2 import DictLoader, StrictUndefined

    env_class = _environment_class()
    env = env_class(
        undefined=StrictUndefined,
        loader=DictLoader({}),
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.deadline = deadline
    return env  # type: ignore[no-any-return]


def _tick(env: Any) -> None:
    """The cooperative deadline of the in-process fallback; a no-op in a worker."""
    deadline = env.deadline
    if deadline is not None:
        import time

        if time.monotonic() > deadline:
            raise _BoundError(_timeout_message())


def _check_chars(size: int, what: str) -> None:
    if size > MAX_OUTPUT_CHARS:
        raise _too_big(what, size)


def _check_items(size: int, what: str) -> None:
    if size > MAX_OUTPUT_CHARS:
        raise _too_big(what, size, "items")


def _is_sized_sequence(value: object) -> bool:
    return isinstance(value, str | bytes | list | tuple)


def _int_bits(value: int) -> int:
    return abs(value).bit_length()


def _check_int_bits(bits: int, what: str) -> None:
    if bits > _MAX_INT_BITS:
        raise _BoundError(f"template number exceeds {MAX_INT_DIGITS:,} digits: {what}")


def _check_binop(operator: str, left: Any, right: Any) -> None:
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
            import math

            # |left| ** right has right * log2(|left|) bits: check before Python computes it.
            if right > _MAX_INT_BITS or right * math.log2(abs(left)) > _MAX_INT_BITS:
                _check_int_bits(_MAX_INT_BITS + 1, f"{left!r:.40} ** {right!r:.40}")
    elif operator == "%":
        if isinstance(left, str):
            _check_printf(left, right)
    elif operator == "+" and _is_sized_sequence(left) and _is_sized_sequence(right):
        _check_size_of(left, len(left) + len(right), "+")


def _check_size_of(sample: object, size: int, operator: str) -> None:
    if isinstance(sample, str | bytes):
        _check_chars(size, f"a string built with {operator}")
    else:
        _check_items(size, f"a list built with {operator}")


def _printf_spec() -> Any:
    import re

    return re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)", re.DOTALL)


_PRINTF: Any = None


def _check_printf(fmt: str, args: object) -> None:
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
                raise _BoundError(
                    "template uses a '*' width in % formatting, which the sandbox does not "
                    "allow (write the width out)"
                )
            # A width of more than 9 digits is over any bound; int() of a huge one would fail.
            total += int(number) if len(number) <= 9 else MAX_OUTPUT_CHARS + 1
    if isinstance(args, str | bytes):
        total += len(args)
    elif isinstance(args, tuple):
        total += sum(len(a) for a in args if isinstance(a, str | bytes))
    _check_chars(total, "% formatting")


def _check_replace(s: str | bytes, old: Any, new: Any, count: Any) -> None:
    if not isinstance(old, str | bytes) or not isinstance(new, str | bytes):
        return
    if len(new) <= len(old):
        return
    hits = len(s) + 1 if not old else s.count(old)  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _check_chars(len(s) + hits * (len(new) - len(old)), "replace")


def _joined_size(sep: str | bytes, items: list[Any]) -> int:
    size = len(sep) * max(len(items) - 1, 0)
    for item in items:
        # Non-strings are converted by join (or fail); a bounded int prints in <= 4300 digits.
        size += len(item) if isinstance(item, str | bytes) else MAX_INT_DIGITS
    return size


_STR_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})


def _checked_method_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Bound the size-amplifying methods of str/bytes; returns possibly rewritten args."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", None)
    if not isinstance(owner, str | bytes) or not isinstance(name, str):
        return args
    if name in _STR_WIDTH_METHODS:
        width = args[0] if args else None
        if isinstance(width, int):
            _check_chars(width, f"str.{name}({width})")
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tabsize, int):
            tabs = owner.count("\t" if isinstance(owner, str) else b"\t")  # type: ignore[arg-type]
            _check_chars(len(owner) + tabs * max(tabsize, 0), "str.expandtabs")
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    elif name == "join" and len(args) == 1:
        items = _bounded_list(args[0])
        _check_chars(_joined_size(owner, items), "str.join")
        return (items,)
    return args


def _bounded_list(iterable: Iterable[Any]) -> list[Any]:
    """list(iterable), refusing to go past MAX_OUTPUT_CHARS items."""
    if isinstance(iterable, list | tuple | str):
        _check_items(len(iterable), "a list")
        return list(iterable)
    items: list[Any] = []
    for item in iterable:
        items.append(item)
        if len(items) > MAX_OUTPUT_CHARS:
            raise _too_big("a list", len(items), "items")
    return items


_ENV_CLASS: Any = None


def _environment_class() -> Any:
    """The sandbox class, defined on first use so that Jinja2 is imported only when needed."""
    global _ENV_CLASS  # noqa: PLW0603 - defined once, on first use (lazy Jinja2 import)
    if _ENV_CLASS is not None:
        return _ENV_CLASS

    from jinja2.runtime import Context
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.utils import generate_lorem_ipsum

    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        if isinstance(n, int) and isinstance(max, int):
            _check_chars(n * max * 12, f"lipsum({n}, max={max})")  # words are < 12 chars
        return str(generate_lorem_ipsum(n, html, min, max))

    bounded_filters = _bounded_filters()

    class SandboxEnvironment(ImmutableSandboxedEnvironment):
        # Intercepted binops go through call_binop at run time and are never constant-folded
        # at compile time, so `{{ 9**(9**9) }}` cannot hang parsing either.
        intercepted_binops = frozenset({"*", "**", "%", "+"})
        deadline: float | None = None

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.filters.update(bounded_filters)
            self.globals["lipsum"] = lipsum
            self.globals["range"] = _ranger(self)

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            _tick(self)
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(
            __self,  # noqa: N805 - Jinja2's own signature: keeps `self` free as a keyword
            __context: Context,
            __obj: Any,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            _tick(__self)
            args = _checked_method_call(__obj, args, kwargs)
            return super().call(__context, __obj, *args, **kwargs)

        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            # str.format/format_map are the classic escape route (CVE-2016-10745,
            # CVE-2019-10906, CVE-2024-56326, CVE-2025-27516); refuse them outright.
            if isinstance(obj, str | bytes) and attr in ("format", "format_map"):
                return False
            return bool(super().is_safe_attribute(obj, attr, value))

        def wrap_str_format(self, value: Any) -> None:
            # Jinja2 hands out a sandboxed wrapper for str.format *before* asking
            # is_safe_attribute; returning None sends every access through the refusal above.
            del value

    _ENV_CLASS = SandboxEnvironment
    return SandboxEnvironment


def _bounded_filters() -> dict[str, Callable[..., Any]]:
    """Jinja2's size-amplifying filters, each checking the size of its result before building it.
    (Also what makes constant folding at compile time cheap: a folded call that would break a
    bound raises, and Jinja2 then leaves it to run time.)"""
    from jinja2 import filters as jfilters
    from jinja2.utils import pass_environment, pass_eval_context

    def center(value: Any, width: int = 80) -> str:
        if isinstance(width, int):
            _check_chars(width, f"center({width})")
        return str(jfilters.do_center(value, width))

    def indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
        s = str(s)
        step = len(width) if isinstance(width, str) else width
        if isinstance(step, int):
            _check_chars(step, f"indent({step})")
            _check_chars(len(s) + step * (len(s.splitlines()) + 1), "indent")
        return str(jfilters.do_indent(s, width, first, blank))

    @pass_environment
    def wordwrap(
        environment: Any,
        s: Any,
        width: int = 79,
        break_long_words: bool = True,
        wrapstring: str | None = None,
        break_on_hyphens: bool = True,
    ) -> str:
        # Jinja2's own wordwrap, with the size added up before the final join.
        import textwrap

        if wrapstring is None:
            wrapstring = str(environment.newline_sequence)
        paragraphs: list[str] = []
        size = 0
        for line in str(s).splitlines():
            _tick(environment)
            lines = textwrap.wrap(
                line,
                width=width,
                expand_tabs=False,
                replace_whitespace=False,
                break_long_words=break_long_words,
                break_on_hyphens=break_on_hyphens,
            )
            size += sum(map(len, lines)) + len(wrapstring) * (max(len(lines), 1))
            _check_chars(size, "wordwrap")
            paragraphs.append(wrapstring.join(lines))
        return wrapstring.join(paragraphs)

    def format_(value: Any, *args: Any, **kwargs: Any) -> str:
        _check_printf(str(value), kwargs or args)
        return str(jfilters.do_format(value, *args, **kwargs))

    @pass_eval_context
    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
        if attribute is not None:
            value = map(jfilters.make_attrgetter(eval_ctx.environment, attribute), value)
        items = _bounded_list(value)
        if isinstance(d, str):
            _check_chars(_joined_size(d, items), "join")
        return str(jfilters.sync_do_join(eval_ctx, items, d))

    @pass_eval_context
    def replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> str:
        if isinstance(s, str):
            _check_replace(s, old, new, count)
        return str(jfilters.do_replace(eval_ctx, s, old, new, count))

    def batch(value: Any, linecount: int, fill_with: Any = None) -> Iterator[list[Any]]:
        if fill_with is not None and isinstance(linecount, int):
            _check_items(linecount, f"batch({linecount})")
        return jfilters.do_batch(value, linecount, fill_with)

    def slice_(value: Any, slices: int, fill_with: Any = None) -> Iterator[list[Any]]:
        if isinstance(slices, int):
            _check_items(slices, f"slice({slices})")
        return jfilters.sync_do_slice(value, slices, fill_with)

    @pass_eval_context
    def tojson(eval_ctx: Any, value: Any, indent: int | None = None) -> Any:
        return _tojson(eval_ctx.environment, value, indent)

    return {
        "center": center,
        "indent": indent,
        "wordwrap": wordwrap,
        "format": format_,
        "join": join,
        "replace": replace,
        "batch": batch,
        "slice": slice_,
        "tojson": tojson,
    }


def _tojson(env: Any, value: Any, indent: int | None) -> Any:
    """Jinja2's tojson, streamed so that an `indent` amplification stops at the bound."""
    import json

    from markupsafe import Markup

    kwargs = dict(env.policies["json.dumps_kwargs"])
    size = 0
    parts: list[str] = []
    for part in json.JSONEncoder(indent=indent, **kwargs).iterencode(value):
        size += len(part)
        if size > MAX_OUTPUT_CHARS:
            raise _too_big("tojson", size)
        parts.append(part)
    text = "".join(parts)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 - JSON with <>&' escaped, exactly as Jinja2's tojson


def _ranger(env: Any) -> Callable[..., Any]:
    """The sandbox's `range` (at most MAX_RANGE items); with a cooperative deadline it also
    checks the clock every 1024 steps, since loops over ranges are the cheap way to burn time."""
    from jinja2.sandbox import safe_range

    def bounded_range(*args: int) -> Any:
        rng = safe_range(*args)
        if env.deadline is None:
            return rng
        return _TickingRange(rng, env)

    return bounded_range


class _TickingRange(Sequence[int]):
    """A range that checks the in-process deadline while it is iterated."""

    def __init__(self, rng: range, env: Any) -> None:
        self._range = rng
        self._env = env

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, index: Any) -> Any:
        item = self._range[index]
        return _TickingRange(item, self._env) if isinstance(item, range) else item

    def __contains__(self, value: object) -> bool:
        return value in self._range

    def __iter__(self) -> Iterator[int]:
        for step, value in enumerate(self._range):
            if not step & 1023:
                _tick(self._env)
            yield value

    def __reversed__(self) -> Iterator[int]:
        return iter(_TickingRange(self._range[::-1], self._env))

    def __repr__(self) -> str:
        return repr(self._range)


# --------------------------------------------------------------------------------------------
# The work itself, the same in a worker and in-process.


def _check_source(source: str) -> None:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise _BoundError(
            f"template is longer than {MAX_TEMPLATE_CHARS // _MiB} MiB ({len(source):,} chars)"
        )


def _check_static(ast: nodes.Template) -> None:
    """Refuse attribute names no sandboxed template may reach, before anything runs."""
    from jinja2 import nodes

    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.NSRef)):
        name: object = None
        base: object = None
        if isinstance(node, nodes.Getattr | nodes.NSRef):
            name = node.attr
            base = getattr(node, "node", None)
        elif isinstance(node, nodes.Getitem):
            # x['_id'] can be an ordinary dict key; x['__class__'] never is.
            if (
                isinstance(node.arg, nodes.Const)
                and isinstance(node.arg.value, str)
                and node.arg.value.startswith("__")
            ):
                name = node.arg.value
        elif (
            isinstance(node, nodes.Filter)
            and node.name == "attr"
            and node.args
            and isinstance(node.args[0], nodes.Const)
        ):
            name = node.args[0].value
            base = node.node
        if not isinstance(name, str):
            continue
        if name.startswith("_"):
            raise _EscapeError(
                f"access to attribute {name!r} is not allowed (template line {node.lineno})"
            )
        if (
            name in ("format", "format_map")
            and isinstance(base, nodes.Const)
            and isinstance(base.value, str)
        ):
            raise _EscapeError(
                f"str.{name} is not allowed, use the |format filter (template line {node.lineno})"
            )


def _parse(env: Any, source: str) -> nodes.Template:
    _check_source(source)
    ast: nodes.Template = env.parse(source)
    _check_static(ast)
    return ast


def _analyse(env: Any, source: str) -> frozenset[str]:
    from jinja2 import meta

    # find_undeclared_variables runs the code generator, which folds constants: bounded here
    # because this runs in a worker (or, in-process, behind the interceptors).
    return frozenset(meta.find_undeclared_variables(_parse(env, source)))


def _render_chunks(env: Any, source: str, context: dict[str, Value]) -> Iterator[str]:
    """The output as Jinja2 produces it, piece by piece, stopped at MAX_OUTPUT_CHARS: a runaway
    loop ends at the cap instead of filling memory."""
    template = env.from_string(_parse(env, source))
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise _BoundError(f"template output exceeds {MAX_OUTPUT_CHARS // _MiB} MiB")
        _tick(env)
        yield chunk


def _render(env: Any, source: str, context: dict[str, Value]) -> str:
    return "".join(_render_chunks(env, source, context))


def _deadline() -> float:
    import time

    return time.monotonic() + RENDER_SECONDS


def _render_in_process(source: str, context: dict[str, Value]) -> str:
    env = _make_environment(_deadline())
    try:
        return _render(env, source, context)
    except Exception as exc:  # noqa: BLE001 - every failure of a template becomes TemplateError
        error = _make_error(*_describe(exc))
    raise error


def _analyse_in_process(env: Any, source: str) -> frozenset[str] | TemplateError:
    env.deadline = _deadline()
    try:
        return _analyse(env, source)
    except Exception as exc:  # noqa: BLE001 - every failure of a template becomes TemplateError
        return _make_error(*_describe(exc))


# --------------------------------------------------------------------------------------------
# The forked worker.


def _fork_available() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


def _write_frame(fd: int, kind: bytes, payload: bytes) -> None:
    header = kind + len(payload).to_bytes(_HEADER_SIZE - 1, "big")
    for data in (header, payload):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]


def _write_json(fd: int, value: object) -> None:
    import json

    _write_frame(fd, b"J", json.dumps(value).encode("utf-8"))


def _address_space() -> int:
    """This process's current virtual size (what RLIMIT_AS counts), in bytes."""
    try:
        with open("/proc/self/statm", "rb") as statm:  # noqa: PTH123 - one cheap read, no pathlib
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        # No /proc (macOS, BSD): the peak RSS is the best cheap estimate there is.
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return maxrss if sys.platform == "darwin" else maxrss * 1024


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    import resource

    _, current_hard = resource.getrlimit(which)
    if hard is None:
        hard = current_hard
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard) if hard != resource.RLIM_INFINITY else current_hard
        soft = min(soft, hard)
    # Some platforms (macOS for RLIMIT_AS) refuse a limit: the deadline still holds.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (soft, hard))


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_budget() -> int:
    # Whole seconds (RLIMIT_CPU's unit), one more than the wall-clock budget: the parent's
    # deadline fires first; this one only matters if the parent is gone.
    return int(RENDER_SECONDS) + 2


def _enter_child(write_fd: int, address_space: int) -> None:
    """Cut the child loose from the caller's process state, then bound it."""
    import gc
    import resource
    import signal

    # Never run a finalizer of a parent object here (a temp file's cleanup, a lock file's).
    gc.freeze()
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)  # Ctrl-C ends the child; the parent reaps it
    except ValueError:
        pass  # not the main thread (should not happen: the forking thread is the child's main)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, write_fd)
    os.closerange(write_fd + 1, 1 << 20)
    # Memory: what we inherited, plus the budget. RSS can never exceed the address space.
    _set_limit(resource.RLIMIT_AS, address_space + MEMORY_BYTES, None)
    _set_limit(resource.RLIMIT_CORE, 0, 0)  # SIGXCPU and SIGSEGV would otherwise dump a core
    _set_limit(resource.RLIMIT_FSIZE, 0, None)  # the pipe is the only thing the child writes


def _child(job: Callable[[int], None], write_fd: int, address_space: int) -> NoReturn:
    code = _EXIT_CRASH
    try:
        _enter_child(write_fd, address_space)
        job(write_fd)
        code = _EXIT_OK
    except MemoryError:
        code = _EXIT_MEMORY
    except BaseException:  # noqa: BLE001, S110 - the exit code tells the parent; nothing to print
        pass
    finally:
        # Never return into the caller's code, never run atexit, never flush inherited buffers.
        os._exit(code)


def _grow_pipe(fd: int) -> None:
    """A 1 MiB pipe (Linux) lets a typical output through in one write, not 16 round trips."""
    import fcntl

    size_op = getattr(fcntl, "F_SETPIPE_SZ", None)
    if size_op is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, size_op, _MiB)


class _Worker:
    """One forked child and the read end of its pipe."""

    def __init__(self, job: Callable[[int], None]) -> None:
        # Everything the child needs is imported here, before the fork: an import in the child
        # would cost time in every worker and run under the memory limit.
        import gc  # noqa: F401
        import json  # noqa: F401
        import math  # noqa: F401
        import resource  # noqa: F401
        import select
        import signal  # noqa: F401
        import time  # noqa: F401
        import warnings

        # Measured here rather than in the child: identical at fork, and cheaper before it.
        address_space = _address_space()
        read_fd, write_fd = os.pipe()
        try:
            # Everything that can fail is done before the fork, so that after it nothing stands
            # between the child and the `with` block that reaps it.
            _grow_pipe(read_fd)
            self.poller = select.poll()
            self.poller.register(read_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
            with warnings.catch_warnings():
                # Python >= 3.12 warns about fork in a threaded process; the child only runs
                # our code and imports nothing, so the warning does not apply.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except BaseException:
            os.close(read_fd)
            os.close(write_fd)
            raise
        if pid == 0:
            os.close(read_fd)
            _child(job, write_fd, address_space)
        os.close(write_fd)
        self.pid: int | None = pid
        self.fd = read_fd
        self.buffer = bytearray()
        self.eof = False
        self.status: int | None = None

    def frame(self, deadline: float) -> tuple[bytes, bytes] | None:
        """The next frame, or None at end of stream. Raises TimeoutError at the deadline."""
        import time

        while True:
            if len(self.buffer) >= _HEADER_SIZE:
                size = int.from_bytes(self.buffer[1:_HEADER_SIZE], "big")
                end = _HEADER_SIZE + size
                if len(self.buffer) >= end:
                    kind = bytes(self.buffer[:1])
                    with memoryview(self.buffer) as view:
                        payload = bytes(view[_HEADER_SIZE:end])
                    del self.buffer[:end]  # cheap: bytearray drops its head in place
                    return kind, payload
            if self.eof:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.poller.poll(max(1, int(remaining * 1000) + 1)):
                if time.monotonic() >= deadline:
                    raise TimeoutError
                continue
            chunk = os.read(self.fd, _MiB)
            if chunk:
                self.buffer += chunk
            else:
                self.eof = True

    def close(self, kill: bool = False) -> int:
        """Reap the child (killing it first if asked or if it is still running)."""
        import signal

        if self.pid is not None:
            pid, self.pid = self.pid, None
            if kill:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                _, self.status = os.waitpid(pid, 0)
            except ChildProcessError:
                # The caller set SIGCHLD to SIG_IGN: the kernel reaped the child, status unknown.
                self.status = -1
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        return self.status if self.status is not None else 0

    def __enter__(self) -> _Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        # On any way out (an exception, KeyboardInterrupt), the child is killed and reaped.
        self.close(kill=self.pid is not None and not self.eof)


def _death_error(status: int) -> TemplateError:
    """The error for a worker that ended without a result."""
    import signal

    if status < 0:
        return TemplateError("the template sandbox worker ended without a result")
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum == signal.SIGXCPU:
            return TemplateError(_timeout_message())
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        return TemplateError(
            f"{_memory_message()}, or crashed the sandbox worker ({name})"
            if signum != signal.SIGKILL
            else f"{_memory_message()} (the sandbox worker was killed by SIGKILL)"
        )
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    if code == _EXIT_MEMORY:
        return TemplateError(_memory_message())
    return TemplateError(f"the template sandbox worker failed (exit status {code})")


_STREAM_CHARS = 64 * 1024  # the child sends output in pieces of about this size


def _stream_output(fd: int, chunks: Iterable[str]) -> None:
    """Send the output while it is produced: the child never holds the whole of it, nor a
    second, encoded copy, and the parent reads in parallel."""
    pending: list[str] = []
    pending_size = 0
    for chunk in chunks:
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size >= _STREAM_CHARS:
            text = pending[0] if len(pending) == 1 else "".join(pending)
            _write_frame(fd, b"O", text.encode("utf-8", "surrogatepass"))
            pending, pending_size = [], 0
    if pending:
        _write_frame(fd, b"O", "".join(pending).encode("utf-8", "surrogatepass"))


def _render_in_worker(env: Any, source: str, context: dict[str, Value]) -> str:
    def job(fd: int) -> None:
        _set_limit(_rlimit_cpu(), _cpu_budget(), _cpu_budget() + 1)
        try:
            _stream_output(fd, _render_chunks(env, source, context))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is described to the parent
            _write_json(fd, list(_describe(exc)))
        else:
            _write_frame(fd, b"E", b"")

    pieces: list[bytes] = []
    with _Worker(job) as worker:
        deadline = _deadline()
        try:
            while (frame := worker.frame(deadline)) is not None and frame[0] == b"O":
                pieces.append(frame[1])
        except TimeoutError:
            worker.close(kill=True)
            raise TemplateError(_timeout_message()) from None
        # At end of stream the child has exited (SIGKILL to a zombie changes nothing); the kill
        # only guards against waiting forever on a child that closed its pipe and lives on.
        status = worker.close(kill=frame is None)
    if frame is None:
        raise _death_error(status)
    kind, payload = frame
    if kind == b"E":
        return b"".join(pieces).decode("utf-8", "surrogatepass")
    import json

    error_kind, message = json.loads(payload)
    raise _make_error(error_kind, message)


def _rlimit_cpu() -> int:
    import resource

    return resource.RLIMIT_CPU


def _analyse_in_workers(
    env: Any, sources: list[str]
) -> list[frozenset[str] | TemplateError]:
    import json
    import time

    results: list[frozenset[str] | TemplateError | None] = [None] * len(sources)
    start = 0
    while start < len(sources):
        first = start

        def job(fd: int, first: int = first) -> None:
            for index in range(first, len(sources)):
                # Each template gets its own CPU budget on top of what the worker has used.
                _set_limit(_rlimit_cpu(), int(_cpu_seconds()) + _cpu_budget())
                try:
                    names = _analyse(env, sources[index])
                except MemoryError:
                    raise  # the exit status says it; the parent restarts after this template
                except Exception as exc:  # noqa: BLE001 - described to the parent
                    _write_json(fd, [index, "error", *_describe(exc)])
                else:
                    _write_json(fd, [index, "ok", sorted(names)])

        with _Worker(job) as worker:
            deadline = time.monotonic() + RENDER_SECONDS
            try:
                while start < len(sources):
                    frame = worker.frame(deadline)
                    if frame is None:
                        break
                    message = json.loads(frame[1])
                    index, outcome = message[0], message[1]
                    results[index] = (
                        frozenset(message[2]) if outcome == "ok" else _make_error(*message[2:4])
                    )
                    start = index + 1
                    deadline = time.monotonic() + RENDER_SECONDS
            except TimeoutError:
                worker.close(kill=True)
                results[start] = TemplateError(_timeout_message())
                start += 1
                continue
            status = worker.close(kill=frame is None)
        if start < len(sources):
            # The worker ended without finishing: the template it was on is the culprit.
            results[start] = _death_error(status)
            start += 1
    return [r if r is not None else TemplateError("template was not analysed") for r in results]
