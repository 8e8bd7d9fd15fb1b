"""Shell completion as the shells run it: the printed script sourced in a real bash (COMP_WORDS
and COMP_CWORD set, the function called, COMPREPLY read), in fish (`complete -C`), and in zsh
on a terminal (tmux: type, press TAB, read the screen)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.main import get_command

from promptlib.cli import complete
from promptlib.cli.app import app
from tests.conftest import imports_of, recipe_yaml
from tests.tmux import Tmux, needs_tmux

BIN = str(Path(sys.executable).parent)  # where the `promptlib` the scripts call lives


def shell_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


def bash_complete(words: Sequence[str], *, line: str | None = None, cwd: Path | None = None
                  ) -> list[str]:
    """COMPREPLY for the cursor at the end of the last word, as bash's programmable completion
    calls the function: COMP_WORDS split at COMP_WORDBREAKS, COMP_LINE and COMP_POINT set."""
    line = " ".join(words) if line is None else line
    array = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = (f'source <(promptlib completion bash)\n'
              f'COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}\n'
              f'COMP_LINE=\'{line}\'; COMP_POINT=${{#COMP_LINE}}\n'
              '_promptlib_complete\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=shell_env(),
                          capture_output=True, text=True, check=True, timeout=60, cwd=cwd)
    assert done.stderr == ""
    return [w for w in done.stdout.splitlines() if w]


@pytest.fixture
def library(run, tmp_path: Path) -> Path:
    """The starter library in `local`, and a team `sre` with a remote."""
    assert run("init").returncode == 0
    remote = tmp_path / "sre.git"
    subprocess.run(["git", "init", "--bare", "--quiet", "-b", "main", str(remote)], check=True)
    assert run("team", "add", "sre", str(remote)).returncode == 0
    assert run("search", "logs").returncode == 0  # the index exists, as after any search
    return tmp_path


def test_render_log_tab_offers_both_log_recipes(library):
    assert bash_complete(["promptlib", "render", "log"]) == ["log-parsing-script", "log-triage"]


def test_pull_s_tab_offers_the_team(library):
    assert bash_complete(["promptlib", "pull", "s"]) == ["sre"]
    assert bash_complete(["promptlib", "pull", ""]) == ["sre"]  # local has no remote
    assert bash_complete(["promptlib", "team", "remove", ""]) == ["sre"]
    assert bash_complete(["promptlib", "list", "--team", ""]) == ["local", "sre"]
    assert bash_complete(["promptlib", "share", "log-triage", "--to", "s"]) == ["sre"]


def test_every_command_that_takes_a_recipe_completes_names(library):
    takers = [name for name, entry in complete.COMMANDS.items()
              if isinstance(entry, complete.Command) and entry.args[:1] in ((complete.RECIPE,),
                                                                             (complete.RECIPES,))]
    assert {"render", "show", "edit", "history", "remove", "win", "share"} <= set(takers)
    for command in takers:
        assert bash_complete(["promptlib", command, "kubernetes-c"]) == ["kubernetes-crashloop"]


def test_collection_slash_name(library):
    assert bash_complete(["promptlib", "show", "local/log-t"]) == ["local/log-triage"]
    assert bash_complete(["promptlib", "show", "sre/log"]) == []


def test_tags_after_tag_option_and_tag_colon(library):
    assert "incident-response" in bash_complete(["promptlib", "list", "--tag", "inc"])
    # Bash splits `tag:inc` at the colon (COMP_WORDBREAKS): the reply fills in only its last part.
    assert bash_complete(["promptlib", "search", "tag", ":", "inc"],
                         line="promptlib search tag:inc") == ["incident-response"]
    assert bash_complete(["promptlib", "search", "--tag", "=", "incident-r"],
                         line="promptlib search --tag=incident-r") == ["incident-response"]


def test_choices_commands_and_options(library):
    assert bash_complete(["promptlib", "resolve", "log-triage", "--keep", ""]) == [
        "mine", "theirs", "both"]
    assert sorted(bash_complete(["promptlib", "re"])) == [
        "redact", "remove", "render", "report", "resolve", "restore"]
    assert bash_complete(["promptlib", "team", ""]) == ["add", "list", "remove", "usage"]
    assert bash_complete(["promptlib", "completion", ""]) == ["bash", "zsh", "fish"]
    assert "--no-redact" in bash_complete(["promptlib", "render", "x", "--no"])


def test_file_options_fall_back_to_file_names(library):
    (library / "my-recipe.yaml").write_text("x")
    assert bash_complete(["promptlib", "add", "--file", "my-r"], cwd=library) == [
        "my-recipe.yaml"]


def test_a_recipe_added_since_the_last_search_is_offered(library, run):
    source = library / "r.yaml"
    source.write_text(recipe_yaml("disk-full-triage"))
    assert run("add", "--file", str(source)).returncode == 0
    assert bash_complete(["promptlib", "render", "disk-f"]) == ["disk-full-triage"]


def test_a_tab_never_creates_the_home(home):
    assert bash_complete(["promptlib", "render", "log"]) == []
    assert not home.exists()


def test_completion_prints_a_script_for_each_shell(cli):
    for shell, marker in (("bash", "complete -F"), ("zsh", "compdef _promptlib promptlib"),
                          ("fish", "complete -c promptlib")):
        result = cli("completion", shell)
        assert result.exit_code == 0, result.output
        assert marker in result.output
    result = cli("completion", "tcsh")
    assert result.exit_code == 2
    # Printed, never installed: Typer's own installer, which edits rc files, stays off.
    assert cli("--install-completion").exit_code == 2


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed "
                    "(apt-get install fish)")
def test_fish_shows_titles_as_descriptions(library):
    script = ("promptlib completion fish | source\n"
              "complete -C 'promptlib render log'\ncomplete -C 'promptlib pull s'\n"
              "complete -C 'promptlib search tag:incident-r'\n")
    done = subprocess.run(["fish", "--no-config", "-c", script], env=shell_env(),
                          capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.splitlines() == [
        "log-parsing-script\tGenerate a log-parsing script",
        "log-triage\tTriage error logs from a failing service",
        "sre\t0 recipes",
        "tag:incident-response\t9 recipes",
    ]


@needs_tmux
def test_a_real_bash_offers_both_log_recipes_on_tab(library):
    term = Tmux(["bash", "--norc", "--noprofile"], env={**shell_env(), "PS1": "$ "},
                cwd=library)
    try:
        term.type('eval "$(promptlib completion bash)"', "Enter")
        term.type("promptlib render log", "Tab")
        term.wait_for("$ promptlib render log-")  # the common part, filled in
        term.type("Tab", "Tab")  # readline lists the candidates on the second TAB from here
        screen = term.wait_for("log-parsing-script  log-triage")
        assert screen.rstrip().endswith("$ promptlib render log-")
        term.type("C-u", "promptlib pull s", "Tab")
        term.wait_for("$ promptlib pull sre ")
    finally:
        term.close()


@needs_tmux
@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed "
                    "(apt-get install zsh)")
def test_zsh_offers_names_with_titles_on_tab(library):
    term = Tmux(["zsh", "-f"], env={**shell_env(), "HOME": str(library)}, cwd=library)
    try:
        term.type('autoload -U compinit && compinit -u -D && eval "$(promptlib completion zsh)"',
                  "Enter")
        term.type("promptlib render log", "Tab")
        term.wait_for("promptlib render log-")  # the common part, filled in
        term.type("Tab")
        screen = term.wait_for("log-triage")
        assert "log-parsing-script  -- Generate a log-parsing script" in screen
        assert "log-triage          -- Triage error logs from a failing service" in screen
    finally:
        term.close()


# --- the table in complete.py is the Typer app's grammar -----------------------------------------


def _click_commands() -> dict[str, object]:
    root = get_command(app)
    found: dict[str, object] = {}
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            found[name] = dict(command.commands)
        else:
            found[name] = command
    return found


def _shape(command: object) -> tuple[dict[str, object], int, bool]:
    options: dict[str, object] = {}
    arguments = []
    for param in command.params:  # type: ignore[attr-defined]
        if param.param_type_name == "option":
            kind = "flag" if param.is_flag else tuple(getattr(param.type, "choices", ())) or "value"
            for opt in (*param.opts, *param.secondary_opts):
                options[opt] = kind
        else:
            arguments.append(param)
    repeated = bool(arguments) and arguments[-1].nargs == -1
    return options, len(arguments), repeated


def _table_shape(entry: complete.Command) -> tuple[dict[str, object], int, bool]:
    options = {opt: "flag" if kind == complete.FLAG else
               (tuple(kind) if isinstance(kind, tuple) else "value")
               for opt, kind in entry.options.items()}
    return options, len(entry.args), bool(entry.args) and entry.args[-1] in complete.REPEATED


def _same_shape(table: tuple[dict[str, object], int, bool],
                click: tuple[dict[str, object], int, bool]) -> bool:
    """Equal — except that the table may name the choices of an option Click takes as plain
    text (`import --on-conflict`)."""
    options = {o: "value" if isinstance(k, tuple) and click[0].get(o) == "value" else k
               for o, k in table[0].items()}
    return (options, *table[1:]) == click


def _suggested_line(label: str, shape: tuple[dict[str, object], int, bool]) -> str:
    """A line to paste into complete.COMMANDS: TEXT where the kind must be chosen by hand
    (RECIPE for a recipe name, TEAM, COLLECTION, TAG, FILE…)."""
    options, count, repeated = shape
    kinds = {"flag": "FLAG", "value": "TEXT"}
    spelled = ", ".join(f'"{o}": {kinds.get(k, repr(k)) if isinstance(k, str) else repr(k)}'
                        for o, k in options.items())
    args = ", ".join(["TEXT"] * count) + ("," if count == 1 else "")
    note = ("  # the last argument repeats: RECIPES, TEAMS, QUERY, FILES or TEXTS"
            if repeated else "")
    return f'"{label.rsplit(maxsplit=1)[-1]}": Command(({args}), {{{spelled}}}),{note}'


def test_the_formats_are_the_catalog_s():
    from promptlib.catalog import formats

    assert complete.FORMATS == formats.NAMES


def test_the_completion_table_matches_the_typer_app():
    """A command or option added to the app and not to complete.COMMANDS fails here, naming
    the line to add."""
    problems = []
    click = _click_commands()
    for name, command in click.items():
        entry = complete.COMMANDS.get(name)
        groups = [(name, command, entry)] if not isinstance(command, dict) else [
            (f"{name} {sub}", c, (entry or {}).get(sub)) for sub, c in command.items()]
        for label, cmd, table_entry in groups:
            shape = _shape(cmd)
            if not isinstance(table_entry, complete.Command):
                problems.append(f"{label}: not in complete.COMMANDS; add (choosing the kinds):"
                                f"\n    {_suggested_line(label, shape)}")
                continue
            if not _same_shape(_table_shape(table_entry), shape):
                problems.append(f"{label}: complete.COMMANDS does not match the app; it "
                                f"should read (choosing the kinds):\n    "
                                f"{_suggested_line(label, shape)}")
    extra = set(complete.COMMANDS) - set(click)
    problems += [f"{name}: in complete.COMMANDS but not a command" for name in sorted(extra)]
    assert not problems, "\n".join(problems)


TAB = ["__complete", "bash", "2", "", "--", "promptlib", "render", "log"]
# What keeps a TAB under half of grep's time (benchmarks/bench.py measures it).
NOT_FOR_A_TAB = ("typer", "yaml", "git", "typing", "tempfile", "json", "pathlib", "platformdirs",
                 "promptlib.index.db", "promptlib.index.fresh", "promptlib.cli.fastpath")


def test_a_tab_imports_no_framework_no_typing_and_not_the_index_builder(library):
    done, loaded = imports_of(TAB, NOT_FOR_A_TAB)
    assert done.returncode == 0, done.stderr
    assert loaded == []
    assert done.stdout == "log-parsing-script\nlog-triage\n"


def test_without_promptlib_home_a_tab_still_imports_neither_pathlib_nor_platformdirs(
        run, tmp_path):
    """A real user has no PROMPTLIB_HOME: the XDG folders are found without platformdirs'
    ~25 ms import, which the benchmark (it sets PROMPTLIB_HOME) would not show."""
    env = {k: v for k, v in os.environ.items() if k != "PROMPTLIB_HOME"}
    env.update(HOME=str(tmp_path / "user"), XDG_DATA_HOME="", XDG_CACHE_HOME="",
               XDG_STATE_HOME="")
    for args in (["init"], ["search", "logs"]):
        done = subprocess.run([sys.executable, "-m", "promptlib", *args], env=env,
                              capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "user/.cache/promptlib/index.sqlite3").is_file()
    done, loaded = imports_of(TAB, NOT_FOR_A_TAB, env=env)
    assert done.returncode == 0, done.stderr
    assert loaded == []
    assert done.stdout == "log-parsing-script\nlog-triage\n"


# --- the grammar walk itself, without a shell -----------------------------------------------------


@pytest.mark.parametrize(("line", "before", "current"), [
    ("promptlib render log", ["render"], "log"),
    ("promptlib render ", ["render"], ""),
    ("promptlib search tag:inc", ["search"], "tag:inc"),
    ("promptlib search 'disk full' --tag=in", ["search", "disk full"], "--tag=in"),
    ('promptlib show "log-t', ["show"], "log-t"),
])
def test_the_line_is_split_as_the_shell_splits_it(line, before, current):
    assert complete.split_command_line([], 0, line)[:2] == (before, current)


def test_the_walk_skips_option_values_and_knows_subcommands(library):
    def offered(*words: str) -> list[str]:
        return [v for v, _ in complete.complete(words[:-1], words[-1]).values]

    assert offered("render", "-v", "a=1", "--max-chars", "9", "log-t") == ["log-triage"]
    assert offered("render", "log-triage", "x") == []  # render takes one recipe
    assert offered("lint", "log-triage", "log-p") == ["log-parsing-script"]  # lint takes many
    assert offered("team", "usage", "") == ["local", "sre"]
    assert offered("nosuch", "") == []
    assert offered("--ver") == ["--version"]
    assert complete.complete(["report", "--html"], "").files
    assert [v for v, _ in complete.complete(["render"], "local/log-t").values] == [
        "local/log-triage"]
