"""The template sandbox: correct output for real templates, SecurityError for every known escape,
and hostile templates that fail fast with a message naming the bound, with time and peak memory
measured from outside the process (tests/sandbox_measure.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from promptlib.errors import EXIT_INVALID, SecurityError, TemplateError
from promptlib.sandbox import api as sandbox

MEASURE = Path(__file__).with_name("sandbox_measure.py")
SRC = Path(__file__).resolve().parent.parent / "src"

# Generous, as the brief asks: each hostile template is bounded at RENDER_SECONDS (2 s); the
# whole subprocess, Python start-up and the Jinja2 import included, measured 0.1-2.3 s.
MAX_WALL_SECONDS = 5.0
MAX_RSS_KIB = 300 * 1000 * 1000 // 1024  # 300 MB, for the largest process of the tree

OUTPUT = "exceeds 8 MiB"
DIGITS = "exceeds 4,300 digits"
TIME = "took longer than 2 s"
MEMORY = "used more than 224 MiB of memory"

# (id, template, what render_template must say, what template_variables must do: None for
# "returns the variables quickly", else the message it must raise)
HOSTILE: list[tuple[str, str, tuple[str, ...], str | None]] = [
    ("repeat-string", "{{ 'a'*10**9 }}", (OUTPUT,), None),
    ("power", "{{ 9**(9**9) }}", (DIGITS,), None),
    ("huge-range", "{% for i in range(10**9) %}x{% endfor %}", ("range too big",), None),
    (
        "nested-loops",
        "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
        # 8 MiB of 'x' takes ~1.3 s to produce here: the output cap usually fires first, the
        # deadline on a slower machine. Either names its bound.
        (OUTPUT, TIME),
        None,
    ),
    ("recursive-macro", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
     ("recurses too deeply",), None),
    ("printf-width", "{{ '%999999999s' % 'a' }}", (OUTPUT,), None),
    ("center", "{{ 'a'|center(999999999) }}", (OUTPUT,), None),
    ("wordwrap", "{{ ('a'*100000)|wordwrap(1, wrapstring='x'*1000) }}", (OUTPUT,), None),
    ("join-repeat", "{{ range(100000)|list|join(',')*1000 }}", (OUTPUT,), None),
    # Beyond the interceptors: these are stopped by the worker's own bounds, and Jinja2's
    # constant folding makes them bite while *analysing* too.
    ("fold-time-bomb", "{{ 'a'|center(8000000)|replace(' ', 'b')|wordwrap(1) }}", (TIME,), TIME),
    ("fold-memory-bomb", "{{ 'a'|center(8000000) }}" * 30, (MEMORY,), MEMORY),
    (
        "concat-doubling",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        (MEMORY,),
        None,
    ),
]


def measure(mode: str, template: str) -> dict[str, Any]:
    """Run one sandbox call in a fresh process tree; wall time and peak RSS from outside."""
    proc = subprocess.run(
        [sys.executable, str(MEASURE), mode, template],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def check_bounded(run: dict[str, Any]) -> None:
    assert run["returncode"] == 0, run["stderr"]
    assert run["wall"] < MAX_WALL_SECONDS, run
    assert run["maxrss_kb"] < MAX_RSS_KIB, run


@pytest.mark.slow
@pytest.mark.parametrize(("template", "messages"), [pytest.param(t, m, id=i)
                                                    for i, t, m, _ in HOSTILE])
def test_hostile_render_fails_fast_and_small(template: str, messages: tuple[str, ...]) -> None:
    run = measure("render", template)
    check_bounded(run)
    result = run["result"]
    assert result["ok"] is False, result
    assert result["error"] == "TemplateError"
    assert any(m in result["message"] for m in messages), result["message"]


@pytest.mark.slow
@pytest.mark.parametrize(("template", "message"), [pytest.param(t, m, id=i)
                                                   for i, t, _, m in HOSTILE])
def test_hostile_analysis_is_bounded(template: str, message: str | None) -> None:
    run = measure("variables", template)
    check_bounded(run)
    result = run["result"]
    if message is None:
        # The interceptors keep these from being constant-folded: nothing to bound.
        assert result == {"ok": True, "value": []}
    else:
        assert result["ok"] is False, result
        assert message in result["message"]


@pytest.mark.slow
def test_hostile_template_in_check_batch_spoils_nothing_measured() -> None:
    run = measure("check", "{{ 'a'|center(8000000) }}" * 30)
    check_bounded(run)
    assert run["result"]["value"] == [["a"], ["TemplateError", "template " + MEMORY], ["b"]]


# --------------------------------------------------------------------------------------------
# Escapes


ESCAPES = [
    "{{ cycler.__init__.__globals__ }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ ''|attr('format') }}",
    "{{ ''.format_map }}",
    "{{ self._TemplateReference__context }}",
    "{{ ''['__class__'] }}",
    "{{ name|attr('__class__') }}",
    "{{ lipsum.__globals__ }}",
    "{{ joiner().__class__.__base__.__subclasses__() }}",
    "{% set ns = namespace() %}{% set ns.__class__ = 1 %}",
    "{% if name.__class__ is defined %}x{% endif %}",
]

# Escapes only visible at run time (the attribute name is computed, or hangs off a variable).
RUNTIME_ESCAPES = [
    "{{ name.format }}",
    "{{ name.format('{0.__class__}', 1) }}",
    "{{ (name|attr('format'))('{0}', 1) }}",
    "{{ name.format_map({}) }}",
    "{{ name|attr('_' ~ '_class__') }}",
    "{{ ''['__cla' ~ 'ss__'] }}",
    "{{ items.append('x') }}",
    "{{ items.pop() }}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_escape_is_a_security_error_when_rendering(template: str) -> None:
    with pytest.raises(SecurityError, match="template tried to reach outside the sandbox"):
        sandbox.render_template(template, {"name": "x"})


@pytest.mark.parametrize("template", ESCAPES)
def test_escape_is_a_security_error_when_analysing(template: str) -> None:
    with pytest.raises(SecurityError, match="template tried to reach outside the sandbox"):
        sandbox.template_variables(template)


@pytest.mark.parametrize("template", RUNTIME_ESCAPES)
def test_runtime_escape_is_a_security_error(template: str) -> None:
    with pytest.raises(SecurityError, match="template tried to reach outside the sandbox"):
        sandbox.render_template(template, {"name": "x", "items": ["a"]})


def test_security_error_is_a_template_error_with_exit_code_4() -> None:
    with pytest.raises(TemplateError) as info:
        sandbox.render_template("{{ ''.__class__ }}", {})
    assert isinstance(info.value, SecurityError)
    assert info.value.exit_code == EXIT_INVALID


# --------------------------------------------------------------------------------------------
# Ordinary templates


def render(template: str, **context: Any) -> str:
    return sandbox.render_template(template, context)


def test_variables_if_else_and_trailing_newline() -> None:
    template = "Hello {{ name }}!\n{% if sev == 'sev1' %}PAGE{% else %}ticket{% endif %}\n"
    assert render(template, name="api", sev="sev1") == "Hello api!\nPAGE\n"
    assert render(template, name="api", sev="sev3") == "Hello api!\nticket\n"


def test_filters() -> None:
    assert render("{{ s|upper }} {{ s|lower }}", s="MiXed") == "MIXED mixed"
    assert render("[{{ s|trim }}]", s="  pad \n") == "[pad]"
    assert render("{{ items|join(', ') }}", items=["a", "b", "c"]) == "a, b, c"
    assert render("{{ s|indent(2) }}", s="one\ntwo\n\nthree") == "one\n  two\n\n  three"
    assert render("{{ s|indent(2, first=True) }}", s="a\nb") == "  a\n  b"
    assert render("{{ missing|default('none') }}") == "none"
    assert render("{{ s|default('x', true) }}", s="") == "x"
    assert render("{{ '%s-%03d'|format(s, n) }}", s="id", n=7) == "id-007"
    assert render("{{ s|replace('a', 'bb') }}", s="banana") == "bbbnbbnbb"
    assert render("{{ s|center(9) }}|", s="mid") == "   mid   |"
    assert render("{{ s|wordwrap(10) }}", s="the quick brown fox jumps") == (
        "the quick\nbrown fox\njumps"
    )
    assert render("{{ items|tojson }}", items=["<a>", "b'"]) == '["\\u003ca\\u003e", "b\\u0027"]'
    assert render("{{ items|tojson(indent=1) }}", items=["a"]) == '[\n "a"\n]'


def test_lists_ints_and_bools() -> None:
    template = (
        "{% for i in items %}{{ loop.index }}. {{ i }}\n{% endfor %}"
        "{{ items|length }} {{ n + 1 }} {{ n * 2 }} {{ 'ab' * n }} {{ 2 ** n }}"
        "{% if flag %} yes{% endif %}"
    )
    assert render(template, items=["x", "y"], n=3, flag=True) == (
        "1. x\n2. y\n2 4 6 ababab 8 yes"
    )


def test_arithmetic_and_formatting_within_bounds_still_work() -> None:
    assert render("{{ 7*7 }} {{ 10 % 3 }} {{ '%5s|%-3d|' % ('a', 4) }} {{ 'x' + 'y' }}") == (
        "49 1     a|4  | xy"
    )
    assert render("{{ [1, 2] + [3] }} {{ [0] * 3 }} {{ range(3)|list }}") == (
        "[1, 2, 3] [0, 0, 0] [0, 1, 2]"
    )
    assert render("{{ 'a b'.replace(' ', '-') }} {{ '-'.join(items) }} {{ 'x'.center(5) }}|",
                  items=["p", "q"]) == "a-b p-q   x  |"


def test_bounded_filters_match_jinja2() -> None:
    """The size-checked filters render exactly what Jinja2's own do."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    plain = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    context: dict[str, Any] = {
        "s": "Lorem ipsum dolor-sit amet, consectetur\n\nadipiscing elit sed do eiusmod",
        "items": ["a", "b", "c", "d", "e"],
    }
    for template in [
        "{{ s|wordwrap(7) }}",
        "{{ s|wordwrap(5, false, '<br>') }}",
        "{{ s|wordwrap(12, break_on_hyphens=false) }}",
        "{{ s|indent('> ', blank=true) }}",
        "{{ s|center(100) }}",
        "{{ s|replace('o', '00', 2) }}",
        "{{ items|join('|') }}",
        "{{ items|batch(2, '-')|list }}",
        "{{ items|slice(3, '-')|list }}",
        "{{ items|tojson(indent=2) }}",
        "{{ '%-6s|'|format(s[:3]) }}",
    ]:
        expected = plain.from_string(template).render(context)
        assert sandbox.render_template(template, context) == expected, template


