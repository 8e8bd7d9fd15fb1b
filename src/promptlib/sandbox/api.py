"""Render and analyse untrusted Jinja2 templates with bounded time, memory and output.

Recipes from other teams are untrusted (DESIGN §7). Jinja2's `ImmutableSandboxedEnvironment`
stops a template from reaching Python internals, but it bounds nothing: `{{ 9**(9**9) }}` spins
forever, `{{ 'a'*10**9 }}` allocates a gigabyte, and because Jinja2 folds constants while it
compiles, *parsing and analysing* a template (`jinja2.meta.find_undeclared_variables`) hangs
or allocates just the same. So every step that touches a template's text runs here, bounded.

This module is the public API (`render_template`, `template_variables`, `check_templates`, the
bounds) and decides where the work runs; the rest of the design is in three modules:

1. `sandbox.worker`: **a forked worker** (POSIX) with rlimits on memory and CPU, a wall-clock
   deadline kept by the parent, and the result sent back through a pipe. Why fork, and what it
   costs, is told there.
2. `sandbox.env` and `sandbox.limits`: **interceptors** in the Jinja2 environment, so that the
   common attacks fail fast with a specific message instead of only hitting the rlimit (no
   string or list past `MAX_OUTPUT_CHARS`, no integer past `MAX_INT_DIGITS`, no `str.format`),
   and the output counted while it is produced.
3. `sandbox.env`: **a static check** of the parsed template, so that `add`/`lint` refuse an
   escape attempt (`.__class__`, `|attr('_x')`, `''.format`) with a SecurityError even though
   nothing renders.
4. `sandbox.forkserver`: for a long-lived, big process (`promptlib mcp`), **a fork server**, a
   small process that runs `render_template` (`render_elsewhere`), so that the same worker is
   forked from ~20 MB instead of ~70 MB. `promptlib render` forks from itself (`render_here`).

Here: every failure becomes one plain description (kind, message) that crosses the worker's pipe
and becomes a TemplateError or SecurityError, and a worker that dies becomes a TemplateError
naming the bound it broke.

`check_templates` analyses many templates in ONE worker: each template gets its own
`RENDER_SECONDS` wall-clock deadline (reset by each result the parent receives) and its own
CPU budget (the child raises its soft `RLIMIT_CPU` before each one). When one template kills or
exhausts the worker, that template gets the error and a fresh worker carries on with the next.

Without `os.fork` (Windows) everything runs in-process, with the interceptors, the output cap,
and `sandbox.env`'s cooperative deadline: thread-free, so nothing is left running behind a
timeout, but a single long C call cannot be interrupted, constant folding at compile time is
bounded only by the interceptors, and there is no memory limit beyond the size checks.

Measured on the 2-core dev box (Python 3.11, Jinja2 3.1.6): every hostile template in the tests
fails in 0.1-0.7 s (those that only the deadline can stop at 2 s), with the peak RSS of the
whole process tree at most ~240 MiB (the memory bombs; ~20 MiB otherwise), through the real CLI
too.

Jinja2 is imported inside functions only, so `import promptlib.sandbox.api` stays cheap (DESIGN §5).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from promptlib.errors import SecurityError, TemplateError
from promptlib.sandbox import env as sandbox_env
from promptlib.sandbox import worker as sandbox_worker
from promptlib.sandbox.env import (
    TEMPLATE_FILENAME,
    DeadlineError,
    EscapeError,
    environment,
    make_environment,
)
from promptlib.sandbox.limits import (
    MAX_INT_DIGITS,
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_CHARS,
    MIB,
    BoundError,
)
from promptlib.sandbox.worker import (
    EXIT_MEMORY,
    Worker,
    cpu_seconds,
    limit_cpu,
    stream_output,
    write_frame,
    write_json,
)

if TYPE_CHECKING:
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

# Looked up in this module's namespace when they run, so that a test can replace them here (a
# worker forked after the replacement runs the replacement).
_fork_available = sandbox_worker.fork_available
_analyse = sandbox_env.analyse
_render_chunks = sandbox_env.render_chunks
#: Where `render_template` sends a render (its context already checked) instead of forking the
#: worker here: `sandbox.forkserver.start()` sets it, so that a big process forks from a small one.
render_elsewhere: Callable[[str, dict[str, Value]], str] | None = None

#: Wall-clock budget of one render, and of the analysis of one template. A real prompt template
#: renders in milliseconds; 2 s is generous even on a loaded laptop.
RENDER_SECONDS = 2.0
#: Memory a worker may add on top of the address space it inherits at fork. The worker's peak
#: RSS is at most what it inherits (~30 MB with Jinja2 loaded) plus this, which keeps the whole
#: process tree under 300 MB while leaving room for 8 MiB outputs of 4-byte characters and their
#: intermediate copies.
MEMORY_BYTES = 224 * MIB
# MAX_OUTPUT_CHARS, MAX_INT_DIGITS and MAX_TEMPLATE_CHARS are defined with their checks, in
# sandbox_limits.

_MAX_MESSAGE_CHARS = 500  # an error message quoting hostile data must stay one readable line
_ESCAPE = "template tried to reach outside the sandbox: "


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
        env = make_environment(None)
        return [_analyse_in_process(env, source) for source in sources]
    return _analyse_in_workers(environment(), sources)


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
    if render_elsewhere is not None:
        return render_elsewhere(source, values)
    return render_here(source, values)


def render_here(source: str, values: dict[str, Value]) -> str:
    """`render_template` (its context already checked) in a worker forked from this process."""
    return _render_in_worker(environment(), source, values)


# --------------------------------------------------------------------------------------------
# Errors: one plain description (kind, message) that crosses the pipe and becomes an exception.


def timeout_message() -> str:
    return f"template took longer than {RENDER_SECONDS:g} s"


def _memory_message() -> str:
    return f"template used more than {MEMORY_BYTES // MIB} MiB of memory"


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
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _at(line: int | None) -> str:
    return f"template line {line}: " if line else "template: "


def _describe(exc: BaseException) -> tuple[str, str]:
    """(kind, message) for an exception raised while handling a template. Kinds: 'template',
    'security', 'memory'."""
    from jinja2 import exceptions as jexc  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)

    if isinstance(exc, MemoryError):
        return "memory", _memory_message()
    if isinstance(exc, jexc.TemplateSyntaxError):
        # Includes TemplateAssertionError (an unknown filter or test), which knows its line too.
        return "template", _at(exc.lineno) + _short(exc.message or str(exc))
    line = _template_line(exc)
    where = f" (template line {line})" if line else ""
    if isinstance(exc, EscapeError):  # its message already names the line
        return "security", _ESCAPE + _short(str(exc))
    if isinstance(exc, jexc.SecurityError):
        return "security", _ESCAPE + _short(str(exc)) + where
    if isinstance(exc, DeadlineError):  # the in-process deadline: worded here, with its budget
        message = timeout_message() + where
    elif isinstance(exc, BoundError):
        message = _short(str(exc)) + where
    elif isinstance(exc, RecursionError):
        message = (f"template nests or recurses too deeply (more than "
                   f"{sys.getrecursionlimit()} Python frames){where}")
    elif isinstance(exc, OverflowError) and "MAX_RANGE" in str(exc):
        from jinja2.sandbox import MAX_RANGE  # noqa: PLC0415  (Jinja2: ~50 ms, only templates pay)

        message = f"template range too big: at most {MAX_RANGE:,} items{where}"
    else:
        detail = _short(str(exc))
        if not isinstance(exc, jexc.TemplateError):  # UndefinedError etc. speak for themselves
            name = type(exc).__name__
            detail = f"{name}: {detail}" if detail else name
        message = _at(line) + detail
    return "template", message


def template_error(kind: str, message: str) -> TemplateError:
    """The exception for a described failure: kind 'security' is a SecurityError."""
    if kind == "security":
        return SecurityError(message)
    return TemplateError(message)


def _death_error(status: int) -> TemplateError:
    """The error for a worker that ended without a result (its wait status; -1: unknown)."""
    import signal  # noqa: PLC0415  (stdlib, kept off the start-up path)

    if status < 0:
        return TemplateError("the template sandbox worker ended without a result")
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum == signal.SIGXCPU:
            return TemplateError(timeout_message())
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
    if code == EXIT_MEMORY:
        return TemplateError(_memory_message())
    return TemplateError(f"the template sandbox worker failed (exit status {code})")


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
# Where the work runs: in-process (no fork), or in a forked worker.


def _deadline() -> float:
    import time  # noqa: PLC0415  (stdlib, kept off the start-up path)

    return time.monotonic() + RENDER_SECONDS


def _cpu_budget() -> int:
    # Whole seconds (RLIMIT_CPU's unit), one more than the wall-clock budget: the parent's
    # deadline fires first; this one only matters if the parent is gone.
    return int(RENDER_SECONDS) + 2


def _render_in_process(source: str, context: dict[str, Value]) -> str:
    env = make_environment(_deadline())
    try:
        return "".join(_render_chunks(env, source, context))
    except Exception as exc:  # noqa: BLE001 - every failure of a template becomes TemplateError
        error = template_error(*_describe(exc))
    raise error


def _analyse_in_process(env: Any, source: str) -> frozenset[str] | TemplateError:
    env.deadline = _deadline()
    try:
        return _analyse(env, source)
    except Exception as exc:  # noqa: BLE001 - every failure of a template becomes TemplateError
        return template_error(*_describe(exc))


def _render_in_worker(
    env: ImmutableSandboxedEnvironment, source: str, context: dict[str, Value]
) -> str:
    def job(fd: int) -> None:
        limit_cpu(_cpu_budget(), _cpu_budget() + 1)
        try:
            stream_output(fd, _render_chunks(env, source, context))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is described to the parent
            write_json(fd, list(_describe(exc)))
        else:
            write_frame(fd, b"E", b"")

    pieces: list[bytes] = []
    with Worker(job, MEMORY_BYTES) as worker:
        deadline = _deadline()
        try:
            while (frame := worker.frame(deadline)) is not None and frame[0] == b"O":
                pieces.append(frame[1])
        except TimeoutError:
            worker.close(kill=True)
            raise TemplateError(timeout_message()) from None
        # At end of stream the child has exited (SIGKILL to a zombie changes nothing); the kill
        # only guards against waiting forever on a child that closed its pipe and lives on.
        status = worker.close(kill=frame is None)
    if frame is None:
        raise _death_error(status)
    kind, payload = frame
    if kind == b"E":
        return b"".join(pieces).decode("utf-8", "surrogatepass")
    import json  # noqa: PLC0415  (stdlib, kept off the start-up path)

    error_kind, message = json.loads(payload)
    raise template_error(error_kind, message)


def _analyse_in_workers(
    env: ImmutableSandboxedEnvironment, sources: list[str]
) -> list[frozenset[str] | TemplateError]:
    import json  # noqa: PLC0415  (stdlib, kept off the start-up path)

    results: list[frozenset[str] | TemplateError | None] = [None] * len(sources)
    start = 0
    while start < len(sources):
        first = start

        def job(fd: int, first: int = first) -> None:
            for index in range(first, len(sources)):
                # Each template gets its own CPU budget on top of what the worker has used.
                limit_cpu(int(cpu_seconds()) + _cpu_budget())
                try:
                    names = _analyse(env, sources[index])
                except MemoryError:
                    raise  # the exit status says it; the parent restarts after this template
                except Exception as exc:  # noqa: BLE001 - described to the parent
                    write_json(fd, [index, "error", *_describe(exc)])
                else:
                    write_json(fd, [index, "ok", sorted(names)])

        with Worker(job, MEMORY_BYTES) as worker:
            deadline = _deadline()
            try:
                while start < len(sources):
                    frame = worker.frame(deadline)
                    if frame is None:
                        break
                    message = json.loads(frame[1])
                    index, outcome = message[0], message[1]
                    results[index] = (
                        frozenset(message[2]) if outcome == "ok" else template_error(*message[2:4])
                    )
                    start = index + 1
                    deadline = _deadline()
            except TimeoutError:
                worker.close(kill=True)
                results[start] = TemplateError(timeout_message())
                start += 1
                continue
            status = worker.close(kill=frame is None)
        if start < len(sources):
            # The worker ended without finishing: the template it was on is the culprit.
            results[start] = _death_error(status)
            start += 1
    return [r if r is not None else TemplateError("template was not analysed") for r in results]
