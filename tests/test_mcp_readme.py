"""The MCP client set-ups in the README, run as written as far as this machine allows: the
clients themselves (Claude Code, Claude Desktop, VS Code) cannot run here, but what each is told
to start — the `command` and `args` of the README's JSON blocks, and what `claude mcp add … --
promptlib mcp` registers — is started exactly so, and must answer as an MCP server (the SDK's
own client: handshake, then a page of prompts and a get)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent  # where this checkout's `promptlib` is installed
ENV_KEYS = ("PROMPTLIB_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")


def _json_blocks() -> list[dict[str, Any]]:
    text = README.read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.S)]


def _servers() -> dict[str, dict[str, Any]]:
    """Each client's server entry for promptlib, by where the README gives it."""
    found: dict[str, dict[str, Any]] = {}
    for block in _json_blocks():
        if "mcpServers" in block:
            found["claude desktop"] = block["mcpServers"]["promptlib"]
        if "servers" in block:
            found["vs code"] = block["servers"]["promptlib"]
    claude = re.search(r"^claude mcp add (?:--\S+ \S+ )*promptlib -- (\S+) (.+)$",
                       README.read_text(encoding="utf-8"), flags=re.M)
    assert claude, "the README's `claude mcp add` line"
    found["claude code"] = {"command": claude[1], "args": claude[2].split()}
    return found


def test_the_readme_gives_a_setup_for_each_client():
    servers = _servers()
    assert set(servers) == {"claude desktop", "vs code", "claude code"}
    assert servers["vs code"]["type"] == "stdio"
    for entry in servers.values():
        assert Path(entry["command"]).name == "promptlib"
        assert entry["args"] == ["mcp"]


@pytest.mark.parametrize("client_name", ["claude desktop", "vs code", "claude code"])
def test_what_each_client_is_told_to_start_serves_the_library(run, client_name):
    assert run("init").returncode == 0
    entry = _servers()[client_name]
    # Desktop's full path is an example (`which promptlib`); the others rely on PATH.
    command = entry["command"]
    command = (shutil.which("promptlib", path=str(BIN)) if Path(command).is_absolute()
               else shutil.which(command, path=f"{BIN}:{os.environ.get('PATH', '')}"))
    assert command, "promptlib is on PATH"
    env = {k: os.environ[k] for k in ENV_KEYS if k in os.environ}
    server = StdioServerParameters(command=command, args=entry["args"], env=env)

    async def main() -> tuple[int, str]:
        async with Client(server, read_timeout_seconds=60) as client:
            page = await client.list_prompts()
            got = await client.get_prompt("log-triage", {"logs": "ERROR disk full"})
            return [p.name for p in page.prompts], got.messages[0].content.text

    names, text = anyio.run(main)
    assert {"log-triage", "postmortem-draft"} <= set(names)  # the starter library
    assert "ERROR disk full" in text
