"""The MCP wiring of `promptlib mcp`: the SDK's low-level server over stdio, and nothing more.

Every request is answered from `library.Library` in a worker thread, so the event loop keeps
reading requests while a render runs: a hostile template costs its own request at most the
sandbox's bounds (a couple of seconds) and every other request is answered meanwhile. Renders
take turns (one at a time: each forks a bounded worker, from the fork server that `serve` starts:
`sandbox.forkserver`); reads run two at a time.

Errors: a PromptlibError becomes an MCP error with its message (invalid params for a bad name or
value, internal error for a template that breaks the sandbox), a tool reports it in its result
(`isError`, so the model can read it), and anything unexpected is logged to stderr and answered
as an internal error. The server keeps serving in every case.

Changes: requests see `add`, `remove` and `pull` through the index's cheap checks; a watcher runs
its full check (in-place edits too) every few seconds between requests, holding no lock while
nothing changed, and tells the client when the list changed: on the handshake
protocol revisions with `notifications/prompts/list_changed` (and resources), on 2026-07-28 and
later through `subscriptions/listen` streams, the only place that revision allows them.

stdout carries protocol messages only: the SDK points fd 1 at stderr while it serves, logs go to
stderr, and nothing prints before it starts.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.session import ServerSession
from mcp.server.stdio import stdio_server
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    PromptsListChanged,
    ResourcesListChanged,
)
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from promptlib.cli.mcp_server import library
from promptlib.errors import EXIT_ERROR, PromptlibError, TemplateError
from promptlib.render.fill import Rendered

log = logging.getLogger("promptlib.mcp")
#: The change watcher polls only once no request has run for this long (see `watch`).
IDLE_SECONDS = 0.5
T = TypeVar("T")
Ctx = ServerRequestContext[Any, Any]


class Service:
    """The handlers, the worker-thread limits, and the change watcher of one server."""

    def __init__(self, lib: library.Library, version: str):
        self.lib = lib
        self.reads = anyio.CapacityLimiter(2)
        self.renders = anyio.CapacityLimiter(1)
        self.bus = InMemorySubscriptionBus()
        self.session: ServerSession | None = None  # the handshake-era client, for list_changed
        self.seen: tuple[int, int, int] | None = None
        self.active = 0  # requests running now, and when the last one ended: the watcher
        self.last_request = 0.0  # waits for a quiet moment
        self.server: Server[Any] = Server(
            "promptlib", version=version, title="promptlib",
            instructions="The team's prompt recipes. Prompts are the recipes; the tools search "
                         "them and render one with values (secrets redacted).",
            on_list_prompts=self.list_prompts, on_get_prompt=self.get_prompt,
            on_completion=self.complete, on_list_tools=self.list_tools,
            on_call_tool=self.call_tool, on_list_resources=self.list_resources,
            on_read_resource=self.read_resource,
            on_subscriptions_listen=ListenHandler(self.bus))

    async def _run(self, ctx: Ctx, fn: Callable[[], T], *, render: bool = False) -> T:
        """`fn` in a worker thread; a PromptlibError becomes the matching MCP error."""
        self._remember(ctx)
        self.active += 1
        try:
            limiter = self.renders if render else self.reads
            return await anyio.to_thread.run_sync(fn, limiter=limiter)
        except TemplateError as exc:  # the recipe's template broke a sandbox bound
            raise MCPError(types.INTERNAL_ERROR, library.error_text(exc)) from None
        except PromptlibError as exc:  # a bad name or value (exit 3 or 4 on the command line)
            code = types.INTERNAL_ERROR if exc.exit_code == EXIT_ERROR else types.INVALID_PARAMS
            raise MCPError(code, library.error_text(exc)) from None
        except Exception as exc:  # the server must keep serving; the traceback goes to stderr
            log.exception("unexpected error in %s", ctx.method)
            raise MCPError(types.INTERNAL_ERROR, f"internal error: {type(exc).__name__}") from None
        finally:
            self.active -= 1
            self.last_request = anyio.current_time()

    def _remember(self, ctx: Ctx) -> None:
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self.session = ctx.session

    # --- prompts ----------------------------------------------------------------------------

    async def list_prompts(self, ctx: Ctx, params: types.PaginatedRequestParams | None
                           ) -> types.ListPromptsResult:
        found, cursor = await self._run(ctx, functools.partial(
            self.lib.prompts, params.cursor if params else None))
        return types.ListPromptsResult(prompts=[_prompt(p) for p in found], next_cursor=cursor)

    async def get_prompt(self, ctx: Ctx, params: types.GetPromptRequestParams
                         ) -> types.GetPromptResult:
        started = anyio.current_time()
        rendered = await self._run(ctx, functools.partial(
            self.lib.render, params.name, params.arguments or {}), render=True)
        _log_render(rendered, anyio.current_time() - started)
        return types.GetPromptResult(
            description=f"{rendered.id}", messages=[types.PromptMessage(
                role="user", content=types.TextContent(text=rendered.text))])

    async def complete(self, ctx: Ctx, params: types.CompleteRequestParams
                       ) -> types.CompleteResult:
        if not isinstance(params.ref, types.PromptReference):
            return types.CompleteResult(completion=types.Completion(values=[]))
        values = await self._run(ctx, functools.partial(
            self.lib.complete, params.ref.name, params.argument.name, params.argument.value))
        return types.CompleteResult(completion=types.Completion(
            values=values, total=len(values), has_more=False))

    # --- tools ------------------------------------------------------------------------------

    async def list_tools(self, _ctx: Ctx, _params: types.PaginatedRequestParams | None
                         ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=TOOLS)

    async def call_tool(self, ctx: Ctx, params: types.CallToolRequestParams
                        ) -> types.CallToolResult:
        args = params.arguments or {}
        try:
            if params.name == "search_recipes":
                found = await self._run(ctx, functools.partial(
                    self.lib.search, _text(args, "query"), _texts(args, "tags"),
                    _optional_text(args, "team")))
                return types.CallToolResult(
                    content=[types.TextContent(text=json.dumps(found, ensure_ascii=False))],
                    structured_content=found)
            if params.name == "render_recipe":
                started = anyio.current_time()
                rendered = await self._run(ctx, functools.partial(
                    self.lib.render, _text(args, "name"), _mapping(args, "variables")),
                    render=True)
                _log_render(rendered, anyio.current_time() - started)
                return types.CallToolResult(content=[types.TextContent(text=rendered.text)],
                                            structured_content=rendered.to_dict())
        except MCPError as exc:
            return types.CallToolResult(content=[types.TextContent(text=exc.error.message)],
                                        is_error=True)
        raise MCPError(types.INVALID_PARAMS, f"no tool named {params.name!r}")

    # --- resources --------------------------------------------------------------------------

    async def list_resources(self, ctx: Ctx, params: types.PaginatedRequestParams | None
                             ) -> types.ListResourcesResult:
        found, cursor = await self._run(ctx, functools.partial(
            self.lib.page, params.cursor if params else None))
        return types.ListResourcesResult(resources=[types.Resource(
            uri=library.resource_uri(r), name=r.id, title=r.title, description=r.description,
            mime_type="application/yaml") for r in found], next_cursor=cursor)

    async def read_resource(self, ctx: Ctx, params: types.ReadResourceRequestParams
                            ) -> types.ReadResourceResult:
        text = await self._run(ctx, functools.partial(self.lib.read, str(params.uri)))
        return types.ReadResourceResult(contents=[types.TextResourceContents(
            uri=str(params.uri), mime_type="application/yaml", text=text)])

    # --- changes ----------------------------------------------------------------------------

    async def watch(self, every: float) -> None:
        """Tell the client when the library changed (add, pull, a hand edit).

        Every `every` seconds the index's full freshness check, which lstat()s every recipe
        file and so also sees in-place edits (~25 ms of CPU at 10,000 recipes, more under
        load). A poll waits until no request has been running for IDLE_SECONDS, so it does not
        compete with one for the CPU or the GIL."""
        first = True
        while True:
            if not first:  # the first poll, at start-up, takes the baseline
                await anyio.sleep(every)
                while self.active or anyio.current_time() - self.last_request < IDLE_SECONDS:
                    await anyio.sleep(IDLE_SECONDS)
            first = False
            now: tuple[int, int, int] | None
            try:
                now = await anyio.to_thread.run_sync(self.lib.signature, limiter=self.reads)
            except Exception:  # a failed poll (a broken home, a busy index) is tried again
                log.exception("could not check the library for changes")
                now = self.seen
            if self.seen is not None and now != self.seen:
                await self._announce()
            self.seen = now

    async def warm(self) -> None:
        """Load what the first render needs while the client is still starting up, in a worker
        thread: a get that comes first anyway waits for it (Python's import lock) and no
        longer. A failure is only logged: the render that needs it will say what is wrong."""
        try:
            await anyio.to_thread.run_sync(self.lib.warm, limiter=self.reads)
        except Exception:
            log.exception("could not load the renderer ahead of time")

    async def _announce(self) -> None:
        log.info("the library changed: telling the client")
        await self.bus.publish(PromptsListChanged())
        await self.bus.publish(ResourcesListChanged())
        if self.session is not None:
            try:
                await self.session.send_prompt_list_changed()
                await self.session.send_resource_list_changed()
            except Exception:  # the client went away; the read loop ends the server
                log.debug("list_changed not delivered", exc_info=True)

    async def serve(self, poll: float) -> None:
        options = self.server.create_initialization_options(
            NotificationOptions(prompts_changed=True, resources_changed=True))
        async with stdio_server() as (read, write), anyio.create_task_group() as tasks:
            tasks.start_soon(self.warm)
            tasks.start_soon(self.watch, poll)
            await self.server.run(read, write, options)
            tasks.cancel_scope.cancel()


def _prompt(p: library.Prompt) -> types.Prompt:
    return types.Prompt(name=p.name, title=p.title, description=p.description, arguments=[
        types.PromptArgument(name=a.name, description=a.description, required=a.required)
        for a in p.arguments])


def _log_render(rendered: Rendered, seconds: float) -> None:
    redacted = sum(rendered.redactions.values())
    log.info("rendered %s in %.0f ms%s", rendered.id, seconds * 1000,
             f", {redacted} secret(s) redacted" if redacted else "")


def _text(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str):
        raise MCPError(types.INVALID_PARAMS, f"{key!r} must be a string")
    return value


def _optional_text(args: dict[str, Any], key: str) -> str | None:
    return None if args.get(key) is None else _text(args, key)


def _texts(args: dict[str, Any], key: str) -> list[str]:
    value = args.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MCPError(types.INVALID_PARAMS, f"{key!r} must be a list of strings")
    return value


def _mapping(args: dict[str, Any], key: str) -> dict[str, str]:
    value = args.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise MCPError(types.INVALID_PARAMS, f"{key!r} must map variable names to strings")
    return value


TOOLS = [
    types.Tool(
        name="search_recipes", title="Search the prompt library",
        description="Ranked search over the team's prompt recipes, as `promptlib search` does. "
                    "Recipes holding every word rank first, then those holding most of them; "
                    "\"quoted phrases\", prefix*, tag:NAME and "
                    "team:NAME work in the query.",
        input_schema={"type": "object", "properties": {
            "query": {"type": "string", "description": "What to look for, e.g. 'disk full'"},
            "tags": {"type": "array", "items": {"type": "string"},
                     "description": "Only recipes carrying all of these tags"},
            "team": {"type": "string", "description": "Only this collection"}},
            "required": ["query"]},
        annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False)),
    types.Tool(
        name="render_recipe", title="Fill a prompt recipe",
        description="Fill a recipe's variables and return the prompt, with secrets in the values "
                    "redacted, exactly as `promptlib render` prints it. `name` is a hit's `id` "
                    "from search_recipes (collection/name), or a recipe name.",
        input_schema={"type": "object", "properties": {
            "name": {"type": "string", "description": "The recipe, e.g. log-triage"},
            "variables": {"type": "object", "additionalProperties": {"type": "string"},
                          "description": "Values by variable name"}},
            "required": ["name"]},
        annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False)),
]
