"""`promptlib --version`: the version, and with `--json` what a bug report needs."""

from __future__ import annotations

import platform

from promptlib import __version__
from promptlib.cli import console


def print_version(*, as_json: bool) -> None:
    if not as_json:
        console.out(f"promptlib {__version__}")
        return
    from promptlib.gitops import run as gitops  # noqa: PLC0415  (only --version --json runs git)

    console.json({"version": __version__, "python": platform.python_version(),
                  "git": gitops.git_version(), "platform": platform.platform()})
