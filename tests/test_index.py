"""The search index: built once, kept in step with every change through the real commands, git,
and hand edits; rebuilt when missing, corrupt or old; never re-parsing what did not change."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptlib import paths as config
from promptlib.catalog import lookup
from promptlib.errors import NotFoundError
from promptlib.index import build as index_build
from promptlib.index import db as index
from promptlib.index import fresh as index_fresh
from promptlib.index import search
from promptlib.recipe.model import is_valid_name
from promptlib.store import collections as store
from tests.conftest import recipe_yaml, write_tree


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout


def local(home: Path) -> Path:
    return home / "collections" / "local"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the index parses, as collection/relpath. Stats are never "racy" here, so a
    count is exact however fast the test runs (test_racy_stat_is_checked_again covers that)."""
    seen: list[str] = []
    real = index_build.parse

    def spy(job: index_build._Job) -> index_build.Parsed:
        seen.append(f"{job.collection}/{job.relpath}")
        return real(job)

    monkeypatch.setattr(index_build, "parse", spy)
    monkeypatch.setattr(index_fresh, "RACY_NS", 0)
    return seen


def ids(query: str, **kwargs: object) -> list[str]:
    return [h.id for h in search.search([query], **kwargs).hits]  # type: ignore[arg-type]


def edit_in_place(path: Path, old: str, new: str) -> None:
    """Rewrite a file through the same inode, as nano or VS Code save: its folder is untouched."""
    with path.open("r+", encoding="utf-8") as handle:
        text = handle.read()
        assert old in text
        handle.seek(0)
        handle.write(text.replace(old, new))
        handle.truncate()


def indexed_paths() -> set[str]:
    conn = sqlite3.connect(config.index_file())
    try:
        return {f"{c}/{p}" for c, p in conn.execute("SELECT collection, relpath FROM files")}
    finally:
        conn.close()


def starter_count() -> int:
    return sum(1 for _ in config.starter_library().rglob("*.yaml"))


def test_first_search_builds_the_index_over_every_starter_recipe(home, parsed):
    assert "local/log-triage" in ids("logs")
    assert config.index_file().is_file()
    assert len(parsed) == starter_count()
    assert len(indexed_paths()) == starter_count()


def test_a_fresh_index_parses_nothing(home, parsed):
    search.search(["logs"])
    parsed.clear()
    search.search(["logs"])
    search.search(["disk"])
    assert parsed == []


def test_add_reindexes_only_the_new_file(cli, home, parsed):
    search.search(["logs"])
    parsed.clear()
    result = cli("add", "--file", "-", input=recipe_yaml("disk-full", template=(
        "Disk on {{ host }} is full; zanzibar.\n")))
    assert result.exit_code == 0, result.output
    assert ids("zanzibar") == ["local/disk-full"]
    assert parsed == ["local/incident-response/disk-full.yaml"]


def test_edit_reindexes_only_the_edited_file(cli, home, parsed, tmp_path, monkeypatch):
    search.search(["logs"])
    parsed.clear()
    script = tmp_path / "editor.py"
    script.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[1])\n"
                      "p.write_text(p.read_text().replace('Triage error logs', "
                      "'Triage quokka logs'))\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    result = cli("edit", "log-triage")
    assert result.exit_code == 0, result.output
    assert ids("quokka") == ["local/log-triage"]
    assert parsed == ["local/incident-response/log-triage.yaml"]


def test_remove_drops_the_recipe_without_parsing_anything(cli, home, parsed):
    assert "local/stack-trace-explain" in ids("stack")
    parsed.clear()
    result = cli("remove", "stack-trace-explain")
    assert result.exit_code == 0, result.output
    assert "local/stack-trace-explain" not in ids("stack")
    assert "local/incident-response/stack-trace-explain.yaml" not in indexed_paths()
    assert parsed == []