def test_values_are_data_never_template() -> None:
    log = "x {{ 7*7 }} {% raw %} {{ ''.__class__ }} {%"
    assert render("<log>{{ log }}</log>\n", log=log) == f"<log>{log}</log>\n"
    assert render("{{ items|join(' ') }}", items=["{{ 7*7 }}"]) == "{{ 7*7 }}"


def test_output_keeps_every_character() -> None:
    value = "tab\there \u00e9\u4e2d\U0001f600 lone surrogate \udcff end\r\n"
    assert render("{{ v }}", v=value) == value


def test_large_values_and_outputs_go_through_whole() -> None:
    value = ("0123456789abcdef" * 65536)[:1_000_000]  # 1 MB, as piped into `render`
    assert render("<log>\n{{ v }}\n</log>\n", v=value) == f"<log>\n{value}\n</log>\n"
    big = render("{% for i in range(8) %}{{ v }}{% endfor %}", v=value)  # 8 MB: just under
    assert big == value * 8


def test_output_cap() -> None:
    with pytest.raises(TemplateError, match="template output exceeds 8 MiB"):
        render("{% for i in range(100000) %}{{ v }}{% endfor %}", v="x" * 100)


def test_undefined_variable_is_named() -> None:
    with pytest.raises(TemplateError, match="'service' is undefined") as info:
        render("line one\n{{ service }}\n")
    assert not isinstance(info.value, SecurityError)
    assert "template line 2" in str(info.value)


