"""Every command has --help text and an entry in the README (as sqlite-utils checks its docs)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.main import get_command

from promptlib.cli.app import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def command_paths() -> list[tuple[str, ...]]:
    root = get_command(app)
    paths: list[tuple[str, ...]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            paths += [(name, child) for child in sub]
        else:
            paths.append((name,))
    return sorted(paths)


def test_there_are_commands():
    assert ("render",) in command_paths()


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_command_has_help_text(path: tuple[str, ...]):
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    usage, _, description = result.output.partition("\n\n")
    assert "Usage: " in usage
    assert len(description.strip().splitlines()[0]) > 10, result.output


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_command_is_in_the_readme(path: tuple[str, ...]):
    assert f"promptlib {' '.join(path)}" in README


def test_readme_opens_with_the_two_setup_commands():
    head = README[: README.index("## A tour")]
    assert "make demo" in head
    assert "make test" in head


def test_typer_is_the_pinned_version():
    # pyproject.toml explains the pin: 0.29 imports pydantic on every command.
    assert typer.__version__ == "0.28.0"