def test_git_pull_reindexes_exactly_the_files_it_changed(cli, home, tmp_path, parsed):
    upstream = tmp_path / "sre.git"
    work = tmp_path / "work"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(upstream)],
                   check=True)
    subprocess.run(["git", "clone", "--quiet", str(upstream), str(work)], check=True)
    write_tree(work, {"incident-response/disk-full.yaml": recipe_yaml("disk-full"),
                      "incident-response/dns-down.yaml": recipe_yaml("dns-down")})
    git(work, "add", "-A")
    git(work, "commit", "-qm", "two recipes")
    git(work, "push", "-q", "origin", "main")
    team = home / "collections" / "sre"
    cli("list")  # seeds the home
    subprocess.run(["git", "clone", "--quiet", str(upstream), str(team)], check=True)
    assert ids("full", teams=["sre"]) == ["sre/disk-full", "sre/dns-down"]
    parsed.clear()
    (work / "incident-response/dns-down.yaml").write_text(recipe_yaml(
        "dns-down", template="Resolver {{ host }} returns SERVFAIL; wombat.\n"))
    write_tree(work, {"network/tls-expiry.yaml": recipe_yaml("tls-expiry", tags="[network]")})
    git(work, "add", "-A")
    git(work, "commit", "-qm", "edit one, add one")
    git(work, "push", "-q", "origin", "main")
    git(team, "pull", "-q", "--ff-only")
    assert ids("wombat") == ["sre/dns-down"]
    assert sorted(parsed) == ["sre/incident-response/dns-down.yaml",
                              "sre/network/tls-expiry.yaml"]
    conn = sqlite3.connect(config.index_file())
    assert conn.execute("SELECT head FROM collections WHERE name = 'sre'").fetchone()[0] == (
        git(team, "rev-parse", "HEAD").strip())


def test_hand_edit_in_place_shows_in_the_next_search(home, parsed):
    search.search(["logs"])
    path = local(home) / "incident-response" / "log-triage.yaml"
    folder_mtime, inode = path.parent.stat().st_mtime_ns, path.stat().st_ino
    edit_in_place(path, "Triage error logs", "Triage platypus logs")
    assert (path.parent.stat().st_mtime_ns, path.stat().st_ino) == (folder_mtime, inode)
    parsed.clear()
    assert ids("platypus") == ["local/log-triage"]
    assert parsed == ["local/incident-response/log-triage.yaml"]


def test_hand_edit_by_rename_and_new_folders_show(home, parsed):
    search.search(["logs"])
    path = local(home) / "incident-response" / "log-triage.yaml"
    tmp = path.with_name(".log-triage.yaml.swp")
    tmp.write_text(path.read_text().replace("Triage error logs", "Triage narwhal logs"))
    tmp.replace(path)
    write_tree(local(home), {"deep/er/folder/disk-full.yaml": recipe_yaml(
        "disk-full", template="Disk on {{ host }} is full of lemurs.\n")})
    parsed.clear()
    assert ids("narwhal") == ["local/log-triage"]
    assert ids("lemurs") == ["local/disk-full"]
    assert sorted(parsed) == ["local/deep/er/folder/disk-full.yaml",
                              "local/incident-response/log-triage.yaml"]


def test_deleted_folder_and_collection_disappear(cli, home, tmp_path):
    cli("list")
    write_tree(local(home), {"deep/er/disk-full.yaml": recipe_yaml(
        "disk-full", template="Disk {{ host }} ocelot.\n")})
    team = home / "collections" / "sre"
    subprocess.run(["git", "init", "--quiet", str(team)], check=True)
    write_tree(team, {"dns-down.yaml": recipe_yaml("dns-down", template="{{ host }} ocelot\n")})
    assert sorted(ids("ocelot")) == ["local/disk-full", "sre/dns-down"]
    shutil.rmtree(team)
    shutil.rmtree(local(home) / "deep")
    assert ids("ocelot") == []
    assert not any(p.startswith(("sre/", "local/deep")) for p in indexed_paths())


def test_index_covers_exactly_the_files_iter_recipe_files_sees(home):
    store.ensure_home()
    root = local(home)
    write_tree(root, {".hidden/a-hidden.yaml": recipe_yaml("a-hidden"),
                      "wins/a-win.yaml": recipe_yaml("a-win"),
                      "x/wins/kept.yaml": recipe_yaml("kept"),
                      "x/notes.txt": "not a recipe"})
    (root / "linked.yaml").symlink_to(root / "x" / "wins" / "kept.yaml")
    (root / "linkdir").symlink_to(root / "x", target_is_directory=True)
    search.search(["logs"])
    walked = {f"local/{rf.relpath}" for rf in store.iter_recipe_files(store.collection("local"))}
    assert indexed_paths() == walked
    assert "local/x/wins/kept.yaml" in walked