def test_runtime_error_names_line() -> None:
    with pytest.raises(TemplateError, match=r"template line 3: ZeroDivisionError: .*by zero"):
        render("a\nb\n{{ 1 // 0 }}\n")


@pytest.mark.parametrize(
    ("template", "line", "detail"),
    [
        ("one\ntwo\n{{ x }\n", 3, "unexpected '}'"),
        ("{% if x %}\nno end\n", 1, "endif"),  # Jinja2 names the open block
        ("{{ x|nosuchfilter }}", 1, "No filter named 'nosuchfilter'"),
    ],
)
def test_syntax_error_names_template_line(template: str, line: int, detail: str) -> None:
    for call in (sandbox.template_variables, lambda t: sandbox.render_template(t, {"x": "1"})):
        with pytest.raises(TemplateError) as info:
            call(template)
        assert str(info.value).startswith(f"template line {line}: "), str(info.value)
        assert detail in str(info.value)


def test_includes_imports_and_extends_are_refused_before_anything_loads() -> None:
    for template in ("{% include 'x.txt' %}", "{% import '/etc/passwd' as p %}",
                     "{% extends 'base' %}", "{% from 'x' import y %}"):
        for call in (render, sandbox.template_variables):
            with pytest.raises(TemplateError, match="cannot include, import or extend"):
                call(template)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(TemplateError):
        sandbox.template_variables("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")


