"""Other tools' prompt files, read into recipes and written from them: one module per format
behind one small interface (`base.Format`): `find` the files under a path, `read` one into a
`Draft` (or a `Skip` with the reason), `write` a recipe as files (or `UnexpressibleError` with the
reason), `finish` the files that describe a whole export.

The batch around them — validation as `add` does it, conflicts, one commit, the report — is
`catalog.transfer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptlib.errors import UsageError

if TYPE_CHECKING:
    from promptlib.catalog.formats.base import Format

NAMES = ("fabric", "llm", "prompty", "github", "dotprompt")


def get(name: str) -> Format:
    """The format called `name` (exit 2 for an unknown one)."""
    # Each module imported only when its format is asked for.
    if name == "fabric":
        from promptlib.catalog.formats.fabric import Fabric  # noqa: PLC0415  (one format a run)

        return Fabric()
    if name == "llm":
        from promptlib.catalog.formats.llm import Llm  # noqa: PLC0415  (one format a run)

        return Llm()
    if name == "prompty":
        from promptlib.catalog.formats.prompty import Prompty  # noqa: PLC0415  (one format a run)

        return Prompty()
    if name == "github":
        from promptlib.catalog.formats.github import Github  # noqa: PLC0415  (one format a run)

        return Github()
    if name == "dotprompt":
        from promptlib.catalog.formats.dotprompt import Dotprompt  # noqa: PLC0415  (one a run)

        return Dotprompt()
    raise UsageError(f"unknown format {name!r}", hint="formats: " + ", ".join(NAMES))
