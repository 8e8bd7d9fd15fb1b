"""The template sandbox's forked worker: fork, rlimits, the framed pipe, deadlines and reaping.

`Worker(job, memory_bytes)` `os.fork()`s a child that runs `job(write_fd)` (parse, analyse or
render a template) and then ends. The child sets `RLIMIT_AS` (its address space at fork +
`memory_bytes`), `RLIMIT_CORE=0` (a SIGXCPU must not dump a core) and `RLIMIT_FSIZE=0`; the job
sets `RLIMIT_CPU` (`limit_cpu`: a backstop that still fires if the parent itself is killed); the
parent enforces a wall-clock deadline with `poll()` (`Worker.frame` raises TimeoutError) and
SIGKILLs the child when it passes. The result comes back through a pipe as framed messages: the
UTF-8 output, streamed in pieces while it is produced (`stream_output`), or a small JSON
error/result tuple (`write_json`: JSON rather than pickle, so nothing the child writes is ever
executed by the parent). The context is inherited through fork, so a 1 MB value costs no copy on
the way in.

Why fork rather than a thread or `multiprocessing`: a thread cannot be stopped while it is inside
one long C call (`'a'*10**9`, a big `str.center`), and Python cannot bound one thread's memory;
`multiprocessing`'s spawn re-imports Jinja2 (~50 ms) per worker, while a fork costs ~1-2 ms and
the child inherits the already-imported Jinja2 and the already-built environment.

The child never returns into the caller's code: it ends with `os._exit`, so no atexit handler
runs and no inherited stdio buffer is flushed twice; it points fds 0-2 at /dev/null and closes
every other inherited fd (it can never write into the caller's stdout, and a concurrent worker's
pipe cannot be held open by it); it freezes the GC so a finalizer of a parent object can never
run in the child. A child that runs out of memory exits with `EXIT_MEMORY`; one that dies of a
signal (SIGKILL, SIGXCPU, SIGSEGV, an abort under memory pressure) leaves its wait status, which
`promptlib.sandbox.api` turns into a TemplateError naming the bound. Every child is reaped
(`waitpid`) on every path, KeyboardInterrupt included, so none is left a zombie.

Measured on the 2-core dev box (Python 3.11, Jinja2 3.1.6, other work running alongside): the
worker costs ~4-5 ms per render in a warm process (fork ~1 ms; the rest is the child's
copy-on-write page faults while it compiles, and the reap), ~7-8 ms with a 1 MB value rendered
into 1 MB of output (vs ~0.4 ms in-process), and ~12 ms in a fresh `render`-like process that
pipes in 1 MB (94 ms vs 83 ms whole process, medians). That is the price of a bound that holds
against anything; warming Jinja2's lexer in the parent (`sandbox.env.environment`) saves ~5 ms
of it per render.

Separate from `promptlib.sandbox.api` because none of this knows about templates: it runs a job in a
bounded child and carries bytes back. POSIX only (`fork_available`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NoReturn

from promptlib.sandbox.limits import MIB

if TYPE_CHECKING:
    import select

# Frame kinds on the worker's pipe: b"O" a piece of UTF-8 output, b"E" the end of a good
# output, b"J" a JSON result or error.
_HEADER_SIZE = 9  # 1 kind byte + 8 length bytes, big-endian
_STREAM_CHARS = 64 * 1024  # the child sends output in pieces of about this size

EXIT_OK = 0
EXIT_CRASH = 70
EXIT_MEMORY = 71


def fork_available() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


# --------------------------------------------------------------------------------------------
# The child's side of the pipe.


def write_frame(fd: int, kind: bytes, payload: bytes) -> None:
    header = kind + len(payload).to_bytes(_HEADER_SIZE - 1, "big")
    for data in (header, payload):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]


def send_frame(fd: int, kind: bytes, payload: bytes, deadline: float) -> None:
    """`write_frame` to a non-blocking `fd`, waiting for room in the pipe until `deadline` (a
    time.monotonic()): TimeoutError then, BrokenPipeError if its reader is gone."""
    import select  # noqa: PLC0415  (stdlib, kept off the start-up path)
    import time  # noqa: PLC0415  (stdlib, kept off the start-up path)

    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    header = kind + len(payload).to_bytes(_HEADER_SIZE - 1, "big")
    for data in (header, payload):
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError from None
                poller.poll(int(remaining * 1000) + 1)


def write_json(fd: int, value: object) -> None:
    import json  # noqa: PLC0415  (stdlib, kept off the start-up path)

    write_frame(fd, b"J", json.dumps(value).encode("utf-8"))


def stream_output(fd: int, chunks: Iterable[str]) -> None:
    """Send the output while it is produced: the child never holds the whole of it, nor a
    second, encoded copy, and the parent reads in parallel."""

    def send(pieces: list[str]) -> None:
        # join() of a single str returns that str: no copy for one big chunk.
        write_frame(fd, b"O", "".join(pieces).encode("utf-8", "surrogatepass"))

    pending: list[str] = []
    pending_size = 0
    for chunk in chunks:
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size >= _STREAM_CHARS:
            send(pending)
            pending, pending_size = [], 0
    if pending:
        send(pending)


# --------------------------------------------------------------------------------------------
# Limits.


def _address_space() -> int:
    """This process's current virtual size (what RLIMIT_AS counts), in bytes."""
    try:
        with open("/proc/self/statm", "rb") as statm:  # noqa: PTH123 - one cheap read, no pathlib
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource  # noqa: PLC0415  (stdlib, kept off the start-up path)

        # No /proc (macOS, BSD): the peak RSS is the best cheap estimate there is.
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return maxrss if sys.platform == "darwin" else maxrss * 1024


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    import resource  # noqa: PLC0415  (stdlib, kept off the start-up path)

    _, current_hard = resource.getrlimit(which)
    if hard is None:
        hard = current_hard
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard) if hard != resource.RLIM_INFINITY else current_hard
        soft = min(soft, hard)
    # Some platforms (macOS for RLIMIT_AS) refuse a limit: the deadline still holds.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (soft, hard))


