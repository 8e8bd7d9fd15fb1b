"""The fork server (`sandbox.forkserver`): renders through it are the sandbox's renders, the same
output and the same errors with the same bounds, and it fails safe: killed, stuck or
interrupted, it is replaced, and it never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptlib.errors import SecurityError, TemplateError
from promptlib.sandbox import api as sandbox
from promptlib.sandbox import forkserver
from tests.test_sandbox import HOSTILE, check_bounded, measure

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork")

SRC = Path(__file__).resolve().parent.parent / "src"


@pytest.fixture
def served() -> Iterator[None]:
    forkserver.start()
    try:
        yield
    finally:
        forkserver.stop()


def server_pid() -> int:
    server = forkserver._server
    assert server is not None
    return server.proc.pid


def not_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, a render that forks its worker from this process fails the test."""
    def refuse(source: str, context: object) -> str:
        raise AssertionError("rendered without the fork server")

    monkeypatch.setattr(sandbox, "render_here", refuse)


CASES: list[tuple[str, dict[str, sandbox.Value]]] = [
    ("Hello {{ name }}!\n", {"name": "world"}),
    ("{% for t in tags %}[{{ t|upper }}]{% endfor %} {{ n + 1 }} {{ flag }}",
     {"tags": ["a", "b"], "n": 41, "flag": True}),
    ("{{ text }}", {"text": "ünïcødé \u2028 emoji \U0001f600 lone \ud800 surrogate"}),
    ("{{ big }}{{ big|length }}", {"big": "x" * 1_000_000}),
    ("", {}),
]


def test_a_render_through_the_fork_server_is_the_same_render(
        served: None, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [sandbox.render_here(source, dict(context)) for source, context in CASES]
    not_here(monkeypatch)
    assert [sandbox.render_template(source, context) for source, context in CASES] == expected


BAD = [
    "{{ nope }}",
    "{% if %}",
    "{{ 1 / 0 }}",
    "{{ 'a' * 10**9 }}",
    "{{ 9**(9**9) }}",
    "{{ 'a'|center(999999999) }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{{ ''.__class__ }}",
    "{{ ''.format }}",
    "{{ x|attr('__class__') }}",
    "{{ 'a'|center(8000000) }}" * 30,  # the worker's memory limit
]


def error_of(source: str) -> tuple[type[TemplateError], str]:
    with pytest.raises(TemplateError) as caught:
        sandbox.render_template(source, {"x": "y"})
    return type(caught.value), caught.value.message


def test_a_failing_template_fails_with_the_sandbox_error_and_the_server_carries_on(
        served: None) -> None:
    forkserver.stop()
    expected = [error_of(source) for source in BAD]
    assert any(kind is SecurityError for kind, _ in expected)
    forkserver.start()
    pid = server_pid()
    assert [error_of(source) for source in BAD] == expected
    assert server_pid() == pid  # none of them hurt the fork server
    assert sandbox.render_template("{{ x }}", {"x": "still serving"}) == "still serving"


def test_a_killed_fork_server_is_replaced_and_the_render_still_happens(
        served: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sandbox.render_template("{{ x }}", {"x": 1}) == "1"
    first = server_pid()
    os.kill(first, signal.SIGKILL)
    # This render finds it dead: it renders here, and a new fork server is started meanwhile.
    assert sandbox.render_template("{{ x }}", {"x": 2}) == "2"
    assert server_pid() != first
    not_here(monkeypatch)
    assert sandbox.render_template("{{ x }}", {"x": 3}) == "3"


def test_a_stuck_fork_server_is_killed_and_the_render_fails_with_the_time_out(
        served: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sandbox.render_template("{{ x }}", {"x": 1}) == "1"  # ready
    monkeypatch.setattr(sandbox, "RENDER_SECONDS", 0.2)
    monkeypatch.setattr(forkserver, "GRACE_SECONDS", 0.3)
    stuck = server_pid()
    os.kill(stuck, signal.SIGSTOP)
    with pytest.raises(TemplateError, match=r"template took longer than 0\.2 s"):
        sandbox.render_template("{{ x }}", {"x": 2})
    with pytest.raises(ProcessLookupError):
        os.kill(stuck, 0)  # killed and reaped
    monkeypatch.undo()
    assert sandbox.render_template("{{ x }}", {"x": 3}) == "3"  # its replacement


def test_after_a_few_failures_renders_fork_here_again(
        served: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forkserver, "MAX_RESTARTS", 1)
    forkserver.stop()
    forkserver.start()
    for n in range(3):
        if forkserver._server is not None:
            os.kill(server_pid(), signal.SIGKILL)
        assert sandbox.render_template("{{ n }}", {"n": n}) == str(n)
    assert forkserver._server is None
    assert sandbox.render_elsewhere is None


def test_stop_reaps_it_and_renders_fork_here_again(served: None) -> None:
    pid = server_pid()
    forkserver.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert sandbox.render_elsewhere is None
    assert sandbox.render_template("{{ x }}", {"x": "here"}) == "here"


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60, env=env, check=False)


def gone(pid: int) -> bool:
    """The process ended (a zombie nobody reaps counts: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:  # noqa: PTH123
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_fork_server_ends_when_the_process_that_started_it_dies() -> None:
    proc = run_python(
        """
        import os
        from promptlib.sandbox import api as sandbox
        from promptlib.sandbox import forkserver

        forkserver.start()
        assert sandbox.render_template("{{ x }}", {"x": "up"}) == "up"
        print(forkserver._server.proc.pid, flush=True)
        os._exit(0)  # no stop(), no atexit: as if it were killed
        """
    )
    assert proc.returncode == 0, proc.stderr
    pid = int(proc.stdout)
    for _ in range(100):  # it sees its stdin close at once; allow for a loaded machine
        if gone(pid):
            break
        time.sleep(0.1)
    assert gone(pid)


def test_it_prints_nothing_and_leaves_no_children() -> None:
    proc = run_python(
        """
        import os
        from promptlib.sandbox import api as sandbox
        from promptlib.sandbox import forkserver
        from promptlib.errors import TemplateError

        forkserver.start()
        for template in ["{{ v }}", "{{ undefined }}", "{{ 'a'*10**9 }}"]:
            try:
                print(sandbox.render_template(template, {"v": "out"}))
            except TemplateError as exc:
                print(type(exc).__name__)
        forkserver.stop()
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            print("no children")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "out\nTemplateError\nTemplateError\nno children\n"
    assert proc.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize(("template", "messages"), [pytest.param(t, m, id=i)
                                                    for i, t, m, _ in HOSTILE])
def test_hostile_render_through_the_fork_server_fails_fast_and_small(
        template: str, messages: tuple[str, ...]) -> None:
    run = measure("render-forkserver", template)
    check_bounded(run)
    result = run["result"]
    assert result["ok"] is False, result
    assert result["error"] == "TemplateError"
    assert any(m in result["message"] for m in messages), result["message"]
