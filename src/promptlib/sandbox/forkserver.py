"""A fork server: renders fork their bounded worker from a small process, not a big one.

`promptlib mcp` lives long and is big (~70 MB with the MCP SDK, pydantic and anyio loaded), and
`os.fork()` costs in proportion: copying the page tables, then copy-on-write faults in the child
while it renders and in the parent afterwards. Measured on the 2-core dev box, per prompts/get
at 10,000 recipes (CPU time from /proc): server 11 ms + worker 9 ms with the worker forked from
the server; server 4.4 ms + fork server 1.4 ms + worker 4.5 ms with it forked from here, and the
get's median halved (24-36 ms to 11-16 ms, quiet or with busy loops). So `start()` spawns a small
Python process (`main`: promptlib's sandbox and Jinja2, nothing else) and, from then on,
`sandbox.api.render_template` hands each render to it: the fork server calls the very same
`render_template`, which forks the very same worker (rlimits, output cap, wall deadline), now
from its own small image. The bounds and the messages of a hostile template are therefore the
sandbox's, unchanged; only the process that forks differs. `promptlib render` renders once and
is small itself, so it never starts one.

The protocol is the worker's framing (`sandbox.worker.write_frame`) over the fork server's stdin
and stdout, in UTF-8 that lets lone surrogates through, as the worker's pipe does: it announces
`R` when ready; a request is `J` JSON [template, context] (the context already checked to be
plain data); an answer is `O` the output or `J` [kind, message] of the template's TemplateError
or SecurityError. One render at a time (a lock).

It fails safe: if the fork server cannot start, dies, or breaks the protocol, the render runs the
way it does without one (the worker forked from this process, `api.render_here`) while a new
fork server starts (MAX_RESTARTS in all); if it does not answer within the sandbox's own deadline
plus a grace, it is killed and the render fails with the sandbox's time-out error. It ends when
its stdin closes, so it never outlives the process that started it, even a SIGKILLed one. POSIX
only, like the worker.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import TYPE_CHECKING

from promptlib.errors import SecurityError, TemplateError
from promptlib.sandbox import api
from promptlib.sandbox.worker import Frames, fork_available, send_frame, write_frame

if TYPE_CHECKING:
    import subprocess

#: How long a new fork server may take to be ready (to import Jinja2): generous, for a machine
#: under load; it matters only when the first render follows the start at once.
START_SECONDS = 30.0
#: How long past the sandbox's own deadline the fork server may take to answer before it is
#: taken for stuck (its worker is killed at the deadline; this covers reaping and relaying).
GRACE_SECONDS = 3.0

_BOOT = "import sys; sys.path[:] = {path!r}; from promptlib.sandbox.forkserver import main; main()"


class _UnusableError(Exception):
    """The fork server cannot answer (did not start, died, broke the protocol): render
    without it."""


class _StuckError(Exception):
    """The fork server did not answer a render in time: it is killed, and the render fails."""


class _Server:
    """One running fork server, seen from the process that started it."""

    def __init__(self) -> None:
        import subprocess  # noqa: PLC0415  (only a long-lived process starts a fork server)

        # -I -S: no cwd, user site or PYTHON* variables, no site; the same sys.path as this
        # process, so it imports exactly the promptlib and Jinja2 that this process would.
        self.proc: subprocess.Popen[bytes] = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _BOOT.format(path=list(sys.path))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        stdin, stdout = self.proc.stdin, self.proc.stdout
        if stdin is None or stdout is None:  # cannot happen with PIPE; for the type checker
            raise OSError("the fork server has no pipes")
        self.requests = stdin.fileno()
        os.set_blocking(self.requests, False)  # writes wait in poll(), under a deadline
        self.answers = Frames(stdout.fileno())
        self.ready = False

    def render(self, source: str, context: dict[str, api.Value]) -> str:
        """The output; raises TemplateError for the template's own failure, _UnusableError or
        _StuckError for the fork server's."""
        import json  # noqa: PLC0415  (stdlib, kept off the start-up path)
        import time  # noqa: PLC0415  (stdlib, kept off the start-up path)

        if not self.ready:
            try:
                ready = self._next(time.monotonic() + START_SECONDS) == (b"R", b"")
            except _StuckError:
                ready = False  # slow to start is not the template's fault: render without it
            if not ready:
                raise _UnusableError
            self.ready = True
        deadline = time.monotonic() + api.RENDER_SECONDS + GRACE_SECONDS
        try:
            request = json.dumps([source, context], ensure_ascii=False)  # no 6-byte escapes
            send_frame(self.requests, b"J", request.encode("utf-8", "surrogatepass"), deadline)
        except TimeoutError:
            raise _StuckError from None
        except OSError:  # BrokenPipeError: it died
            raise _UnusableError from None
        answer = self._next(deadline)
        if answer is None:
            raise _UnusableError
        kind, payload = answer
        if kind == b"O":
            return payload.decode("utf-8", "surrogatepass")
        if kind != b"J":
            raise _UnusableError
        error_kind, message = json.loads(payload)
        raise api.template_error(error_kind, message)

    def _next(self, deadline: float) -> tuple[bytes, bytes] | None:
        try:
            return self.answers.next(deadline)
        except TimeoutError:
            raise _StuckError from None
        except OSError:
            return None

    def close(self, *, kill: bool = False) -> None:
        """End it: close its stdin (it exits), kill it if asked or if it lingers, reap it."""
        import subprocess  # noqa: PLC0415  (stdlib, kept off the start-up path)

        if kill:
            self.proc.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


