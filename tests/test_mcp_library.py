"""What `promptlib mcp` serves, tested directly (no SDK, no subprocess): `cli.mcp_server.library`
and the index pages it reads, the literal values, and the report's split of renders by `via`."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlib.cli.mcp_server import library
from promptlib.errors import InvalidError, NotFoundError
from promptlib.index import pages
from promptlib.metrics import usage as metrics_usage
from promptlib.report import document
from promptlib.store import collections as store
from tests.conftest import recipe_yaml, write_tree


@pytest.fixture
def lib(home: Path) -> library.Library:
    store.collections()  # seeds `local` with the starter library
    return library.Library(page_size=7)


def walk(lib: library.Library) -> list[library.Prompt]:
    found, cursor = lib.prompts(None)
    while cursor is not None:
        more, cursor = lib.prompts(cursor)
        found += more
    return found


def test_pages_cover_every_recipe_once_in_name_order(lib: library.Library):
    names = [p.name for p in walk(lib)]
    assert len(names) == len(set(names)) > 7
    assert names == sorted(names)
    assert "log-triage" in names


def test_a_recipe_added_between_two_pages_neither_repeats_nor_hides_another(
        lib: library.Library, home: Path):
    first, cursor = lib.prompts(None)
    write_tree(home / "collections" / "local", {"aaa/aaa-first.yaml": recipe_yaml("aaa-first"),
                                                "zzz/zzz-last.yaml": recipe_yaml("zzz-last")})
    rest: list[library.Prompt] = []
    while cursor is not None:
        more, cursor = lib.prompts(cursor)
        rest += more
    names = [p.name for p in first + rest]
    assert len(names) == len(set(names))
    assert "zzz-last" in names
    assert "aaa-first" not in names  # it sorts before the first page, already served


def test_arguments_are_required_exactly_without_a_default(lib: library.Library):
    triage = next(p for p in walk(lib) if p.name == "log-triage")
    args = {a.name: a for a in triage.arguments}
    assert list(args) == ["logs", "service", "severity", "context"]
    assert [a.required for a in args.values()] == [True, False, False, False]
    assert args["severity"].description.endswith("Default: sev2. One of: sev1, sev2, sev3, sev4.")
    assert "Optional (empty by default)." in args["context"].description
    assert "cut to 20,000 characters (keeping the tail)" in args["logs"].description
    assert triage.title == "Triage error logs from a failing service"
    assert "Tags: incident-response, logs, triage, on-call. Recipe local/log-triage." in (
        triage.description)


def test_an_argument_description_spells_out_what_it_takes():
    arg = library.argument({"name": "host", "required": False})
    assert arg == library.Argument("host", "host.", False)
    assert library.argument({"name": "n", "default": 3}).description == "n. Default: 3."


def test_a_bad_cursor_is_invalid(lib: library.Library):
    for cursor in ("not base64!", "bm9wZQ", library.encode_cursor.__name__):
        with pytest.raises(InvalidError, match="invalid cursor"):
            lib.prompts(cursor)


def test_names_in_two_collections_are_qualified_and_resolve(lib: library.Library, home: Path):
    write_tree(home / "collections" / "sre", {"ops/log-triage.yaml": recipe_yaml(
        "log-triage"), "ops/only-sre.yaml": recipe_yaml("only-sre")})
    (home / "collections" / "sre" / ".git").mkdir()
    names = {p.name for p in walk(lib)}
    assert {"local_log-triage", "sre_log-triage", "only-sre"} <= names
    assert "log-triage" not in names
    assert lib.resolve("sre_log-triage").id == "sre/log-triage"
    assert lib.resolve("sre/log-triage").id == "sre/log-triage"
    assert lib.resolve("only-sre").id == "sre/only-sre"
    with pytest.raises(NotFoundError, match="use one of local_log-triage, sre_log-triage"):
        lib.resolve("log-triage")
    with pytest.raises(NotFoundError, match="did you mean: log-triage"):
        lib.resolve("log-triag")


def test_values_are_literal_text_never_a_file(lib: library.Library, home: Path):
    write_tree(home / "collections" / "local", {"ops/disk-full.yaml": recipe_yaml()})
    secret = home / "secret.txt"
    secret.write_text("the contents of a file")
    rendered = lib.render("disk-full", {"host": f"@{secret}"})
    assert rendered.text == f"Disk on @{secret} is full.\n"
    [line] = [r for r in metrics_usage.read_log() if r.id == "local/disk-full"]
    assert line.via == "mcp"


def test_render_names_every_missing_argument_and_refuses_oversized_values(
        lib: library.Library):
    with pytest.raises(InvalidError, match=r"missing required argument: logs \(Log excerpt"):
        lib.render("log-triage", {})
    with pytest.raises(InvalidError, match="'logs' is 200,001 characters"):
        lib.render("log-triage", {"logs": "x" * 200_001})
    assert metrics_usage.read_log() == []  # nothing counted for a render that failed


def test_completion_filters_choices_and_offers_the_default(lib: library.Library):
    assert lib.complete("log-triage", "severity", "sev") == ["sev1", "sev2", "sev3", "sev4"]
    assert lib.complete("log-triage", "severity", "SEV4") == ["sev4"]
    assert lib.complete("log-triage", "service", "") == ["unknown"]
    assert lib.complete("log-triage", "service", "x") == []
    with pytest.raises(InvalidError, match="no argument 'colour'"):
        lib.complete("log-triage", "colour", "")


def test_a_tool_query_splits_into_words_as_a_shell_would():
    assert library.query_words("disk  full") == ["disk", "full"]
    assert library.query_words('"stack trace" tag:logs') == ['"stack trace" tag:logs']


def test_resources_read_the_recipe_file_and_nothing_else(lib: library.Library, home: Path):
    path = home / "collections" / "local" / "incident-response" / "log-triage.yaml"
    assert lib.read("promptlib://recipe/local/log-triage") == path.read_text()
    for uri in ("promptlib://recipe/local/../../etc/passwd", "file:///etc/passwd",
                "promptlib://recipe/local/log-tri"):
        with pytest.raises(NotFoundError):
            lib.read(uri)


def test_the_signature_changes_when_a_recipe_is_edited_in_place(lib: library.Library,
                                                                home: Path):
    before = lib.signature()
    assert lib.signature() == before
    path = home / "collections" / "local" / "incident-response" / "log-triage.yaml"
    with path.open("a") as handle:
        handle.write("# a note\n")
    assert lib.signature() != before


def test_index_pages_carry_each_variable(lib: library.Library):
    with pages.opened() as idx:
        [listed] = pages.named("log-triage", idx)
    assert listed.variables[2] == {"name": "severity", "description": listed.variables[2][
        "description"], "choices": ["sev1", "sev2", "sev3", "sev4"], "default": "sev2"}


def test_the_report_splits_this_machines_renders_by_via():
    log = [metrics_usage.Render("2024-05-01", "local/a", "local", None, via)
           for via in ("cli", "cli", "mcp", "pick")] + [
        metrics_usage.Render("2024-05-01", "sre/b", "sre", None, "mcp"),
        metrics_usage.Render("2023-01-01", "local/a", "local", None, "mcp")]
    split = document.by_via(log, {"local"}, lambda day: "p" if day >= "2024" else None)
    assert split == {"cli": {"renders": 2, "share": 0.5}, "mcp": {"renders": 1, "share": 0.25},
                     "pick": {"renders": 1, "share": 0.25}}
    assert document.by_via([], {"local"}, lambda _day: "p") == {}


def test_a_hand_edit_in_place_shows_after_the_watchers_check(lib: library.Library,
                                                              home: Path):
    walk(lib)
    path = home / "collections" / "local" / "incident-response" / "log-triage.yaml"
    text = path.read_text().replace("title: Triage error logs from a failing service",
                                    "title: Triage logs, edited in place")
    with path.open("r+") as handle:  # as nano or VS Code save: same file, same folder mtime
        handle.write(text)
        handle.truncate()
    lib.signature()  # the change watcher's poll
    titles = {p.name: p.title for p in walk(lib)}
    assert titles["log-triage"] == "Triage logs, edited in place"


def test_warm_loads_what_a_render_needs_and_touches_nothing(home: Path):
    import subprocess
    import sys

    code = ("import sys\nfrom promptlib.cli.mcp_server.library import Library\nLibrary().warm()\n"
            "print(all(m in sys.modules for m in ('yaml', 'promptlib.redact.detector', "
            "'promptlib.settings', 'promptlib.store.allow_lists', 'promptlib.metrics.usage_log'"
            ")), 'jinja2' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True False\n"  # Jinja2 is the fork server's
    assert not home.exists()  # no home created, no usage log written
