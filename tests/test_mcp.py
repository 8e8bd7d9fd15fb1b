"""`promptlib mcp` end to end: the SDK's own client talking to a real `promptlib mcp` process.

Every test starts the server as a subprocess over stdio (`mcp.Client` with
`StdioServerParameters`), in the test's own home, and checks what an MCP client sees: prompts
paginated, a get equal to `render`, MCP errors after which the server keeps serving, completion,
the tools, resources, changes announced, renders counted in `report --json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from tests.conftest import recipe_yaml
from tests.gitdaemon import make_remote

pytestmark = pytest.mark.slow

AWS_KEY = "AKIA4QX7ZK2MB9TRW3NV"  # random-looking: AWS's own EXAMPLE id is a placeholder
LOG = (f"2024-05-01T03:12:09Z ERROR payment failed: upstream timeout\n"
       f"aws_access_key_id={AWS_KEY}\n{{{{ 7*7 }}}}\n")
ENV_KEYS = ("PROMPTLIB_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")


def cli(*args: str, input: str | None = None, check: bool = True
        ) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "promptlib", *args], input=input,
                            capture_output=True, text=True, timeout=120, check=False,
                            stdin=None if input is not None else subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def params(*extra: str) -> StdioServerParameters:
    env = {k: os.environ[k] for k in ENV_KEYS if k in os.environ}
    return StdioServerParameters(command=sys.executable, env=env,
                                 args=["-m", "promptlib", "mcp", "--page-size", "10",
                                       "--poll", "0.2", *extra])


Session = Callable[[Client], Awaitable[None]]


def serve(body: Session, *, mode: str = "legacy", messages: list[Any] | None = None) -> None:
    """Run `body` against a fresh `promptlib mcp`; fail on any non-protocol line on stdout."""
    seen: list[Any] = [] if messages is None else messages

    async def handler(message: Any) -> None:
        seen.append(message)

    async def main() -> None:
        async with Client(params(), mode=mode, message_handler=handler,
                          read_timeout_seconds=60) as client:
            await body(client)

    anyio.run(main)
    bad = [m for m in seen if isinstance(m, Exception)]
    assert not bad, f"stdout carried something that is not a protocol message: {bad}"


async def all_prompts(client: Client) -> tuple[list[types.Prompt], int]:
    prompts: list[types.Prompt] = []
    cursor, pages = None, 0
    while True:
        page = await client.list_prompts(cursor=cursor)
        prompts += page.prompts
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return prompts, pages


async def error_of(call: Awaitable[Any]) -> types.ErrorData:
    with pytest.raises(MCPError) as caught:
        await call
    return caught.value.error


@pytest.fixture
def seeded(home: Path) -> Path:
    cli("init")
    return home


# --- prompts/list --------------------------------------------------------------------------------


def test_every_recipe_is_listed_over_several_pages_with_its_arguments(seeded: Path):
    listed = json.loads(cli("list", "--json").stdout)

    async def body(client: Client) -> None:
        prompts, pages = await all_prompts(client)
        assert pages == -(-len(listed) // 10) > 1
        assert sorted(p.name for p in prompts) == sorted(r["name"] for r in listed)
        triage = next(p for p in prompts if p.name == "log-triage")
        assert triage.title == next(r["title"] for r in listed if r["name"] == "log-triage")
        assert "incident-response" in (triage.description or "")
        args = {a.name: a for a in triage.arguments or []}
        assert args["logs"].required is True
        assert args["severity"].required is False
        assert "sev1, sev2" in (args["severity"].description or "")
        assert "Default: sev2" in (args["severity"].description or "")

    serve(body)


# --- prompts/get ---------------------------------------------------------------------------------


def test_get_returns_what_render_prints_with_the_secret_redacted_and_counts_it(seeded: Path):
    rendered = cli("render", "log-triage", "--no-input", "-v", "service=checkout",
                   "-v", "severity=sev1", input=LOG)

    async def body(client: Client) -> None:
        got = await client.get_prompt("log-triage", {"logs": LOG, "service": "checkout",
                                                     "severity": "sev1"})
        assert len(got.messages) == 1
        assert got.messages[0].role == "user"
        content = got.messages[0].content
        assert isinstance(content, types.TextContent)
        assert content.text == rendered.stdout
        assert AWS_KEY not in content.text
        assert "{{ 7*7 }}" in content.text

    serve(body)
    report = json.loads(cli("report", "--json").stdout)
    assert report["adoption"]["renders"] == 2
    assert report["adoption"]["by_via"] == {
        "cli": {"renders": 1, "share": 0.5}, "mcp": {"renders": 1, "share": 0.5}}
    lines = (seeded / "state" / "usage.jsonl").read_text().splitlines()
    assert [json.loads(line)["via"] for line in lines] == ["cli", "mcp"]
    assert all(AWS_KEY not in line and "checkout" not in line for line in lines)


def test_each_bad_request_is_an_mcp_error_and_the_server_keeps_serving(seeded: Path):
    collection = seeded / "collections" / "local" / "incident-response"
    (collection / "big-output.yaml").write_text(recipe_yaml(
        "big-output", template="{{ host * 99999999 }}\n"))

    async def body(client: Client) -> None:
        error = await error_of(client.get_prompt("log-triag", {}))
        assert error.code == types.INVALID_PARAMS
        assert "no prompt named 'log-triag'" in error.message
        assert "log-triage" in error.message

        error = await error_of(client.get_prompt("log-triage", {"service": "api"}))
        assert error.code == types.INVALID_PARAMS
        assert "missing required argument: logs (Log excerpt to triage" in error.message

        error = await error_of(client.get_prompt("log-triage", {"logs": "x", "severity": "p1"}))
        assert error.code == types.INVALID_PARAMS
        assert "choose one of: sev1, sev2, sev3, sev4" in error.message

        error = await error_of(client.get_prompt("log-triage", {"logs": "x", "colour": "red"}))
        assert error.code == types.INVALID_PARAMS
        assert "has no variable 'colour'" in error.message

        error = await error_of(client.get_prompt("log-triage", {"logs": "x" * 200_001}))
        assert error.code == types.INVALID_PARAMS
        assert "'logs' is 200,001 characters" in error.message

        error = await error_of(client.get_prompt("big-output", {"host": "web-1"}))
        assert error.code == types.INTERNAL_ERROR
        assert "8 MiB" in error.message

        got = await client.get_prompt("big-output", {"host": ""})  # still serving
        assert got.messages

    serve(body)


def test_a_slow_template_does_not_hold_up_other_requests(seeded: Path):
    collection = seeded / "collections" / "local" / "incident-response"
    (collection / "spin.yaml").write_text(recipe_yaml(
        # 9000**3 steps: far past the sandbox's 2 s deadline on any machine (9000**2 once took
        # 1.9 s and rendered).
        "spin", template="{% for i in range(9000) %}{% for j in range(9000) %}"
                "{% for k in range(9000) %}{% endfor %}{% endfor %}{% endfor %}{{ host }}\n"))

    async def body(client: Client) -> None:
        timings: dict[str, float] = {"start": anyio.current_time()}

        async def slow() -> None:
            error = await error_of(client.get_prompt("spin", {"host": "a"}))
            assert error.code == types.INTERNAL_ERROR
            timings["slow"] = anyio.current_time()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(slow)
            await anyio.sleep(0.3)
            await client.list_prompts()
            timings["list"] = anyio.current_time()
        assert timings["slow"] - timings["start"] > 1.0  # it ran into the sandbox's deadline
        assert timings["list"] < timings["slow"]

    serve(body)


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of each child of `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ValueError, IndexError):
                continue  # it ended meanwhile
            if ppid == pid:
                found.append((int(entry.name), cmdline))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_renders_fork_their_worker_from_the_fork_server_not_from_the_server(seeded: Path):
    collection = seeded / "collections" / "local" / "incident-response"
    (collection / "spin.yaml").write_text(recipe_yaml(
        # 9000**3 steps: far past the sandbox's 2 s deadline on any machine (9000**2 once took
        # 1.9 s and rendered).
        "spin", template="{% for i in range(9000) %}{% for j in range(9000) %}"
                "{% for k in range(9000) %}{% endfor %}{% endfor %}{% endfor %}{{ host }}\n"))
    seen: dict[str, int] = {"under the fork server": 0, "under the server": 0}

    async def body(client: Client) -> None:
        done = anyio.Event()

        async def slow() -> None:
            await error_of(client.get_prompt("spin", {"host": "a"}))  # 2 s in its worker
            done.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(slow)
            while not done.is_set():
                for pid, cmdline in children(os.getpid()):
                    if " mcp " not in f"{cmdline} ":
                        continue
                    for child, child_cmdline in children(pid):
                        if "promptlib.sandbox.forkserver" in child_cmdline:
                            seen["under the fork server"] += len(children(child))
                        elif child_cmdline == cmdline:  # a fork of the server itself
                            seen["under the server"] += 1
                await anyio.sleep(0.05)

    serve(body)
    assert seen["under the fork server"] > 0
    assert seen["under the server"] == 0


# --- completion, tools, resources ----------------------------------------------------------------


def test_completion_offers_choices_and_defaults(seeded: Path):
    async def body(client: Client) -> None:
        ref = types.PromptReference(name="log-triage")
        got = await client.complete(ref, {"name": "severity", "value": ""})
        assert got.completion.values == ["sev1", "sev2", "sev3", "sev4"]
        got = await client.complete(ref, {"name": "severity", "value": "SEV3"})
        assert got.completion.values == ["sev3"]
        got = await client.complete(ref, {"name": "service", "value": ""})
        assert got.completion.values == ["unknown"]
        got = await client.complete(ref, {"name": "logs", "value": ""})
        assert got.completion.values == []
        error = await error_of(client.complete(types.PromptReference(name="nope"),
                                               {"name": "x", "value": ""}))
        assert error.code == types.INVALID_PARAMS

    serve(body)


def test_the_tools_search_like_search_and_render_like_render(seeded: Path):
    searched = json.loads(cli("search", "--json", "disk", "full").stdout)
    rendered = cli("render", "log-triage", "--no-input", input=LOG).stdout

    async def body(client: Client) -> None:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"search_recipes", "render_recipe"}
        result = await client.call_tool("search_recipes", {"query": "disk full"})
        assert not result.is_error
        assert [h["id"] for h in result.structured_content["hits"]] == [
            h["id"] for h in searched]
        result = await client.call_tool("search_recipes", {"query": "logs", "tags": ["triage"]})
        assert all("triage" in h["tags"] for h in result.structured_content["hits"])
        result = await client.call_tool("render_recipe", {"name": "log-triage",
                                                          "variables": {"logs": LOG}})
        assert not result.is_error
        assert result.content[0].text == rendered
        assert result.structured_content["redactions"]
        result = await client.call_tool("render_recipe", {"name": "log-triage"})
        assert result.is_error
        assert "missing required argument: logs" in result.content[0].text

    serve(body)
    assert json.loads(cli("report", "--json").stdout)["adoption"]["by_via"]["mcp"]["renders"] == 1


def test_each_recipe_is_a_resource_holding_its_yaml(seeded: Path):
    path = seeded / "collections" / "local" / "incident-response" / "log-triage.yaml"

    async def body(client: Client) -> None:
        uris, cursor = [], None
        while True:
            page = await client.list_resources(cursor=cursor)
            uris += [str(r.uri) for r in page.resources]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(uris) == len(set(uris)) == len(json.loads(cli("list", "--json").stdout))
        assert "promptlib://recipe/local/log-triage" in uris
        read = await client.read_resource("promptlib://recipe/local/log-triage")
        assert read.contents[0].text == path.read_text()
        error = await error_of(client.read_resource("promptlib://recipe/local/../../etc"))
        assert error.code == types.INVALID_PARAMS

    serve(body)


# --- names, changes, concurrency -----------------------------------------------------------------


def test_a_name_in_two_collections_is_qualified(seeded: Path, tmp_path: Path):
    triage = (seeded / "collections/local/incident-response/log-triage.yaml").read_text()
    remote = make_remote(tmp_path, "sre", {"incident-response/log-triage.yaml": triage})
    cli("team", "add", "sre", str(remote))

    async def body(client: Client) -> None:
        names = {p.name for p in (await all_prompts(client))[0]}
        assert {"local_log-triage", "sre_log-triage"} <= names
        assert "log-triage" not in names
        got = await client.get_prompt("sre_log-triage", {"logs": "x"})
        assert got.messages
        error = await error_of(client.get_prompt("log-triage", {"logs": "x"}))
        assert "local_log-triage, sre_log-triage" in error.message

    serve(body)


def test_a_recipe_added_mid_session_is_listed_and_announced(seeded: Path):
    messages: list[Any] = []

    async def body(client: Client) -> None:
        before = {p.name for p in (await all_prompts(client))[0]}
        await anyio.sleep(0.5)  # the watcher has read the library once
        await anyio.to_thread.run_sync(lambda: cli("add", "--file", "-", input=recipe_yaml()))
        with anyio.fail_after(20):
            while not any(isinstance(m, types.PromptListChangedNotification) for m in messages):
                await anyio.sleep(0.1)
        after = {p.name for p in (await all_prompts(client))[0]}
        assert after - before == {"disk-full"}

    serve(body, messages=messages)


def test_the_2026_protocol_announces_changes_on_a_listen_stream(seeded: Path):
    async def body(client: Client) -> None:
        assert client.session.protocol_version == "2026-07-28"
        async with client.listen(prompts_list_changed=True) as subscription:
            await anyio.to_thread.run_sync(lambda: cli("add", "--file", "-",
                                                       input=recipe_yaml()))
            with anyio.fail_after(20):
                async for _event in subscription:
                    break
        names = {p.name for p in (await all_prompts(client))[0]}
        assert "disk-full" in names

    serve(body, mode="auto")


def test_a_pull_runs_while_the_server_is_up(seeded: Path, tmp_path: Path):
    remote = make_remote(tmp_path, "sre", {"incident-response/disk-full.yaml": recipe_yaml()})
    cli("team", "add", "sre", str(remote))
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "--quiet", str(remote), str(work)], check=True)
    (work / "incident-response" / "disk-check.yaml").write_text(recipe_yaml("disk-check"))
    subprocess.run(["git", "-C", str(work), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "Add disk-check"], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:main"], check=True)

    async def body(client: Client) -> None:
        await all_prompts(client)
        with anyio.fail_after(30):
            pulled = await anyio.to_thread.run_sync(lambda: cli("pull", "sre"))
        assert "disk-check" in pulled.stdout + pulled.stderr
        names = {p.name for p in (await all_prompts(client))[0]}
        assert "disk-check" in names

    serve(body)


# --- the extra is optional -----------------------------------------------------------------------


def test_without_the_sdk_the_command_says_how_to_install_it():
    code = ("import sys; sys.modules['mcp'] = None; sys.argv = ['promptlib', 'mcp']; "
            "from promptlib.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: promptlib mcp needs the MCP SDK: pip install 'promptlib[mcp]'"]


def test_a_plain_search_imports_nothing_from_the_sdk(seeded: Path):
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('mcp', 'mcp_types', 'pydantic', 'starlette', 'anyio') or 'mcp_server' in m), "
            "file=sys.stderr))\n"
            "sys.argv = ['promptlib', 'search', 'logs']\n"
            "from promptlib.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, result.stderr
    assert "log-triage" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]"