#: A fork server that failed is replaced at once, this many times in all; after that, renders
#: fork from this process (a fork server that keeps dying must not cost a start-up per render).
MAX_RESTARTS = 3

_lock = threading.Lock()
_server: _Server | None = None
_restarts = 0


def start() -> None:
    """Start a fork server, and send every render of this process to it from now on. Does
    nothing without `os.fork`, or if one is running. Call it early: it gets ready meanwhile."""
    global _server, _restarts  # noqa: PLW0603 - one fork server per process
    if not fork_available():
        return
    with _lock:
        if _server is None:
            try:
                _server = _Server()
            except OSError:
                return  # renders fork from this process, as without a fork server
        _restarts = 0
        api.render_elsewhere = _render


def stop() -> None:
    """Stop the fork server; renders fork from this process again."""
    global _server  # noqa: PLW0603 - one fork server per process
    with _lock:
        api.render_elsewhere = None
        server = _server
        _server = None
        if server is not None:
            server.close()


def _render(source: str, context: dict[str, api.Value]) -> str:
    """`api.render_template` through the fork server; without it if it is unusable."""
    with _lock:
        server = _server
        if server is not None:
            try:
                return server.render(source, context)
            except _StuckError:
                _replace(server)
                raise TemplateError(api.timeout_message()) from None
            except _UnusableError:
                _replace(server)
            except TemplateError:
                raise  # the template's own failure: the fork server is fine
            except BaseException:
                # KeyboardInterrupt mid-request, say: an answer may still come, and would be
                # taken for the next request's. This fork server is done with.
                _replace(server)
                raise
    return api.render_here(source, context)


def _replace(server: _Server) -> None:
    """Kill a failed fork server and start the next one now, so that it gets ready while this
    render goes on without it; past MAX_RESTARTS, or if none starts, render without one."""
    global _server, _restarts  # noqa: PLW0603 - one fork server per process
    server.close(kill=True)
    _server = None
    if _restarts < MAX_RESTARTS:
        _restarts += 1
        with contextlib.suppress(OSError):
            _server = _Server()
    if _server is None:
        api.render_elsewhere = None


# --------------------------------------------------------------------------------------------
# The fork server itself.


def main() -> None:
    """Answer render requests on stdin until it closes. Prints nothing: stdout is the protocol's
    (and is pointed at stderr, so that nothing else can ever write into it)."""
    import gc  # noqa: PLC0415  (stdlib, kept off the start-up path)
    import signal  # noqa: PLC0415  (stdlib, kept off the start-up path)

    from promptlib.sandbox import env  # noqa: PLC0415  (Jinja2 comes with it, in the fork server only)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; its exit ends us
    requests, answers = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    env.environment()  # Jinja2 imported and warmed once, here: every worker inherits it
    # One trusted render, so that what the worker path loads on first use is loaded now.
    api.render_template("{{ warm }}", {"warm": "up"})
    gc.collect()
    gc.freeze()  # what is loaded now stays put: workers' copy-on-write faults are fewer
    write_frame(answers, b"R", b"")
    frames = Frames(requests)
    while (request := frames.next(None)) is not None:
        write_frame(answers, *_answer(request[1]))


def _answer(request: bytes) -> tuple[bytes, bytes]:
    import json  # noqa: PLC0415  (stdlib, kept off the start-up path)

    source, context = json.loads(request.decode("utf-8", "surrogatepass"))
    try:
        text = api.render_template(source, context)
    except SecurityError as exc:
        return b"J", json.dumps(["security", exc.message]).encode()
    except TemplateError as exc:
        return b"J", json.dumps(["template", exc.message]).encode()
    return b"O", text.encode("utf-8", "surrogatepass")
