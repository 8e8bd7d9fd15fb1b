"""`promptlib mcp`: the library served to MCP clients (Claude Code, Claude Desktop, VS Code, …).

- `library`: what is served, in promptlib's terms (prompts from the index, rendering through
  `render`'s own path, completion, search, resources); no MCP SDK, so it is tested directly.
- `server`: the SDK's low-level server over stdio, the error mapping, the change watcher.

The SDK (the `promptlib[mcp]` extra) is imported only by `serve`, so nothing else pays for it.
`serve` starts the sandbox's fork server first (`sandbox.forkserver`), before the SDK makes this
process big: renders fork their bounded worker from it.
"""

from __future__ import annotations

from promptlib.errors import PromptlibError

INSTALL_HINT = "promptlib mcp needs the MCP SDK: pip install 'promptlib[mcp]'"


def serve(*, page_size: int, poll_seconds: float) -> None:
    """Serve MCP over stdin/stdout until the client closes the connection."""
    from promptlib.sandbox import forkserver  # noqa: PLC0415  (start-up: only this command loads it)

    # First, so that it gets ready while the SDK imports: every render forks its bounded worker
    # from the fork server's ~20 MB, not from this process's ~70 MB (sandbox.forkserver).
    forkserver.start()
    try:
        _serve(page_size, poll_seconds)
    finally:
        forkserver.stop()


def _serve(page_size: int, poll_seconds: float) -> None:
    import logging  # noqa: PLC0415  (start-up: only this command loads it)
    import sys  # noqa: PLC0415  (start-up: only this command loads it)

    try:
        import anyio  # noqa: PLC0415  (the optional extra: only this command loads it)

        from promptlib.cli.mcp_server import server  # noqa: PLC0415  (imports the SDK)
    except ImportError:
        raise PromptlibError(INSTALL_HINT) from None
    from promptlib import __version__  # noqa: PLC0415  (start-up: only this command loads it)
    from promptlib.cli.mcp_server.library import Library  # noqa: PLC0415  (likewise)
    from promptlib.store import collections as store  # noqa: PLC0415  (likewise)

    # stdout is the protocol's: every log line goes to stderr, which clients show as the log.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="promptlib mcp: %(message)s")
    logging.getLogger("promptlib.mcp").setLevel(logging.INFO)
    colls = store.collections()  # create and seed the home on first use, before any request
    logging.getLogger("promptlib.mcp").info(
        "serving %s (%s) over stdio; the client ends it by closing stdin",
        ", ".join(c.name for c in colls), store.ensure_home())
    anyio.run(server.Service(Library(page_size), __version__).serve, poll_seconds)
