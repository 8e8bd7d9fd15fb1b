"""The layers of docs/architecture.md hold, and `make lint` notices when one breaks."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "promptlib"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("catalog", "cli", "gitops", "index", "metrics", "recipe", "redact", "render",
            "report", "sandbox", "store", "sync", "utils")
TERMINAL_LIBRARIES = ("rich", "typer", "click", "prompt_toolkit")


def modules_below_cli() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts]


def test_the_tree_shows_the_packages_and_few_loose_modules():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert all((PACKAGE / name / "__init__.py").is_file() for name in PACKAGES)
    loose = [name for name in entries if name.endswith(".py")]
    assert loose == ["__init__.py", "__main__.py", "errors.py", "paths.py", "settings.py"]


def _imported_modules(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found


@pytest.mark.parametrize("path", modules_below_cli(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_below_cli_nothing_prints_exits_or_imports_a_terminal_library(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {name.split(".")[0] for name in _imported_modules(tree)}
    assert not imported & set(TERMINAL_LIBRARIES)
    calls = {node.func.id for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not calls & {"print", "input", "exit", "breakpoint"}
    attributes = {f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    assert not attributes & {"sys.exit", "sys.stdout", "sys.stdin"}


def test_environment_variables_are_read_only_in_paths():
    readers = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "paths.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
                    and isinstance(node.value, ast.Name) and node.value.id == "os"):
                readers.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert readers == []


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, check=False, timeout=300)


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is a test extra")
def test_the_layer_contracts_are_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is a test extra")
@pytest.mark.parametrize(("module", "line", "broken"), [
    ("store/collections.py", "import rich", "Terminal libraries"),
    ("recipe/model.py", "from promptlib.sandbox import api", "Layers"),
    ("index/build.py", "from promptlib.index import db", "No import cycles"),
    ("metrics/files.py", "import git", "GitPython only from the git package"),
])
def test_a_broken_rule_fails_lint(tmp_path: Path, module: str, line: str, broken: str):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / "src" / "promptlib" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n",
                      encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=copy, capture_output=True,
                            text=True, check=False, timeout=300, env=env)
    assert result.returncode == 1, result.stdout
    assert f"{broken}" in result.stdout.split("Broken contracts", 1)[1]


def test_git_missing_from_path_is_one_line_with_a_hint(run: Callable[..., subprocess.
                                                                   CompletedProcess[str]],
                                                       tmp_path: Path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run("list", env={"PATH": str(empty), "PROMPTLIB_HOME": str(tmp_path / "home")})
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr == ("error: git is not installed or not on PATH\n"
                             "hint: install git (e.g. `apt-get install git`) and try again\n")
