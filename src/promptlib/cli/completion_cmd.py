"""completion: print the script that teaches a shell what promptlib's TAB offers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from promptlib.cli import console
from promptlib.cli.completion_scripts import SCRIPTS


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")],
) -> None:
    """Print the shell completion script (recipe names, tags, teams) to source in your shell."""
    # Printed, never installed: the README gives the one line for each shell's rc file.
    console.raw(SCRIPTS[shell.value])
