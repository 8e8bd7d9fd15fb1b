"""mcp: serve the library to MCP clients over stdio (the `promptlib[mcp]` extra)."""

from __future__ import annotations

from typing import Annotated

import typer

# library.PAGE_SIZE, not imported: every command loads this module, and the library pulls in
# the catalog and the index.
PAGE_SIZE = 50


def mcp(
    page_size: Annotated[int, typer.Option(
        "--page-size", min=1, max=1000, metavar="N",
        help="Prompts and resources per page of a list.")] = PAGE_SIZE,
    poll: Annotated[float, typer.Option(
        "--poll", min=0.1, metavar="SECONDS",
        help="How often to look for library changes to announce to the client.")] = 5.0,
) -> None:
    """Serve every recipe as an MCP prompt (plus search and render tools) over stdin/stdout.

    Read-only: renders are sandboxed, bounded, redacted and counted like `render`. Add it to a
    client with, e.g., `claude mcp add promptlib -- promptlib mcp`.
    """
    from promptlib.cli.mcp_server import serve  # noqa: PLC0415  (start-up: only this command loads it)

    serve(page_size=page_size, poll_seconds=poll)