@pytest.mark.parametrize(
    "value",
    [1.5, None, {"a": "b"}, ("a",), ["a", 1], b"bytes", object()],
    ids=["float", "none", "dict", "tuple", "mixed-list", "bytes", "object"],
)
def test_only_plain_values_enter_the_context(value: object) -> None:
    with pytest.raises(TemplateError, match="only strings, integers, booleans and lists"):
        sandbox.render_template("{{ v }}", {"v": value})  # type: ignore[dict-item]


def test_str_subclass_is_refused() -> None:
    class Sneaky(str):
        pass

    with pytest.raises(TemplateError, match="not Sneaky"):
        sandbox.render_template("{{ v }}", {"v": Sneaky("x")})


# --------------------------------------------------------------------------------------------
# Analysis


def test_template_variables() -> None:
    template = (
        "{{ a }}{% if b %}{{ c|upper }}{% endif %}{% for x in items %}{{ x }}{{ loop.index }}"
        "{% endfor %}{% set y = 1 %}{{ y }}{{ range(2)|list }}{{ missing|default('z') }}"
    )
    assert sandbox.template_variables(template) == frozenset({"a", "b", "c", "items", "missing"})
    assert sandbox.template_variables("no variables\n") == frozenset()


@pytest.mark.slow
def test_check_templates_mix_in_order() -> None:
    sources = [
        "{{ a }}",
        "{{ broken }",
        "{{ 'a'|center(8000000)|replace(' ', 'b')|wordwrap(1) }}",  # time bomb when folded
        "{{ b }} {{ c }}",
        "{{ 'a'|center(8000000) }}" * 30,  # memory bomb when folded
        "{{ ''.__class__ }}",
        "{{ d|upper }}",
    ]
    start = time.monotonic()
    results = sandbox.check_templates(sources)
    elapsed = time.monotonic() - start
    assert len(results) == len(sources)
    assert results[0] == frozenset({"a"})
    assert isinstance(results[1], TemplateError)
    assert "template line 1: unexpected '}'" in str(results[1])
    assert isinstance(results[2], TemplateError)
    assert TIME in str(results[2])
    assert results[3] == frozenset({"b", "c"})
    assert isinstance(results[4], TemplateError)
    assert MEMORY in str(results[4])
    assert isinstance(results[5], SecurityError)
    assert results[6] == frozenset({"d"})
    assert elapsed < 2 * sandbox.RENDER_SECONDS + 2  # one time bomb, not one per template