def limit_cpu(soft: int, hard: int | None = None) -> None:
    """Set this process's RLIMIT_CPU, in whole seconds of CPU used since it started (SIGXCPU at
    the soft limit); hard None keeps the current hard limit."""
    import resource  # noqa: PLC0415  (stdlib, kept off the start-up path)

    _set_limit(resource.RLIMIT_CPU, soft, hard)


def cpu_seconds() -> float:
    """CPU time this process has used so far (what RLIMIT_CPU counts)."""
    import resource  # noqa: PLC0415  (stdlib, kept off the start-up path)

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------------------------
# The worker.


def _enter_child(write_fd: int, address_space: int, memory_bytes: int) -> None:
    """Cut the child loose from the caller's process state, then bound it."""
    import gc  # noqa: PLC0415  (stdlib, kept off the start-up path)
    import resource  # noqa: PLC0415  (stdlib, kept off the start-up path)
    import signal  # noqa: PLC0415  (stdlib, kept off the start-up path)

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
    _set_limit(resource.RLIMIT_AS, address_space + memory_bytes, None)
    _set_limit(resource.RLIMIT_CORE, 0, 0)  # SIGXCPU and SIGSEGV would otherwise dump a core
    _set_limit(resource.RLIMIT_FSIZE, 0, None)  # the pipe is the only thing the child writes


def _child(
    job: Callable[[int], None], write_fd: int, address_space: int, memory_bytes: int
) -> NoReturn:
    code = EXIT_CRASH
    try:
        _enter_child(write_fd, address_space, memory_bytes)
        job(write_fd)
        code = EXIT_OK
    except MemoryError:
        code = EXIT_MEMORY
    except BaseException:  # noqa: BLE001, S110 - the exit code tells the parent; nothing to print
        pass
    finally:
        # Never return into the caller's code, never run atexit, never flush inherited buffers.
        os._exit(code)


