"""$EDITOR round trips for `add --edit` and `edit`: the interactive part of the recipe commands.

Nothing typed is ever lost: when the user gives up on an invalid recipe, their text is kept in
the state folder and the path is printed.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

from promptlib import paths as config
from promptlib.catalog import recipes as catalog
from promptlib.cli import console
from promptlib.errors import ConflictError, InvalidError, PromptlibError, UsageError
from promptlib.store.collections import RecipeFile
from promptlib.utils.yamltext import dump_yaml

T = TypeVar("T")

SKELETON_TEMPLATE = "Describe the task for the model here. Use {{ input }} for the pasted text.\n"


def compose_new(fields: catalog.RecipeFields) -> bytes:
    """The text `add --edit` opens: whatever the flags gave, and placeholders for the rest."""
    data = {
        "name": fields.name or "new-recipe",
        "title": fields.title or "One line that says what this prompt does",
        "description": fields.description or "When to reach for it, and what it returns.",
        "tags": list(fields.tags) or ["incident-response"],
        "variables": {"input": {"description": "The text to work on", "stdin": True}},
        "template": fields.template or SKELETON_TEMPLATE,
    }
    return dump_yaml(data).encode("utf-8")


def run_editor(data: bytes, suffix: str = ".yaml") -> bytes:
    command = config.editor()
    if not command:
        raise UsageError("no editor: set $EDITOR (or $VISUAL)",
                         hint="or add the recipe with --file F / --file -")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"cannot read $EDITOR ({command!r}): {exc}") from None
    fd, name = tempfile.mkstemp(prefix="promptlib-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            result = subprocess.run([*argv, str(path)], check=False)
        except OSError as exc:
            raise UsageError(f"cannot run the editor {argv[0] if argv else command!r}: "
                             f"{exc.strerror}", hint="set $EDITOR to an editor on your PATH"
                             ) from None
        if result.returncode != 0:
            raise PromptlibError(f"the editor ({command}) exited with status {result.returncode}")
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def retry_until_valid(data: bytes, save: Callable[[bytes], T], retry_command: str) -> T:
    """Open the editor, try to save; on an invalid recipe offer to re-open it. Whatever happens,
    what the user typed is never lost: when it is not saved, it is kept and the path printed,
    with the command (`retry_command`, given the path) that saves it once fixed."""
    while True:
        data = run_editor(data)
        try:
            return save(data)
        except ConflictError as exc:
            raise ConflictError(f"{exc.message}; your text is kept in {_keep(data)}",
                                hint="look at the new version with `promptlib show`, then edit "
                                     "it again") from None
        except InvalidError as exc:
            console.error(exc.message, exc.hint)
            if not (sys.stdin.isatty() and typer.confirm("Re-open the editor?", default=True)):
                kept = _keep(data)
                raise InvalidError(f"not saved; your text is kept in {kept}",
                                   hint=f"fix it, then `{retry_command.format(kept)}`") from None


def add_new(data: bytes, save: Callable[[bytes], T]) -> T:
    return retry_until_valid(data, save, "promptlib add --file {}")


def edit_existing(rf: RecipeFile, opened: bytes) -> bool:
    return retry_until_valid(opened, lambda data: catalog.save_edit(rf, data, opened=opened),
                             f"promptlib edit {rf.id} --file {{}}")


def _keep(data: bytes) -> Path:
    folder = config.state_dir() / "rejected"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"recipe-{time.strftime('%Y%m%d-%H%M%S')}.yaml"
    path.write_bytes(data)
    return path
