"""paths.py finds the same folders as platformdirs, without importing it or pathlib (a TAB's
start-up), and PROMPTLIB_HOME still puts everything under one folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from promptlib import paths

_XDG_VARS = ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


def _platformdirs_answer() -> tuple[Path, Path, Path]:
    return (platformdirs.user_data_path("promptlib", appauthor=False),
            platformdirs.user_cache_path("promptlib", appauthor=False),
            platformdirs.user_state_path("promptlib", appauthor=False))


def _ours() -> tuple[Path, Path, Path]:
    return paths.home(), paths.cache_dir(), paths.state_dir()


@pytest.mark.parametrize("xdg", [
    {},  # all unset: the defaults under HOME
    {"XDG_DATA_HOME": "/srv/data", "XDG_CACHE_HOME": "/var/cache/me", "XDG_STATE_HOME": "/st"},
    {"XDG_DATA_HOME": "", "XDG_CACHE_HOME": "", "XDG_STATE_HOME": ""},  # empty means unset
    {"XDG_DATA_HOME": "relative/data"},  # not absolute: platformdirs decides
    {"XDG_CACHE_HOME": " /spaced "},  # spaces around: platformdirs decides
    {"XDG_STATE_HOME": "/trailing/slash/"},
])
@pytest.mark.parametrize("home_var", ["/home/ops", "/home/ops/", "/", None, "relative-home"])
def test_without_promptlib_home_the_folders_are_platformdirs(monkeypatch, xdg, home_var):
    monkeypatch.delenv("PROMPTLIB_HOME")
    for name in _XDG_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in xdg.items():
        monkeypatch.setenv(name, value)
    if home_var is None:
        monkeypatch.delenv("HOME")
    else:
        monkeypatch.setenv("HOME", home_var)
    try:
        expected = _platformdirs_answer()
    except RuntimeError:  # platformdirs cannot tell either (a relative HOME, no passwd entry)
        with pytest.raises(RuntimeError):
            _ours()
        return
    assert _ours() == expected
    assert paths.collections_dir_text() == str(expected[0] / "collections")
    assert Path(paths.index_file_text()) == expected[1] / "index.sqlite3"


def test_promptlib_home_holds_everything_and_a_relative_one_is_made_absolute(
        monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROMPTLIB_HOME", "pl")
    assert paths.home() == tmp_path / "pl"
    assert paths.cache_dir() == tmp_path / "pl" / "cache"
    assert paths.state_dir() == tmp_path / "pl" / "state"
    assert paths.index_file_text() == str(tmp_path / "pl" / "cache" / "index.sqlite3")
    monkeypatch.setenv("PROMPTLIB_HOME", "~/x")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.collections_dir() == tmp_path / "x" / "collections"


def test_the_plain_string_forms_import_neither_pathlib_nor_platformdirs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PROMPTLIB_HOME", *_XDG_VARS)}
    env["HOME"] = str(tmp_path)
    code = ("import sys\nfrom promptlib import paths\n"
            "print(paths.collections_dir_text(), paths.index_file_text())\n"
            "print(sorted(m for m in ('pathlib', 'platformdirs', 'typing') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True, timeout=60)
    assert done.stdout.splitlines() == [
        f"{tmp_path}/.local/share/promptlib/collections "
        f"{tmp_path}/.cache/promptlib/index.sqlite3", "[]"]