def _grow_pipe(fd: int) -> None:
    """A 1 MiB pipe (Linux) lets a typical output through in one write, not 16 round trips."""
    import fcntl  # noqa: PLC0415  (stdlib, kept off the start-up path)

    size_op = getattr(fcntl, "F_SETPIPE_SZ", None)
    if size_op is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, size_op, MIB)


def readable(fd: int) -> select.poll:
    """A poll object that wakes when `fd` has data, or its writer closed it."""
    import select  # noqa: PLC0415  (stdlib, kept off the start-up path)

    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    return poller


class Frames:
    """The frames (`write_frame`) arriving on the read end `fd` of a pipe."""

    def __init__(self, fd: int, poller: select.poll | None = None) -> None:
        self.fd = fd
        self.poller = poller if poller is not None else readable(fd)
        self.buffer = bytearray()
        self.eof = False

    def next(self, deadline: float | None) -> tuple[bytes, bytes] | None:
        """The next frame, or None at end of stream. Raises TimeoutError at the deadline (a
        time.monotonic(); None waits as long as it takes)."""
        import time  # noqa: PLC0415  (stdlib, kept off the start-up path)

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
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.poller.poll(max(1, int(remaining * 1000) + 1)):
                    if time.monotonic() >= deadline:
                        raise TimeoutError
                    continue
            chunk = os.read(self.fd, MIB)
            if chunk:
                self.buffer += chunk
            else:
                self.eof = True


class Worker:
    """One forked child, running `job(write_fd)` with `memory_bytes` of memory on top of what it
    inherits, and the read end of its pipe. Use it as a context manager: on any way out the
    child is killed if need be, and reaped."""

    def __init__(self, job: Callable[[int], None], memory_bytes: int) -> None:
        # Everything the child needs is imported here, before the fork: an import in the child
        # would cost time in every worker and run under the memory limit.
        import gc  # noqa: F401, PLC0415  (pre-imported before the fork, so workers inherit it)
        import json  # noqa: F401, PLC0415  (pre-imported before the fork, so workers inherit it)
        import math  # noqa: F401, PLC0415  (pre-imported before the fork, so workers inherit it)
        import resource  # noqa: F401, PLC0415  (pre-imported before the fork, so workers inherit it)
        import select  # noqa: F401, PLC0415  (pre-imported before the fork, so workers inherit it)
        import signal  # noqa: F401, PLC0415  (pre-imported before the fork, so workers inherit it)
        import time  # noqa: F401, PLC0415  (pre-imported before the fork, so workers inherit it)
        import warnings  # noqa: PLC0415  (stdlib, kept off the start-up path)

        # Measured here rather than in the child: identical at fork, and cheaper before it.
        address_space = _address_space()
        read_fd, write_fd = os.pipe()
        try:
            # Everything that can fail is done before the fork, so that after it nothing stands
            # between the child and the `with` block that reaps it.
            _grow_pipe(read_fd)
            self.poller = readable(read_fd)
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
            _child(job, write_fd, address_space, memory_bytes)
        os.close(write_fd)
        self.pid: int | None = pid
        self.fd = read_fd
        self.frames = Frames(read_fd, self.poller)
        self.status: int | None = None

    @property
    def eof(self) -> bool:
        return self.frames.eof

    def frame(self, deadline: float) -> tuple[bytes, bytes] | None:
        """The next frame, or None at end of stream. Raises TimeoutError at the deadline."""
        return self.frames.next(deadline)

    def close(self, kill: bool = False) -> int:
        """Reap the child (killing it first if asked or if it is still running); its wait status,
        -1 when unknown."""
        import signal  # noqa: PLC0415  (stdlib, kept off the start-up path)

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

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        # On any way out (an exception, KeyboardInterrupt), the child is killed and reaped.
        self.close(kill=self.pid is not None and not self.eof)
