"""`promptlib import` and `promptlib export` end to end: the report, one commit, conflicts,
dry runs, refusals, and the round trip of the starter library through every format."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from promptlib.catalog import export, transfer
from promptlib.recipe.model import Recipe
from promptlib.sandbox import api as sandbox
from promptlib.store import collections as store
from tests.conftest import write_tree

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
PATTERNS = FIXTURES / "fabric" / "patterns"
FORMATS = ("fabric", "llm", "prompty", "github", "dotprompt")


def commits(coll: str) -> int:
    path = store.collection(coll).path
    out = subprocess.run(["git", "-C", str(path), "rev-list", "--count", "HEAD"],
                         capture_output=True, text=True, check=False)
    return int(out.stdout.strip() or 0)


def test_import_fabric_reports_every_file_in_one_commit(cli):
    result = cli("import", "fabric", str(PATTERNS), "--to", "fabric")
    assert result.exit_code == 0, result.output
    for folder in ("empty_pattern", "notes_only", "plugin_call", "summarize_incident",
                   "translate_text", "with_user_prompt", "write_nuclei_rule"):
        assert folder in result.output
    assert "→ fabric/summarize-incident" in result.output
    assert "empty_pattern/system.md: system.md is empty" in result.output
    assert "imported 5 of 7 file(s) into fabric (a new collection) in one commit" in result.output
    assert commits("fabric") == 1


def test_imported_patterns_render_are_found_by_title_and_pass_lint(cli):
    assert cli("import", "fabric", str(PATTERNS), "--to", "fabric").exit_code == 0
    found = cli("search", "nuclei", "--json")
    assert [hit["id"] for hit in json.loads(found.output)] == ["fabric/write-nuclei-rule"]
    for rf in store.iter_recipe_files(store.collection("fabric")):
        title = store.read(rf).title
        word = max(title.split(), key=len)
        hits = json.loads(cli("search", word, "--team", "fabric", "--json").output)
        assert rf.id in [hit["id"] for hit in hits], (title, word)
    rendered = cli("render", "fabric/summarize-incident", input="12:01 db failover started\n")
    assert rendered.exit_code == 0, rendered.output
    assert rendered.output.endswith("INPUT:\n12:01 db failover started\n")
    lint = cli("lint", "--json")
    assert lint.exit_code == 0, lint.output
    assert all(r["ok"] for r in json.loads(lint.output))


def test_dry_run_writes_nothing(cli, home):
    result = cli("import", "fabric", str(PATTERNS), "--to", "fabric", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dry_run"] is True
    assert report["commit"] is None
    assert report["imported"] == 5
    assert not (home / "collections" / "fabric").exists()


def test_on_conflict_skip_rename_and_replace(cli, tmp_path):
    assert cli("import", "fabric", str(PATTERNS), "--to", "fabric").exit_code == 0
    again = cli("import", "fabric", str(PATTERNS), "--to", "fabric")
    assert again.exit_code == 4, again.output  # nothing new to import
    assert "fabric/translate-text already exists" in again.output
    assert "--on-conflict rename or replace" in again.output
    assert commits("fabric") == 1

    renamed = cli("import", "fabric", str(PATTERNS / "translate_text"), "--to", "fabric",
                  "--on-conflict", "rename")
    assert renamed.exit_code == 0, renamed.output
    assert "→ fabric/translate-text-2 (translate-text was taken)" in renamed.output

    changed = tmp_path / "translate_text"
    write_tree(changed, {"system.md": "Translate into {{lang_code}}, tersely.\n"})
    replaced = cli("import", "fabric", str(changed), "--to", "fabric", "--on-conflict", "replace")
    assert replaced.exit_code == 0, replaced.output
    assert "replaced" in replaced.output
    shown = cli("show", "fabric/translate-text", "--json")
    assert "tersely" in json.loads(shown.output)["template"]
    assert commits("fabric") == 3
    assert cli("import", "fabric", str(PATTERNS), "--on-conflict", "sometimes").exit_code == 2


def test_a_secret_is_refused_and_tags_come_first(cli, tmp_path):
    write_tree(tmp_path / "p", {
        "leaky/system.md": "Call the API with key AKIAIOSFODNN7EXAMPLE and summarize.\n",
        "clean/system.md": "Summarize the deploy log.\n",
    })
    result = cli("import", "fabric", str(tmp_path / "p"), "--tag", "script-generation",
                 "--json")
    assert result.exit_code == 0, result.output
    items = {Path(i["source"]).parent.name: i for i in json.loads(result.output)["items"]}
    assert items["leaky"]["status"] == "skipped"
    assert "credential" in items["leaky"]["reason"]
    shown = json.loads(cli("show", "clean", "--json").output)
    assert shown["tags"] == ["script-generation", "fabric"]
    assert shown["path"] == "script-generation/clean.yaml"


def test_bad_paths_formats_and_empty_folders(cli, tmp_path):
    assert cli("import", "fabric", str(tmp_path / "nope")).exit_code == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("import", "prompty", str(empty))
    assert result.exit_code == 3
    assert "no prompty files" in result.output
    assert cli("import", "word", str(empty)).exit_code == 2
    assert cli("export", "llm", "log-triage").exit_code == 2  # no --out


def test_every_format_imports_its_fixture_folder(cli):
    for fmt in FORMATS:
        folder = PATTERNS if fmt == "fabric" else FIXTURES / fmt
        result = cli("import", fmt, str(folder), "--to", f"from-{fmt}")
        assert result.exit_code == 0, result.output
    lint = cli("lint", "--json")
    assert lint.exit_code == 0, lint.output


def test_export_refuses_control_flow_with_the_reason(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("export", "llm", "log-triage", "terraform-plan-review", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert ("refused   local/log-triage: uses Jinja2 control flow ({% if context %}); llm "
            "templates only substitute variables") in result.output
    assert "exported  local/terraform-plan-review → terraform-plan-review.yaml" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["terraform-plan-review.yaml"]
    none = cli("export", "github", "log-triage", "--out", str(tmp_path / "gh"))
    assert none.exit_code == 4


def test_export_fabric_writes_pattern_folders_and_descriptions(cli, tmp_path):
    result = cli("export", "fabric", "terraform-plan-review", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    system = (tmp_path / "terraform_plan_review" / "system.md").read_text()
    assert "{{input}}" in system
    assert "{{ " not in system
    described = json.loads((tmp_path / "pattern_descriptions.json").read_text())
    entry = next(p for p in described["patterns"] if p["patternName"] == "terraform_plan_review")
    assert entry["tags"][0] == "SCRIPT-GENERATION"


# --- round trip: export, import, same renders ---------------------------------------------------


def _values(recipe: Recipe, *, fill_optional: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for var in recipe.variables:
        if var.choices:
            values[var.name] = var.choices[-1]
        elif (var.required and var.default is None) or fill_optional:
            values[var.name] = f"<value of {var.name}>"
        else:
            values[var.name] = ""
    return values


def _assert_same_render(original: Recipe, back: Recipe, fmt: str) -> None:
    """Same values in, same text out; the stdin value goes to whichever variable is stdin."""
    for fill in (True, False):
        values = _values(original, fill_optional=fill)
        mapped, appended = {}, False
        for var in back.variables:
            if var.name in values:
                mapped[var.name] = values[var.name]
            elif var.stdin and original.stdin_variable is not None:
                mapped[var.name] = values[original.stdin_variable.name]
            else:
                mapped[var.name], appended = "", True  # the input fabric appends, left empty
        expected = sandbox.render_template(original.template, values)
        if fmt == "fabric" and appended and not expected.endswith("\n"):
            expected += "\n"  # fabric puts its input on a line of its own
        assert sandbox.render_template(back.template, mapped) == expected, (original.name, fill)


@pytest.mark.parametrize("fmt", FORMATS)
def test_starter_library_round_trips_through_every_format(fmt, tmp_path):
    out = tmp_path / fmt
    report = export.export_recipes(fmt, [], every=True, out=str(out))
    exported = [i for i in report.items if i.status == "exported"]
    refused = [i for i in report.items if i.status == "refused"]
    assert exported, report.to_dict()
    for item in refused:
        assert "control flow" in item.reason or "would read as a variable" in item.reason, item
    if fmt in ("prompty", "dotprompt"):
        assert not refused  # both hold everything the starter library uses
    originals = {rf.name: store.read(rf) for rf in store.iter_recipe_files(
        store.collection("local"))}
    back = transfer.import_files(fmt, [str(out)], to=f"back-{fmt}")
    assert back.imported == len(exported), back.to_dict()
    coll = store.collection(f"back-{fmt}")
    again = {rf.name: store.read(rf) for rf in store.iter_recipe_files(coll)}
    for item in exported:
        name = item.recipe.split("/", 1)[1]
        _assert_same_render(originals[name], again[name], fmt)
        if fmt != "fabric":  # fabric keeps no title; the others give it back
            assert again[name].title == originals[name].title


def test_a_large_patterns_folder_imports_in_one_commit(cli, tmp_path):
    """250 fabric-style patterns (timed in benchmarks/bench_import.py, not here)."""
    write_tree(tmp_path / "patterns", {
        f"pattern_{i:03d}/system.md": f"# IDENTITY and PURPOSE\n\nYou check service {i} for "
                                      f"problem number {i}.\n\n# INPUT\n\nINPUT:\n"
        for i in range(250)})
    result = cli("import", "fabric", str(tmp_path / "patterns"), "--to", "many", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["imported"] == 250
    assert commits("many") == 1


def test_the_core_drives_a_progress_callback(tmp_path):
    write_tree(tmp_path / "p", {f"p{i}/system.md": f"Check {i}.\n" for i in range(5)})
    seen: list[int] = []

    class Bar:
        def __init__(self, total: int) -> None:
            self.total = total

        def __enter__(self) -> Any:
            return seen.append

        def __exit__(self, *exc: object) -> None:
            seen.insert(0, -self.total)

    transfer.import_files("fabric", [str(tmp_path / "p")], to="bar", progress=Bar)
    assert seen[0] == -10  # read and validated: two steps a file
    assert sum(seen[1:]) == 10


@pytest.mark.skipif(not hasattr(__import__("os"), "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_shows_a_progress_bar(tmp_path):
    from tests.test_tty import run_on_tty

    write_tree(tmp_path / "p", {f"p{i:03d}/system.md": f"Check service {i}.\n"
                                for i in range(250)})
    code, screen = run_on_tty(["import", "fabric", str(tmp_path / "p"), "--to", "tty"],
                              timeout=120)
    assert code == 0, screen
    assert "importing" in screen
    assert "imported 250 of 250 file(s) into tty" in screen


@pytest.mark.parametrize("fmt", FORMATS)
def test_imported_fixtures_round_trip_through_every_format(fmt, tmp_path):
    """Headings, literal braces, defaults, choices and examples from the other formats' files
    survive an export to `fmt` and back, or are refused with a reason."""
    for source_fmt in FORMATS:
        folder = PATTERNS if source_fmt == "fabric" else FIXTURES / source_fmt
        transfer.import_files(source_fmt, [str(folder)], to="fixtures")
    originals = {rf.name: store.read(rf) for rf in store.iter_recipe_files(
        store.collection("fixtures"))}
    report = export.export_recipes(fmt, [f"fixtures/{n}" for n in originals],
                                   out=str(tmp_path / fmt))
    exported = [i for i in report.items if i.status == "exported"]
    assert exported
    for item in report.items:
        assert item.status == "exported" or item.reason, item
    back = transfer.import_files(fmt, [str(tmp_path / fmt)], to="back")
    assert back.imported == len(exported), back.to_dict()
    again = {rf.name: store.read(rf) for rf in store.iter_recipe_files(store.collection("back"))}
    for item in exported:
        name = item.recipe.split("/", 1)[1]
        _assert_same_render(originals[name], again[name], fmt)
