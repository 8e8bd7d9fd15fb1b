"""The recipe commands end to end through CliRunner, on real git repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from promptlib import paths as config
from tests.conftest import recipe_yaml, write_tree


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


def local(home: Path) -> Path:
    return home / "collections" / "local"


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD"))


def test_first_command_seeds_local_from_the_starter_library_in_one_commit(cli, home):
    result = cli("list", "--json")
    assert result.exit_code == 0, result.output
    ids = [r["id"] for r in json.loads(result.stdout)]
    starter = sorted(p.stem for p in config.starter_library().rglob("*.yaml"))
    assert sorted(i.removeprefix("local/") for i in ids) == starter
    assert len(starter) >= 30
    assert commit_count(local(home)) == 1
    assert git(local(home), "status", "--porcelain") == ""


def test_init_empty_then_init_again_is_refused(cli, home):
    result = cli("init", "--empty")
    assert result.exit_code == 0, result.output
    assert json.loads(cli("list", "--json").stdout) == []
    again = cli("init")
    assert again.exit_code == 4
    assert "already set up" in again.stderr


def test_add_from_flags_declares_template_variables_and_commits(cli, home):
    result = cli("add", "disk-full", "--title", "Triage a full disk", "--tag",
                 "incident-response", "--tag", "disk", "--template",
                 "Disk on {{ host }} is full: {{ df_output }}")
    assert result.exit_code == 0, result.output
    assert "added local/disk-full (incident-response/disk-full.yaml)" in result.stderr
    shown = json.loads(cli("show", "disk-full", "--json").stdout)
    assert shown["id"] == "local/disk-full"
    assert sorted(shown["variables"]) == ["df_output", "host"]
    assert shown["author"] == "Test Author <author@example.test>"
    log = git(local(home), "log", "--format=%s", "-1")
    assert log.strip() == "Add disk-full: Triage a full disk"
    assert git(local(home), "status", "--porcelain") == ""


def test_add_from_file_and_from_stdin(cli, tmp_path):
    source = tmp_path / "disk-full.yaml"
    source.write_text(recipe_yaml())
    assert cli("add", "--file", str(source)).exit_code == 0
    result = cli("add", "--file", "-", input=recipe_yaml("disk-full-2"))
    assert result.exit_code == 0, result.output
    listed = [r["id"] for r in json.loads(cli("list", "--tag", "disk", "--json").stdout)]
    assert listed == ["local/disk-full", "local/disk-full-2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (recipe_yaml(extra="titel: oops\n"), "<stdin>:10: titel: unknown field 'titel'"),
        (recipe_yaml(template="{{ host }} {{ port }}\n"),
         "template uses undeclared variable(s): port"),
        (recipe_yaml(template="no variables here\n"),
         "declared variable(s) not used in the template: host"),
        (recipe_yaml("../etc"), "<stdin>:1: name: invalid name '../etc'"),
        (recipe_yaml("UPPER"), "<stdin>:1: name: invalid name 'UPPER'"),
        (recipe_yaml(template="key AKIA" + "Q7LZ4XW2M9KD3P8R" + " {{ host }}\n"),
         "looks like a credential (aws_key_id)"),
        (recipe_yaml(template="{{ host }} {% if %}\n"), "<stdin>:9: template: "),
    ],
)
def test_add_refuses_invalid_recipes_and_writes_nothing(cli, home, text, message):
    cli("list")  # seed
    before = commit_count(local(home))
    result = cli("add", "--file", "-", input=text)
    assert result.exit_code == 4, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the error, and perhaps a hint
    assert commit_count(local(home)) == before
    assert git(local(home), "status", "--porcelain") == ""


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "UPPER", "a b", "-rf", "ｌｏｇ",
                                  "lo\u200bg", "a\nb"])
def test_add_refuses_bad_names_from_flags(cli, home, name):
    result = cli("add", "--title", "t", "--tag", "ops", "--template", "x", "--", name)
    assert result.exit_code == 4, result.output
    assert "invalid recipe name" in result.stderr
    assert not (home / "collections" / "local" / "ops").exists()


def test_add_refuses_a_name_that_exists(cli):
    assert cli("add", "--file", "-", input=recipe_yaml()).exit_code == 0
    again = cli("add", "--file", "-", input=recipe_yaml())
    assert again.exit_code == 4
    assert "local/disk-full already exists" in again.stderr


def test_add_without_enough_flags_is_a_usage_error(cli):
    result = cli("add", "x", "--title", "t")
    assert result.exit_code == 2
    assert "missing --tag, --template" in result.stderr


def editor_script(tmp_path: Path, body: str) -> str:
    """An $EDITOR that runs `body` as Python with the file path in `path`."""
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\npath = sys.argv[1]\n{body}\n")
    return f"{sys.executable} {script}"


def test_edit_validates_and_commits(cli, home, tmp_path):
    cli("add", "--file", "-", input=recipe_yaml())
    editor = editor_script(tmp_path, "t = open(path).read().replace('Triage a full disk', "
                                     "'Free up a full disk')\nopen(path, 'w').write(t)")
    result = cli("edit", "disk-full", env={"EDITOR": editor})
    assert result.exit_code == 0, result.output
    assert json.loads(cli("show", "disk-full", "--json").stdout)["title"] == "Free up a full disk"
    history = json.loads(cli("history", "disk-full", "--json").stdout)
    assert [c["message"] for c in history] == ["Edit disk-full: Free up a full disk",
                                               "Add disk-full: Triage a full disk"]


def test_edit_that_breaks_the_recipe_keeps_the_text_and_changes_nothing(cli, home, tmp_path):
    cli("add", "--file", "-", input=recipe_yaml())
    before = commit_count(local(home))
    editor = editor_script(tmp_path, "open(path, 'a').write('bogus: field\\n')")
    result = cli("edit", "disk-full", env={"EDITOR": editor})
    assert result.exit_code == 4, result.output
    assert "unknown field 'bogus'" in result.stderr
    kept = Path(result.stderr.split("kept in ")[1].split()[0])
    assert kept.read_text().endswith("bogus: field\n")
    assert commit_count(local(home)) == before
    assert "bogus" not in (local(home) / "incident-response" / "disk-full.yaml").read_text()


def test_edit_with_no_change_commits_nothing(cli, home, tmp_path):
    cli("add", "--file", "-", input=recipe_yaml())
    before = commit_count(local(home))
    result = cli("edit", "disk-full", env={"EDITOR": editor_script(tmp_path, "pass")})
    assert result.exit_code == 0, result.output
    assert "no changes" in result.stderr
    assert commit_count(local(home)) == before


def test_add_edit_opens_the_editor_with_a_skeleton(cli, tmp_path):
    editor = editor_script(tmp_path, "t = open(path).read().replace('new-recipe', 'from-editor')"
                                     "\nopen(path, 'w').write(t)")
    result = cli("add", "--edit", env={"EDITOR": editor})
    assert result.exit_code == 0, result.output
    assert cli("show", "from-editor").exit_code == 0


def test_remove_commits_and_history_survives(cli, home):
    cli("add", "--file", "-", input=recipe_yaml())
    result = cli("remove", "disk-full")
    assert result.exit_code == 0, result.output
    assert cli("show", "disk-full").exit_code == 3
    assert git(local(home), "log", "--format=%s", "-1").strip() == "Remove disk-full"


def test_show_text_and_not_found(cli):
    cli("add", "--file", "-", input=recipe_yaml())
    result = cli("show", "disk-full")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == ["local/disk-full  Triage a full disk",
                                              "tags: incident-response, disk"]
    assert "  host (required) — The host" in result.stdout
    missing = cli("show", "disk-fulll")
    assert missing.exit_code == 3
    assert "did you mean: disk-full?" in missing.stderr


def test_ambiguous_bare_name_lists_the_candidates(cli, home):
    cli("list")
    other = home / "collections" / "sre"
    write_tree(other, {"disk/disk-full.yaml": recipe_yaml()})
    git(other, "init", "-q")
    git(other, "add", ".")
    git(other, "commit", "-qm", "init")
    cli("add", "--file", "-", input=recipe_yaml())
    result = cli("show", "disk-full")
    assert result.exit_code == 3
    assert "'disk-full' is in several collections: local/disk-full, sre/disk-full" in result.stderr
    assert cli("show", "sre/disk-full").exit_code == 0


def test_tags_counts(cli):
    cli("init", "--empty")
    cli("add", "--file", "-", input=recipe_yaml("a-one"))
    cli("add", "--file", "-", input=recipe_yaml("a-two", tags="[incident-response, db]"))
    result = cli("tags", "--json")
    assert json.loads(result.stdout) == [
        {"tag": "incident-response", "count": 2}, {"tag": "db", "count": 1},
        {"tag": "disk", "count": 1}]


def test_a_bad_file_is_warned_once_and_never_stops_list(cli, home):
    cli("list")
    write_tree(local(home), {"broken/broken.yaml": "name: broken\ntitle: [unclosed\n",
                             "wins/not-a-recipe.yaml": "whatever: 1\n",
                             ".hidden/x.yaml": "junk"})
    (local(home) / "leak.yaml").symlink_to("/etc/passwd")
    result = cli("list", "--json")
    assert result.exit_code == 0, result.output
    ids = [r["id"] for r in json.loads(result.stdout)]
    assert "local/log-triage" in ids
    assert "local/leak" not in ids
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "local/broken/broken.yaml:3: invalid YAML" in warnings[0]


def test_lint_passes_on_the_starter_library(cli):
    result = cli("lint")
    assert result.exit_code == 0, result.output
    assert "recipes ok" in result.stderr
    report = json.loads(cli("lint", "--json").stdout)
    assert report
    assert all(r["ok"] and r["examples"] >= 1 for r in report), [
        r for r in report if not r["ok"] or r["examples"] < 1]


def test_lint_reports_a_failing_example(cli, home):
    cli("init", "--empty")
    text = recipe_yaml(extra="examples:\n  - vars: {host: web-1}\n    expect: [web-2]\n")
    # `add` would refuse it; a teammate's pull or a hand edit can still bring it in.
    write_tree(local(home), {"incident-response/disk-full.yaml": text})
    result = cli("lint", "--json")
    assert result.exit_code == 4
    (entry,) = json.loads(result.stdout)
    assert entry["problems"] == [
        "local/incident-response/disk-full.yaml:11: examples[0]: rendered prompt lacks "
        "expected text 'web-2'"]


def test_every_write_leaves_a_clean_tree(cli, home):
    cli("add", "--file", "-", input=recipe_yaml())
    assert git(local(home), "status", "--porcelain") == ""
    assert not list(local(home).rglob("*.tmp"))


# --- hostile and unlucky cases from review ------------------------------------------------------


def test_edit_refuses_to_overwrite_a_change_that_arrived_meanwhile(cli, home, tmp_path):
    cli("add", "--file", "-", input=recipe_yaml())
    target = local(home) / "incident-response" / "disk-full.yaml"
    # The "editor" simulates a pull landing while it is open: the file changes under it.
    editor = editor_script(tmp_path, (
        f"p = {str(target)!r}\n"
        "upstream = open(p).read().replace('Triage a full disk', 'Changed upstream')\n"
        "open(p, 'w').write(upstream)\n"
        "t = open(path).read().replace('Triage a full disk', 'Mine')\n"
        "open(path, 'w').write(t)"))
    result = cli("edit", "disk-full", env={"EDITOR": editor})
    assert result.exit_code == 5, result.output
    assert "changed while you were editing it" in result.stderr
    kept = Path(result.stderr.split("kept in ")[1].split(";")[0].split()[0])
    assert "title: Mine" in kept.read_text()
    assert "Changed upstream" in target.read_text()


def test_edit_from_a_file_and_the_hint_after_a_rejected_edit_works(cli, home, tmp_path):
    cli("add", "--file", "-", input=recipe_yaml())
    editor = editor_script(tmp_path, "open(path, 'a').write('titel: oops\\n')")
    rejected = cli("edit", "disk-full", env={"EDITOR": editor})
    assert rejected.exit_code == 4
    hint = rejected.stderr.split("hint: fix it, then `")[1].split("`")[0]
    kept = Path(hint.split("--file ")[1])
    kept.write_text(kept.read_text().replace("titel: oops\n", "").replace("full disk",
                                                                         "full volume"))
    args = hint.split()[1:]
    assert args[:3] == ["edit", "local/disk-full", "--file"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert json.loads(cli("show", "disk-full", "--json").stdout)["title"] == (
        "Triage a full volume")


@pytest.mark.parametrize(("editor", "message"), [
    ("/nonexistent/editor", "cannot run the editor '/nonexistent/editor'"),
    ("vi 'unbalanced", "cannot read $EDITOR"),
])
def test_a_broken_editor_is_a_clear_error(cli, editor, message):
    cli("list")
    result = cli("edit", "log-triage", env={"EDITOR": editor})
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_a_recipe_tagged_with_a_reserved_folder_name_is_still_a_recipe(cli):
    result = cli("add", "winning", "--title", "T", "--tag", "wins", "--template", "hi")
    assert result.exit_code == 0, result.output
    assert "added local/winning (recipes/winning.yaml)" in result.stderr
    assert cli("show", "winning").exit_code == 0


def test_remove_a_file_that_was_never_committed(cli, home):
    cli("list")
    write_tree(local(home), {"ops/handmade.yaml": recipe_yaml("handmade")})
    subprocess.run(["git", "-C", str(local(home)), "add", "ops/handmade.yaml"], check=True)
    before = commit_count(local(home))
    result = cli("remove", "handmade")
    assert result.exit_code == 0, result.output
    assert "never been committed" in result.stderr
    assert not (local(home) / "ops" / "handmade.yaml").exists()
    assert git(local(home), "status", "--porcelain") == ""
    assert commit_count(local(home)) == before


def test_add_dash_reads_stdin_and_file_does_not_mix_with_flags(cli, tmp_path):
    assert cli("add", "-", input=recipe_yaml()).exit_code == 0
    source = tmp_path / "r.yaml"
    source.write_text(recipe_yaml("other"))
    mixed = cli("add", "--file", str(source), "--title", "ignored?")
    assert mixed.exit_code == 2
    assert "--file takes the whole recipe" in mixed.stderr


def test_add_reads_no_more_than_the_size_limit(cli):
    result = cli("add", "--file", "/dev/zero")
    assert result.exit_code == 4
    assert "/dev/zero: file is larger than 256 KiB" in result.stderr


@pytest.mark.parametrize(("template", "extra", "message"), [
    ("{{ host }}\n", "examples:\n  - vars: {host: web-1}\n    expect: [web-2]\n",
     "<stdin>:11: examples[0]: rendered prompt lacks expected text 'web-2'"),
    ("{{ host }} {{ 'a'|center(999999999) }}\n", "examples:\n  - vars: {host: x}\n",
     "<stdin>:11: examples[0]: does not render: "),
    ("{% include 'other' %}{{ host }}\n", "",
     "template line 1: a recipe's template cannot include, import or extend other templates"),
])
def test_add_renders_the_examples_and_refuses_what_can_never_render(cli, template, extra,
                                                                     message):
    result = cli("add", "-", input=recipe_yaml(template=template, extra=extra))
    assert result.exit_code == 4, result.output
    assert message in result.stderr
