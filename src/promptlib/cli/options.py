"""Options shared by several commands, defined once."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", "-t", help="Only recipes with this tag "
                                                  "(repeat for several).")]
TeamOpt = Annotated[list[str] | None, typer.Option("--team", help="Only this collection "
                                                   "(repeat for several).")]
