"""The Jinja2 side of the template sandbox: the environment, its interceptors, the static check.

Jinja2's `ImmutableSandboxedEnvironment` stops a template from reaching Python internals, but it
bounds nothing. This module builds on it, so that the common attacks fail fast with a specific
message instead of only hitting the worker's rlimits:

- **Interceptors.** `*`, `**`, `%` and `+` are intercepted (`intercepted_binops`; intercepted
  operators are also never constant-folded at compile time), the size-amplifying filters
  (`center`, `indent`, `wordwrap`, `format`, `join`, `replace`, `batch`, `slice`, `tojson`) and
  `str` methods (`center`, `ljust`, `rjust`, `zfill`, `expandtabs`, `replace`, `join`) check the
  size of their result before building it (the arithmetic is in `sandbox.limits`), and `lipsum`
  is bounded. `str.format`/`format_map` are refused outright (the `|format` filter does the same
  job, bounded): they are the route of most published Jinja2 sandbox escapes.
- **A static check** of the parsed template, so that `add`/`lint` refuse an escape attempt
  (`.__class__`, `|attr('_x')`, `''.format`) with a SecurityError even though nothing renders.
- **The output cap.** The output is counted while it is produced (`Template.generate()`), so a
  runaway loop stops at `MAX_OUTPUT_CHARS` instead of filling memory.
- **A cooperative deadline** (`env.deadline`, None in a worker, which the OS bounds instead),
  checked at every output chunk, every intercepted operation and filter, and every 1024 steps of
  `range`: the only time bound of the in-process fallback used where there is no `os.fork`.

`parse`, `analyse` and `render_chunks` are the work itself, the same in a forked worker and
in-process; `promptlib.sandbox.api` decides where they run. Separate from it because this is the
part that knows Jinja2; Jinja2 is imported inside functions only, so importing this module stays
cheap (DESIGN §5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from promptlib.sandbox.limits import (
    MAX_OUTPUT_CHARS,
    MIB,
    BoundError,
    bounded_list,
    check_binop,
    check_printf,
    check_replace,
    check_size,
    check_source,
    checked_method_call,
    joined_size,
)

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_FILENAME = "<template>"  # what Jinja2 names from_string templates in tracebacks


class EscapeError(Exception):
    """The static check found an attempt to reach outside the sandbox."""


class DeadlineError(BoundError):
    """The cooperative deadline of the in-process fallback passed (`promptlib.sandbox.api` words the
    message, since it owns the time budget)."""


# --------------------------------------------------------------------------------------------
# The environment: Jinja2's immutable sandbox plus size interceptors and an optional deadline.

_ENV: ImmutableSandboxedEnvironment | None = None


def environment() -> ImmutableSandboxedEnvironment:
    """The shared environment, built once in the parent so that every forked worker inherits it
    (and the Jinja2 import) for free. It carries no deadline: the worker is bounded by the OS."""
    global _ENV  # noqa: PLW0603 - a per-process cache, built on first use (lazy Jinja2 import)
    if _ENV is None:
        env = make_environment(None)
        # Warm Jinja2's lazy state (the lexer and its regexes, the code generator) once, here,
        # with a fixed trusted template: otherwise every worker rebuilds it and throws it
        # away, which measured ~5 ms of each render.
        env.from_string("{% if a %}{{ b|upper }}{% endif %}\n")
        _ENV = env
    return _ENV


def make_environment(deadline: float | None) -> ImmutableSandboxedEnvironment:
    from jinja2 import DictLoader, StrictUndefined  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)

    env_class = _environment_class()
    env = env_class(
        undefined=StrictUndefined,
        loader=DictLoader({}),
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.deadline = deadline
    return env  # type: ignore[no-any-return]


def tick(env: Any) -> None:
    """The cooperative deadline of the in-process fallback; a no-op in a worker."""
    deadline = env.deadline
    if deadline is not None:
        import time  # noqa: PLC0415  (stdlib, kept off the start-up path)

        if time.monotonic() > deadline:
            raise DeadlineError


_ENV_CLASS: Any = None


def _environment_class() -> Any:
    """The sandbox class, defined on first use so that Jinja2 is imported only when needed."""
    global _ENV_CLASS  # noqa: PLW0603 - defined once, on first use (lazy Jinja2 import)
    if _ENV_CLASS is not None:
        return _ENV_CLASS

    from jinja2.runtime import Context  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)
    from jinja2.utils import generate_lorem_ipsum  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)

    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
        if isinstance(n, int) and isinstance(max, int):
            check_size(n * max * 12, f"lipsum({n}, max={max})")  # words are < 12 chars
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
            tick(self)
            check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(
            __self,  # noqa: N805 - Jinja2's own signature: keeps `self` free as a keyword
            __context: Context,
            __obj: Any,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            tick(__self)
            args = checked_method_call(__obj, args, kwargs)
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


def _bounded_filters() -> dict[str, Callable[..., Any]]:  # noqa: C901  (one small closure per filter)
    """Jinja2's size-amplifying filters, each checking the size of its result before building it.
    (Also what makes constant folding at compile time cheap: a folded call that would break a
    bound raises, and Jinja2 then leaves it to run time.)"""
    from jinja2 import filters as jfilters  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)
    from jinja2.utils import pass_environment, pass_eval_context  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)

    def center(value: Any, width: int = 80) -> str:
        if isinstance(width, int):
            check_size(width, f"center({width})")
        return str(jfilters.do_center(value, width))

    def indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
        s = str(s)
        step = len(width) if isinstance(width, str) else width
        if isinstance(step, int):
            check_size(step, f"indent({step})")
            check_size(len(s) + step * (len(s.splitlines()) + 1), "indent")
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
        import textwrap  # noqa: PLC0415  (stdlib, kept off the start-up path)

        if wrapstring is None:
            wrapstring = str(environment.newline_sequence)
        paragraphs: list[str] = []
        size = 0
        for line in str(s).splitlines():
            tick(environment)
            lines = textwrap.wrap(
                line,
                width=width,
                expand_tabs=False,
                replace_whitespace=False,
                break_long_words=break_long_words,
                break_on_hyphens=break_on_hyphens,
            )
            size += sum(map(len, lines)) + len(wrapstring) * (max(len(lines), 1))
            check_size(size, "wordwrap")
            paragraphs.append(wrapstring.join(lines))
        return wrapstring.join(paragraphs)

    def format_(value: Any, *args: Any, **kwargs: Any) -> str:
        check_printf(str(value), kwargs or args)
        return str(jfilters.do_format(value, *args, **kwargs))

    @pass_eval_context
    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
        if attribute is not None:
            value = map(jfilters.make_attrgetter(eval_ctx.environment, attribute), value)
        items = bounded_list(value)
        if isinstance(d, str):
            check_size(joined_size(d, items), "join")
        return str(jfilters.sync_do_join(eval_ctx, items, d))

    @pass_eval_context
    def replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> str:
        if isinstance(s, str):
            check_replace(s, old, new, count)
        return str(jfilters.do_replace(eval_ctx, s, old, new, count))

    def batch(value: Any, linecount: int, fill_with: Any = None) -> Iterator[list[Any]]:
        if fill_with is not None and isinstance(linecount, int):
            check_size(linecount, f"batch({linecount})", "items")
        return jfilters.do_batch(value, linecount, fill_with)

    def slice_(value: Any, slices: int, fill_with: Any = None) -> Iterator[list[Any]]:
        if isinstance(slices, int):
            check_size(slices, f"slice({slices})", "items")
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
    import json  # noqa: PLC0415  (stdlib, kept off the start-up path)

    from markupsafe import Markup  # noqa: PLC0415  (Jinja2's, only templates pay)

    kwargs = dict(env.policies["json.dumps_kwargs"])
    size = 0
    parts: list[str] = []
    for part in json.JSONEncoder(indent=indent, **kwargs).iterencode(value):
        size += len(part)
        check_size(size, "tojson")
        parts.append(part)
    text = "".join(parts)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 - JSON with <>&' escaped, exactly as Jinja2's tojson


def _ranger(env: Any) -> Callable[..., Any]:
    """The sandbox's `range` (at most MAX_RANGE items); with a cooperative deadline it also
    checks the clock every 1024 steps, since loops over ranges are the cheap way to burn time."""
    from jinja2.sandbox import safe_range  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)

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
                tick(self._env)
            yield value

    def __reversed__(self) -> Iterator[int]:
        return iter(_TickingRange(self._range[::-1], self._env))

    def __repr__(self) -> str:
        return repr(self._range)


# --------------------------------------------------------------------------------------------
# The work itself, the same in a worker and in-process.


def check_static(ast: nodes.Template) -> None:
    """Refuse attribute names no sandboxed template may reach, before anything runs — and
    include/import/extends, which can only fail at render time (there is no other template to
    load), so `add` and `lint` say so instead of accepting a recipe that can never render."""
    from jinja2 import nodes  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)
    from jinja2.exceptions import TemplateSyntaxError  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)

    for loader_node in ast.find_all((nodes.Include, nodes.Import, nodes.FromImport,
                                     nodes.Extends)):
        raise TemplateSyntaxError("a recipe's template cannot include, import or extend other "
                                  "templates", loader_node.lineno)

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
            raise EscapeError(
                f"access to attribute {name!r} is not allowed (template line {node.lineno})"
            )
        if (
            name in ("format", "format_map")
            and isinstance(base, nodes.Const)
            and isinstance(base.value, str)
        ):
            raise EscapeError(
                f"str.{name} is not allowed, use the |format filter (template line {node.lineno})"
            )


def parse(env: Any, source: str) -> nodes.Template:
    check_source(source)
    ast: nodes.Template = env.parse(source)
    check_static(ast)
    return ast


def analyse(env: Any, source: str) -> frozenset[str]:
    from jinja2 import meta  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)

    # find_undeclared_variables runs the code generator, which folds constants: bounded here
    # because this runs in a worker (or, in-process, behind the interceptors).
    return frozenset(meta.find_undeclared_variables(parse(env, source)))


def render_chunks(env: Any, source: str, context: Mapping[str, Any]) -> Iterator[str]:
    """The output as Jinja2 produces it, piece by piece, stopped at MAX_OUTPUT_CHARS: a runaway
    loop ends at the cap instead of filling memory."""
    template = env.from_string(parse(env, source))
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise BoundError(f"template output exceeds {MAX_OUTPUT_CHARS // MIB} MiB")
        tick(env)
        yield chunk
