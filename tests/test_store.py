"""Collections on disk: the home, iteration, safe paths, atomic writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from promptlib import paths as config
from promptlib.catalog import lookup
from promptlib.errors import InvalidError, NotFoundError
from promptlib.store import collections as store
from tests.conftest import write_tree


def test_home_is_created_once_with_the_starter_library(home: Path):
    store.ensure_home()
    local = home / "collections" / "local"
    assert (local / "incident-response" / "log-triage.yaml").is_file()
    log = subprocess.run(["git", "-C", str(local), "log", "--format=%s"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert log == [store.SEED_MESSAGE]
    store.ensure_home()  # idempotent
    assert not [p for p in (home / "collections").iterdir() if p.name.startswith(".seed-")]


def test_everything_lives_under_promptlib_home(home: Path):
    assert config.home() == home
    assert config.cache_dir() == home / "cache"
    assert config.state_dir() == home / "state"
    assert config.config_file() == home / "config.yaml"


def test_iteration_skips_hidden_reserved_symlinks_and_other_files(tmp_path: Path):
    root = tmp_path / "coll"
    write_tree(root, {
        "a.yaml": "x", "ops/b.yaml": "x", "deep/er/c.yaml": "x",
        "wins/w.yaml": "x", "usage/u.yaml": "x", "ops/wins/d.yaml": "x",
        ".git/e.yaml": "x", ".hidden/f.yaml": "x", "notes.md": "x", "g.yml": "x",
    })
    (root / "leak.yaml").symlink_to("/etc/passwd")
    (root / "linked").symlink_to(tmp_path)
    found = sorted(rf.relpath for rf in store.iter_recipe_files(store.Collection("c", root)))
    assert found == ["a.yaml", "deep/er/c.yaml", "ops/b.yaml", "ops/wins/d.yaml"]


def test_read_never_follows_a_symlink(tmp_path: Path):
    root = tmp_path / "coll"
    root.mkdir()
    (root / "leak.yaml").symlink_to("/etc/passwd")
    rf = store.RecipeFile("c", root, "leak.yaml")
    with pytest.raises(InvalidError, match="cannot read"):
        store.read(rf)


def test_safe_path_refuses_escapes_and_symlinked_folders(tmp_path: Path):
    root = tmp_path / "coll"
    root.mkdir()
    (root / "out").symlink_to(tmp_path)
    coll = store.Collection("c", root)
    assert store.safe_path(coll, "ops/x.yaml") == root / "ops" / "x.yaml"
    for bad in ("../x.yaml", "/etc/passwd", "ops/../../x.yaml", "out/x.yaml"):
        with pytest.raises(InvalidError):
            store.safe_path(coll, bad)


def test_unknown_collection_is_not_found(home: Path):
    with pytest.raises(NotFoundError, match="no collection named 'sre'"):
        store.collection("sre")
    with pytest.raises(InvalidError):
        store.collection("../etc")


def test_find_by_id_name_and_prefix(home: Path):
    store.ensure_home()
    assert lookup.find("local/log-triage").relpath == "incident-response/log-triage.yaml"
    assert lookup.find("log-triage").id == "local/log-triage"
    assert lookup.find("stack-tr").id == "local/stack-trace-explain"
    with pytest.raises(NotFoundError, match="matches several recipes"):
        lookup.find("in")