def test_check_templates_many_in_one_worker() -> None:
    sources = [f"{{{{ v{i} }}}} {{% if w{i} %}}x{{% endif %}}" for i in range(500)]
    results = sandbox.check_templates(sources)
    assert results == [frozenset({f"v{i}", f"w{i}"}) for i in range(500)]
    assert sandbox.check_templates([]) == []


def test_check_templates_uses_one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    results = sandbox.check_templates(["{{ a }}", "{{ b", "{{ c }}"] * 100)
    assert len(forks) == 1
    assert results[:3] == [frozenset({"a"}), results[1], frozenset({"c"})]
    assert isinstance(results[1], TemplateError)


# --------------------------------------------------------------------------------------------
# The worker's process hygiene


def run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.mark.slow
def test_no_zombies_after_many_renders() -> None:
    proc = run_python(
        """
        import os
        from promptlib.sandbox import api as sandbox
        from promptlib.errors import TemplateError

        for i in range(100):
            assert sandbox.render_template("{{ n }}", {"n": i}) == str(i)
        for bad in ["{{ x }", "{{ 'a'*10**9 }}", "{{ ''.__class__ }}",
                    "{{ 'a'|center(8000000) }}" * 30]:
            try:
                sandbox.render_template(bad, {})
            except TemplateError:
                pass
            else:
                raise AssertionError(bad)
        sandbox.check_templates(["{{ a }}"] * 50 + ["{{ 'a'|center(8000000) }}" * 30])
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            print("no children")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "no children\n"


@pytest.mark.slow
def test_timeout_kills_and_reaps_the_worker() -> None:
    proc = run_python(
        """
        import os, time
        from promptlib.sandbox import api as sandbox
        from promptlib.errors import TemplateError

        start = time.monotonic()
        try:
            sandbox.render_template(
                "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
                {})
        except TemplateError as exc:
            print(exc)
        print(round(time.monotonic() - start))
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            print("no children")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "template took longer than 2 s\n2\nno children\n"


@pytest.mark.slow
def test_keyboard_interrupt_kills_and_reaps_the_worker() -> None:
    proc = run_python(
        """
        import os, signal
        from promptlib.sandbox import api as sandbox

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        try:
            sandbox.render_template(
                "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
                {})
        except KeyboardInterrupt:
            print("interrupted")
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            print("no children")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "interrupted\nno children\n"


def test_worker_neither_prints_nor_flushes_inherited_buffers() -> None:
    proc = run_python(
        """
        import sys
        from promptlib.sandbox import api as sandbox

        sys.stdout.write("before|")  # buffered (stdout is a pipe), so a child would inherit it
        for template in ["{{ v }}", "{{ undefined }}", "{{ 'a'*10**9 }}"]:
            try:
                sys.stdout.write(sandbox.render_template(template, {"v": "out"}) + "|")
            except Exception as exc:
                sys.stdout.write(type(exc).__name__ + "|")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "before|out|TemplateError|TemplateError|"
    assert proc.stderr == ""


def test_importing_the_module_does_not_import_jinja2() -> None:
    proc = run_python(
        """
        import sys
        import promptlib.sandbox.api
        print(sorted(m for m in sys.modules if m.startswith(("jinja2", "markupsafe"))))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


# --------------------------------------------------------------------------------------------
# Without fork (Windows): in-process, interceptors and a cooperative deadline


@pytest.fixture
def no_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_fork_available", lambda: False)

    def refuse_fork() -> int:
        raise AssertionError("forked although fork is unavailable")

    monkeypatch.setattr(os, "fork", refuse_fork)


@pytest.mark.usefixtures("no_fork")
def test_in_process_fallback_renders_and_analyses() -> None:
    assert render("Hi {{ name|upper }}\n", name="x") == "Hi X\n"
    assert sandbox.template_variables("{{ a }}{{ b }}") == frozenset({"a", "b"})
    results = sandbox.check_templates(["{{ a }}", "{{ a", "{{ ''.__class__ }}"])
    assert results[0] == frozenset({"a"})
    assert isinstance(results[1], TemplateError)
    assert isinstance(results[2], SecurityError)


@pytest.mark.usefixtures("no_fork")
@pytest.mark.parametrize(("template", "messages"), [
    pytest.param(t, m, id=i) for i, t, m, _ in HOSTILE
    if i not in ("fold-memory-bomb", "concat-doubling", "fold-time-bomb")  # need the worker
])
def test_in_process_fallback_still_bounds_the_interceptable(
    template: str, messages: tuple[str, ...]
) -> None:
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render(template)
    assert any(m in str(info.value) for m in messages), str(info.value)
    assert time.monotonic() - start < sandbox.RENDER_SECONDS + 1


@pytest.mark.slow
@pytest.mark.usefixtures("no_fork")
def test_in_process_fallback_deadline_stops_silent_loops() -> None:
    start = time.monotonic()
    with pytest.raises(TemplateError, match=TIME):
        render("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}")
    assert time.monotonic() - start < sandbox.RENDER_SECONDS + 1


@pytest.mark.usefixtures("no_fork")
@pytest.mark.parametrize("template", ESCAPES + RUNTIME_ESCAPES)
def test_in_process_fallback_refuses_escapes(template: str) -> None:
    with pytest.raises(SecurityError):
        sandbox.render_template(template, {"name": "x", "items": ["a"]})


# --------------------------------------------------------------------------------------------
# A worker that dies becomes a clean TemplateError


def kill_self(signum: int) -> Any:
    def die(*args: Any) -> Any:
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the signal is delivered before this ends

    return die


@pytest.mark.parametrize(
    ("signum", "message"),
    [
        (signal.SIGKILL, "used more than 224 MiB of memory (the sandbox worker was killed by "
                         "SIGKILL)"),
        (signal.SIGSEGV, "crashed the sandbox worker (SIGSEGV)"),
        (signal.SIGABRT, "crashed the sandbox worker (SIGABRT)"),
        (signal.SIGXCPU, TIME),
    ],
)
def test_worker_killed_by_a_signal(
    monkeypatch: pytest.MonkeyPatch, signum: int, message: str
) -> None:
    # Patched in the parent, so the forked worker runs it in place of the real render.
    monkeypatch.setattr(sandbox, "_render_chunks", kill_self(signum))
    monkeypatch.setattr(sandbox, "_analyse", kill_self(signum))
    with pytest.raises(TemplateError) as info:
        sandbox.render_template("{{ x }}", {"x": "1"})
    assert not isinstance(info.value, SecurityError)
    assert message in str(info.value)
    results = sandbox.check_templates(["{{ a }}", "{{ b }}"])
    assert all(isinstance(r, TemplateError) and message in str(r) for r in results)


def test_worker_out_of_memory_exit_status() -> None:
    assert str(sandbox._death_error(71 << 8)) == "template " + MEMORY
    assert "exit status 70" in str(sandbox._death_error(70 << 8))
    assert "without a result" in str(sandbox._death_error(-1))


@pytest.mark.slow
def test_cpu_rlimit_stops_the_worker_even_without_the_parent_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RLIMIT_CPU is the backstop for a worker whose parent is gone: SIGXCPU ends it."""
    monkeypatch.setattr(sandbox, "RENDER_SECONDS", 30.0)
    monkeypatch.setattr(sandbox, "_cpu_budget", lambda: 1)
    start = time.monotonic()
    with pytest.raises(TemplateError, match="took longer than 30 s"):
        render("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}")
    assert time.monotonic() - start < 5


def test_check_templates_wants_a_sequence_of_templates() -> None:
    with pytest.raises(TypeError):
        sandbox.check_templates("{{ a }}")