def test_bad_recipe_is_reported_every_search_but_parsed_once(home, parsed):
    store.ensure_home()
    write_tree(local(home), {"x/broken.yaml": "name: broken\ntitle: [unclosed\n"})
    first = search.search(["logs"])
    assert [p.path for p in first.problems] == ["local/x/broken.yaml"]
    assert "local/x/broken.yaml" in parsed
    parsed.clear()
    again = search.search(["logs"])
    assert [str(p) for p in again.problems] == [str(p) for p in first.problems]
    assert parsed == []
    assert "local/log-triage" in [h.id for h in again.hits]


def test_corrupt_index_is_rebuilt_without_complaint(home):
    search.search(["logs"])
    config.index_file().write_bytes(b"this is not a database" * 100)
    assert "local/log-triage" in ids("logs")
    good = config.index_file().read_bytes()
    config.index_file().write_bytes(good[: len(good) // 3])  # truncated mid-way
    assert "local/log-triage" in ids("logs")
    assert len(indexed_paths()) == starter_count()


def test_old_schema_version_is_rebuilt(home, parsed):
    search.search(["logs"])
    conn = sqlite3.connect(config.index_file())
    conn.execute(f"PRAGMA user_version = {index.SCHEMA_VERSION - 1}")
    conn.close()
    parsed.clear()
    assert "local/log-triage" in ids("logs")
    assert len(parsed) == starter_count()


def test_racy_stat_is_checked_again(home, monkeypatch):
    """A file changed in the same clock tick as it was indexed must not look unchanged."""
    seen: list[str] = []
    real = index_build.parse
    monkeypatch.setattr(index_build, "parse", lambda job: seen.append(job.relpath) or real(job))
    monkeypatch.setattr(index_fresh, "RACY_NS", 10**18)  # every stat counts as taken "just now"
    search.search(["logs"])
    seen.clear()
    search.search(["logs"])
    assert len(seen) == starter_count()  # nothing could be trusted, so all were read again


def test_big_library_is_swept_in_turns_and_hits_are_never_stale(home, parsed, monkeypatch):
    store.ensure_home()
    write_tree(local(home), {f"bulk/r-{i:02d}.yaml": recipe_yaml(f"r-{i:02d}") for i in range(40)})
    search.search(["logs"])
    monkeypatch.setattr(index_fresh, "SWEEP_FILES", 10)
    edit_in_place(local(home) / "bulk" / "r-07.yaml", "full disk", "axolotl disk")
    found = [ids("axolotl") for _ in range(12)]
    assert found[-1] == ["local/r-07"]  # within ceil(74 / 10) searches at the latest
    # An in-place edit to a file shown as a hit is caught at once, sweep or no sweep.
    hit = local(home) / "incident-response" / "log-triage.yaml"
    edit_in_place(hit, "Triage error logs from a failing service", "Triage dugong logs")
    assert search.search(["logs"]).hits[0].title == "Triage dugong logs"


def test_big_builds_parse_in_a_pool_and_show_progress(home, monkeypatch):
    monkeypatch.setattr(index_build, "POOL_MIN", 2)
    monkeypatch.setattr(index_build, "PROGRESS_MIN", 2)
    monkeypatch.setattr(index_build, "BATCH", 7)
    calls: list[tuple[str, int]] = []

    class Bar:
        def __init__(self, total: int):
            calls.append(("total", total))

        def __enter__(self) -> Callable[[int], None]:
            return lambda n: calls.append(("advance", n))

        def __exit__(self, *exc: object) -> None:
            calls.append(("done", 0))

    assert "local/log-triage" in [h.id for h in search.search(["logs"], progress=Bar).hits]
    assert calls[0] == ("total", starter_count())
    assert sum(n for kind, n in calls if kind == "advance") == starter_count()
    assert calls[-1] == ("done", 0)


def test_two_processes_building_at_once_both_answer(home, tmp_path):
    subprocess.run([sys.executable, "-m", "promptlib", "list"], check=True,
                   capture_output=True)
    procs = [subprocess.Popen([sys.executable, "-m", "promptlib", "search", "logs", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    firsts = [json.loads(out)[0]["id"] for out, _ in outputs]
    assert firsts == ["local/log-triage"] * 3


# --- HEAD from the .git files ---------------------------------------------------------------------


def test_read_head_loose_packed_detached_and_unborn(tmp_path):
    repo = tmp_path / "r"
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(repo)], check=True)
    assert index_fresh.read_head(repo) == ""
    write_tree(repo, {"a.yaml": "x"})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    sha = git(repo, "rev-parse", "HEAD").strip()
    assert index_fresh.read_head(repo) == sha
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git/refs/heads/main").exists()
    assert index_fresh.read_head(repo) == sha
    git(repo, "checkout", "-q", "--detach")
    assert index_fresh.read_head(repo) == sha


# --- store.find through the index -----------------------------------------------------------------


def find_outcome(ref: str) -> str:
    try:
        return lookup.find(ref).id
    except NotFoundError as exc:
        return f"{exc.message} | {exc.hint}"


def test_find_gives_the_same_answers_with_and_without_the_index(home, monkeypatch):
    monkeypatch.setattr(index_fresh, "RACY_NS", 0)  # folders just written would count as unknown
    store.ensure_home()
    team = home / "collections" / "sre"
    subprocess.run(["git", "init", "--quiet", str(team)], check=True)
    write_tree(team, {"b/log-triage.yaml": recipe_yaml("log-triage"),
                      "a/incident-x.yaml": recipe_yaml("incident-x"),
                      "z/y/incident-y.yaml": recipe_yaml("incident-y"),
                      "incident-z.yaml": recipe_yaml("incident-z")})
    refs = ["log-triage", "sre/log-triage", "local/log-tr", "stack-tr", "in", "incident",
            "sre/in", "kubernetes-crashlop", "nothing-like-it", "sre/nope"]
    walked = [find_outcome(r) for r in refs]
    search.search(["logs"])
    monkeypatch.setattr(store, "iter_recipe_files", pytest.fail)  # the index must answer
    assert [find_outcome(r) for r in refs] == walked
    assert "did you mean: kubernetes-crashloop?" in walked[7]
    assert walked[4].startswith("'in' matches several recipes: local/")


def test_find_walks_when_a_file_came_since_the_index_was_built(home, monkeypatch):
    monkeypatch.setattr(index_fresh, "RACY_NS", 0)
    search.search(["logs"])
    assert index.find_files(store.collections(), "disk") is not None
    write_tree(local(home), {"incident-response/disk-full.yaml": recipe_yaml("disk-full")})
    assert lookup.find("disk-f").id == "local/disk-full"
    assert index.find_files(store.collections(), "disk") is None


def test_walk_key_orders_like_iter_recipe_files(tmp_path):
    names = ["a.yaml", "b/c.yaml", "b/a/d.yaml", "b/ab/e.yaml", "ba/f.yaml", "z.yaml",
             "b/a/b/g.yaml", "c-d/h.yaml", "c/i.yaml"]
    write_tree(tmp_path, dict.fromkeys(names, "x"))
    walked = [rf.relpath for rf in store.iter_recipe_files(store.Collection("t", tmp_path))]
    assert sorted(names, key=index.walk_key) == walked


@given(st.text(alphabet="abz09-_A.", max_size=70))
def test_collection_name_check_matches_the_recipe_rule(name: str):
    assert index_fresh.valid_name(name) == is_valid_name(name)


def test_search_path_reads_no_git_and_no_yaml_once_fresh(home):
    subprocess.run([sys.executable, "-m", "promptlib", "search", "logs"], check=True,
                   capture_output=True)
    code = ("import sys, atexit\n"
            "atexit.register(lambda: print(sorted(m for m in ('typer', 'click', 'git', 'yaml', "
            "'jinja2', 'rich', 'promptlib.store.collections', 'promptlib.recipe.model', "
            "'promptlib.index.build') "
            "if m in sys.modules), file=sys.stderr))\n"
            "sys.argv = ['promptlib', 'search', 'logs']\n"
            "from promptlib.cli import main\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ}, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"
    assert "local/log-triage" in done.stdout


def test_importing_the_store_and_the_index_pulls_in_no_heavy_library():
    code = ("import sys\nimport promptlib.store.collections, promptlib.recipe.model, "
            "promptlib.index.db, promptlib.index.build, promptlib.index.search\n"
            "print(sorted(m for m in ('yaml', 'git', 'jinja2', 'rich', 'typer') "
            "if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
