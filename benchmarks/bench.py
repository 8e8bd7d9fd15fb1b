"""Time promptlib against the budgets of DESIGN §6 on a large generated library: `make bench`.

Builds N recipes (default 10,000; `N=100000 make bench`) in team collections inside a temporary
PROMPTLIB_HOME, then times whole processes, median of RUNS runs (default 7), and reports each
one's peak RSS (GNU time's %M when /usr/bin/time exists, else wait4's ru_maxrss, an upper
bound; either way pool workers count too). Every row is measured next to
`grep -ril logs` over the same recipe files, run just before each timed run, and stated as a
ratio to that grep's median. Exits 1 if any figure is over its budget.

Rows: `--help`; `search logs` with the index fresh; the first `search logs` after `add` of one
recipe, and after a `git pull` that brings in one recipe; `render log-triage` with 1 MB piped in
(redaction on); a full index build (`search logs` with no index at all); and a shell TAB after
`promptlib render log` — the call the bash script from `promptlib completion bash` makes.

`ROWS=build,render make bench` times only the rows whose label holds one of those words
(build, search, help, add, pull, render, tab), for quick comparisons while working on one path;
the exit status then covers those rows only.

The environment is cleaned of PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED: an installed promptlib
runs from byte-code, and a warm-up run of each command writes it. Nothing outside the temporary
folder is touched (PROMPTLIB_HOME, GIT_CONFIG_GLOBAL); it is removed afterwards.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate

N = int(os.environ.get("N", "10000"))
RUNS = int(os.environ.get("RUNS", "7"))
BUILD_RUNS = 3 if N <= 20_000 else 1
RSS_BUDGET_MB = 150
BUILD_BUDGET_S = 2.0 if N <= 10_000 else 20.0
ROWS = [w.strip().lower() for w in os.environ.get("ROWS", "").split(",") if w.strip()]


def wanted(label: str) -> bool:
    return not ROWS or any(word in label.lower() for word in ROWS)


class Sample(NamedTuple):
    seconds: float
    rss_kb: int


class Row(NamedTuple):
    label: str
    median: float
    grep: float
    rss_mb: float
    budget: str
    ok: bool


# Peak RSS through GNU time when there is one. wait4's ru_maxrss alone is not enough: Linux counts
# the memory of the process that forked the child until its exec, so every figure would be at
# least this benchmark's own RSS (45 MB once it has generated 100,000 recipes). time is small,
# and forks its child from itself.
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


def run(cmd: Sequence[str], env: dict[str, str], stdin: bytes | None = None) -> Sample:
    """One whole process: wall time from spawn to exit, and its peak RSS with its children's."""
    with tempfile.TemporaryFile() as err:
        wrapped = [TIME, "-f", "%M", *cmd] if TIME else list(cmd)
        started = time.perf_counter()
        proc = subprocess.Popen(wrapped, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        if stdin is not None and proc.stdin is not None:
            proc.stdin.write(stdin)
            proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        output = err.read().decode(errors="replace")
    if proc.returncode not in (0, 1):  # grep exits 1 when nothing matches
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}")
    rss_kb = int(output.split()[-1]) if TIME else usage.ru_maxrss
    return Sample(elapsed, rss_kb)


