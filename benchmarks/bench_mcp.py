"""Time `promptlib mcp` on a large generated library: a `prompts/list` page and a `prompts/get`.

DESIGN §6: with the server running, a list page and a get each take at most 50 ms at 10,000
recipes. Builds N recipes (default 10,000) in team collections inside a temporary PROMPTLIB_HOME
(as bench.py does), starts a real `promptlib mcp` over stdio with the SDK's client, and times,
client side (the JSON-RPC round trip included):

- every page of a full walk of `prompts/list` (the first walk builds the index; it is reported
  apart), then the median and worst page of RUNS more walks;
- RUNS `prompts/get` of `log-triage` with a 10 KB log (redaction on: the path `render` takes);
- RUNS `prompts/get` of `log-triage` with a one-word log (the fixed cost: lookup, sandbox);
- RUNS `tools/call search_recipes` of "logs", and RUNS whole-process `promptlib render` of the
  same 10 KB log, for comparison (no budget).

Run with `make bench` (after bench.py) or `.venv/bin/python benchmarks/bench_mcp.py`; needs the
`mcp` extra (`pip install -e '.[mcp]'`), and says so and exits 0 without it. Exits 1 if a median
is over its budget.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate

N = int(os.environ.get("N", "10000"))
RUNS = int(os.environ.get("RUNS", "7"))
BUDGET_MS = 50.0


def environment(base: Path) -> dict[str, str]:
    gitconfig = base / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Bench Person\n\temail = bench@example.test\n"
                         "[init]\n\tdefaultBranch = main\n")
    return {"PROMPTLIB_HOME": str(base / "home"), "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1", "HOME": str(base),
            "PATH": os.environ.get("PATH", "")}


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


async def walk(client: Any) -> list[float]:
    """One full `prompts/list` walk: the time of each page, in ms."""
    times, cursor, count = [], None, 0
    while True:
        ms, page = await timed(lambda c=cursor: client.list_prompts(cursor=c))
        times.append(ms)
        count += len(page.prompts)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert count >= N, f"listed {count} prompts, expected at least {N}"
    return times


async def measure(exe: str, env: dict[str, str]) -> list[tuple[str, float, float]]:
    from mcp import Client, StdioServerParameters

    log = "ERROR connection refused from 10.0.4.7 AKIAIOSFODNN7EXAMPLE\n" * 170
    params = StdioServerParameters(command=exe, args=["mcp"], env=env)
    rows = []
    async with Client(params, mode="legacy", read_timeout_seconds=120) as client:
        first = await walk(client)
        print(f"first walk (builds the index): {sum(first) / 1000:.1f} s, "
              f"{len(first)} pages", file=sys.stderr)
        walks = [await walk(client) for _ in range(RUNS)]
        firsts = [w[0] for w in walks]
        rows.append(("prompts/list first page", statistics.median(firsts),
                     max(firsts)))
        pages = [ms for w in walks for ms in w[1:]]
        rows.append(("prompts/list next pages", statistics.median(pages), max(pages)))
        gets = [(await timed(lambda: client.get_prompt(
            "log-triage", {"logs": log, "service": "checkout"})))[0] for _ in range(RUNS)]
        rows.append(("prompts/get log-triage, 10 KB log", statistics.median(gets), max(gets)))
        gets = [(await timed(lambda: client.get_prompt(
            "log-triage", {"logs": "OOMKilled", "service": "checkout"})))[0]
            for _ in range(RUNS)]
        rows.append(("prompts/get log-triage, one word", statistics.median(gets), max(gets)))
        searches = [(await timed(lambda: client.call_tool(
            "search_recipes", {"query": "logs"})))[0] for _ in range(RUNS)]
        rows.append(("tools/call search_recipes logs", statistics.median(searches),
                     max(searches)))
    return rows


def cli_render(exe: str, env: dict[str, str]) -> tuple[str, float, float]:
    """The same render through the command line, whole process: what a get is measured against."""
    log = ("ERROR connection refused from 10.0.4.7 AKIAIOSFODNN7EXAMPLE\n" * 170).encode()
    cmd = [exe, "render", "log-triage", "-v", "service=checkout", "--no-input"]
    times = []
    for _ in range(RUNS + 1):  # the first run warms the page cache and byte-code
        started = time.perf_counter()
        subprocess.run(cmd, env=env, input=log, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return ("promptlib render, same 10 KB log (process)", statistics.median(times[1:]),
            max(times[1:]))


def main() -> int:
    try:
        import anyio
        import mcp  # noqa: F401
    except ImportError:
        print("bench_mcp: the mcp extra is not installed (pip install -e '.[mcp]'); skipped",
              file=sys.stderr)
        return 0
    exe = str(Path(sys.executable).with_name("promptlib"))
    with tempfile.TemporaryDirectory(prefix="promptlib-bench-mcp-") as tmp:
        base = Path(tmp)
        env = environment(base)
        subprocess.run([exe, "init"], env=env, check=True, capture_output=True)
        generate.generate(base / "home" / "collections", N)
        rows = anyio.run(measure, exe, env)
        rows.append(cli_render(exe, env))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\npromptlib mcp, {N:,} recipes, {RUNS} runs (ms, client side; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs)")
    failed = False
    for label, median, worst in rows:
        budget = label.startswith("prompts/")
        ok = not budget or median <= BUDGET_MS
        failed |= not ok
        print(f"  {label:<44} median {median:6.1f}  worst {worst:6.1f}"
              + (f"  budget <= {BUDGET_MS:g}  {'ok' if ok else 'OVER'}" if budget else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