class Bench:
    def __init__(self, base: Path):
        self.home = base / "home"
        self.base = base
        gitconfig = base / "gitconfig"
        gitconfig.write_text("[user]\n\tname = Bench Person\n\temail = bench@example.test\n"
                             "[init]\n\tdefaultBranch = main\n")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")
               and not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_", "PROMPTLIB_"))}
        self.env = {**env, "PROMPTLIB_HOME": str(self.home), "GIT_CONFIG_GLOBAL": str(gitconfig),
                    "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1"}
        self.exe = str(Path(sys.executable).with_name("promptlib"))
        self.collections = self.home / "collections"
        self.grep = ["grep", "-ril", "--exclude-dir=.git", "logs", str(self.collections)]
        self.added = 0

    def promptlib(self, *args: str) -> list[str]:
        return [self.exe, *args]

    def call(self, *args: str, stdin: bytes | None = None) -> None:
        subprocess.run(self.promptlib(*args), env=self.env, check=True, input=stdin,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def measure(self, label: str, cmd: Sequence[str], *, runs: int = RUNS,
                before: Callable[[], None] | None = None, stdin: bytes | None = None,
                ratio_budget: float | None = None, seconds_budget: float | None = None,
                ) -> Row | None:
        """Median of `runs` timed runs of cmd, each right after one timed grep (None when ROWS
        leaves the row out)."""
        if not wanted(label):
            return None
        run(cmd, self.env, stdin)  # warm-up: page cache, byte-code
        samples, greps = [], []
        for _ in range(runs):
            greps.append(run(self.grep, self.env).seconds)
            if before is not None:
                before()
            samples.append(run(cmd, self.env, stdin))
        median = statistics.median(s.seconds for s in samples)
        grep = statistics.median(greps)
        rss_mb = max(s.rss_kb for s in samples) / 1024
        if ratio_budget is not None:
            budget, ok = f"<= {ratio_budget}x grep", median <= ratio_budget * grep
        else:
            assert seconds_budget is not None
            budget, ok = f"<= {seconds_budget:g} s", median <= seconds_budget
        row = Row(label, median, grep, rss_mb, budget, ok and rss_mb <= RSS_BUDGET_MB)
        print_row(row)
        return row

    # --- setup ---

    def build(self) -> None:
        started = time.perf_counter()
        self.call("init")  # `local`, seeded with the starter library (log-triage for render)
        generate.generate(self.collections, N)
        print(f"generated {N:,} recipes in {len(generate.collection_names(N))} team collections "
              f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        self.lint_sample()
        self.setup_upstream()

    def lint_sample(self) -> None:
        """The strict loader and `promptlib lint` must accept what the generator writes."""
        rng = random.Random(1)
        files = sorted(self.collections.glob("team-*/*/*.yaml"))
        names = [p.stem for p in rng.sample(files, 5)]
        done = subprocess.run(self.promptlib("lint", *names), env=self.env, check=False,
                              capture_output=True, text=True)
        state = "ok" if done.returncode == 0 else f"FAILED\n{done.stdout}{done.stderr}"
        print(f"lint of 5 generated recipes: {state}", file=sys.stderr)

    def setup_upstream(self) -> None:
        """team-00 tracks a clone of itself, so a `git pull` can bring in one recipe at a time."""
        self.upstream = self.base / "upstream"
        team = self.collections / "team-00"
        subprocess.run(["git", "clone", "--quiet", str(team), str(self.upstream)], check=True,
                       env=self.env)
        subprocess.run(["git", "-C", str(team), "remote", "add", "origin", str(self.upstream)],
                       check=True, env=self.env)
        self.pulled = 0

    def add_one(self) -> None:
        self.added += 1
        name = f"bench-added-{self.added}"
        path = self.base / f"{name}.yaml"
        path.write_text(generate.recipe_text(random.Random(self.added), generate._Writer(
            random.Random(self.added)), name, "incident-response"))
        self.call("add", "--file", str(path), "--to", "local")

    def pull_one(self) -> None:
        self.pulled += 1
        name = f"bench-pulled-{self.pulled}"
        rng = random.Random(1000 + self.pulled)
        target = self.upstream / "incident-response" / f"{name}.yaml"
        target.write_text(generate.recipe_text(rng, generate._Writer(rng), name,
                                               "incident-response"))
        generate.commit_all(self.upstream, f"Add {name}", [str(target.relative_to(
            self.upstream))])
        subprocess.run(["git", "-C", str(self.collections / "team-00"), "pull", "--quiet",
                        "--ff-only", "origin", "main"], check=True, env=self.env)

    def drop_index(self) -> None:
        for stale in (self.home / "cache").glob("index*"):
            stale.unlink()


def log_input(size: int = 1 << 20) -> bytes:
    """About 1 MB of service logs, with the odd credential for redaction to find."""
    rng = random.Random(7)
    levels = ("INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG")
    services = ("api", "payments", "checkout", "auth", "search", "worker")
    lines, total, i = [], 0, 0
    while total < size:
        i += 1
        stamp = f"2026-05-02T03:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
        line = (f"{stamp} {rng.choice(services)}-{rng.randrange(16**4):04x} "
                f"{rng.choice(levels)} request_id={rng.getrandbits(64):016x} "
                f"upstream=10.0.{rng.randrange(256)}.{rng.randrange(256)}:5432 "
                f"latency_ms={rng.randrange(2000)} msg=\"connection refused, retrying\"")
        if i % 400 == 0:
            line += f" password=Hunter{rng.randrange(10**6)}Secret!"
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def print_row(row: Row) -> None:
    ratio = row.median / row.grep if row.grep else 0.0
    print(f"| {row.label:<36} | {row.median * 1000:9.0f} | {row.grep * 1000:7.0f} | "
          f"{ratio:6.2f} | {row.budget:<14} | {row.rss_mb:8.1f} | "
          f"{'PASS' if row.ok else 'FAIL':<6} |", flush=True)


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="promptlib-bench-"))
    try:
        bench = Bench(base)
        bench.build()
        print(f"\npromptlib benchmark: N={N:,} recipes (+ the starter library), median of "
              f"{RUNS} runs ({BUILD_RUNS} for the build), {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}; grep = `grep -ril logs` over the same files\n")
        print("| command                              | median ms | grep ms |  ratio | budget"
              "         |  peak MB | result |")
        print("|--------------------------------------|-----------|---------|--------|-------"
              "---------|----------|--------|")
        search = bench.promptlib("search", "logs")
        rows = [
            bench.measure("full index build (search, no index)", search, runs=BUILD_RUNS,
                          before=bench.drop_index, seconds_budget=BUILD_BUDGET_S),
            bench.measure("search logs (index fresh)", search, ratio_budget=1.5),
            bench.measure("--help", bench.promptlib("--help"), ratio_budget=2.5),
            bench.measure("search logs after add of 1 recipe", search, before=bench.add_one,
                          ratio_budget=2.5),
            bench.measure("search logs after pull of 1 recipe", search, before=bench.pull_one,
                          ratio_budget=2.5),
        ]
        bench.call("search", "logs")  # the index is fresh for render's lookup
        rows.append(bench.measure("render log-triage, 1 MB piped in", bench.promptlib(
            "render", "log-triage"), stdin=log_input(), ratio_budget=2.5))
        rows.append(bench.measure("TAB: promptlib render log<TAB>", bench.promptlib(
            "__complete", "bash", "2", "promptlib render log", "--", "promptlib", "render",
            "log"), ratio_budget=0.5))
        failed = [r.label for r in rows if r is not None and not r.ok]
        print(f"\npeak RSS budget: {RSS_BUDGET_MB} MB for every row. "
              + ("All within budget." if not failed else f"Over budget: {', '.join(failed)}."))
        return 1 if failed else 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
