"""Time `promptlib report` over 10,000 recipes and 5,000 commits (budget: under 2 s, whole process).

The collection is built in seconds with one `git fast-import` stream: 20 authors over a year,
5,000 commits that add 10,000 recipes and edit 1,000 of them (half by someone other than the
author), 100 recipes shared in from another collection, 300 wins (half of them with a before and
an after) and 1,500 published usage files (most renders of recipes someone else added: a
transmission each, the first time).
Each figure is the median of several whole-process runs in a fresh PROMPTLIB_HOME: `report --json`
cold (the history cache deleted before every run — the budget applies to this) and warm, and the
terminal and HTML views.

    .venv/bin/python benchmarks/bench_report.py [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RECIPES = 10_000
COMMITS = 5_000
AUTHORS = 20
EDITS = 1_000
SHARED = 100
WINS = 300
USAGE_FILES = 1_500
START = 1_704_067_200  # 2024-01-01T00:00:00Z
DAY = 86_400
BUDGET_S = 2.0

RECIPE = """name: {name}
title: Benchmark recipe {i}
description: A generated recipe for timing `promptlib report`.
tags: [{tag}, bench]
variables:
  logs:
    description: Log excerpt
    stdin: true
template: |
  Recipe {i} (revision {rev}): look at these logs and say what broke.
  <log>
  {{{{ logs }}}}
  </log>
{extra}format: 1
"""
TAGS = ("incident-response", "ticket-deflection", "script-generation", "customer-support")


def _person(i: int) -> tuple[str, str]:
    return f"Person {i:02d}", f"person{i:02d}@bench.example"


def _blob(text: str) -> bytes:
    data = text.encode()
    return b"data %d\n%s\n" % (len(data), data)


def _recipe(i: int, rev: int = 0) -> tuple[str, str]:
    name = f"recipe-{i:05d}"
    extra = f"shared_from: ops/{name}\n" if i < SHARED else ""
    text = RECIPE.format(name=name, i=i, rev=rev, tag=TAGS[i % len(TAGS)], extra=extra)
    return f"{TAGS[i % len(TAGS)]}/{name}.yaml", text


def fast_import_stream() -> bytes:
    """5,000 commits: commit k adds recipes 2k and 2k+1; every fifth also edits an older one."""
    chunks: list[bytes] = []
    per_commit = RECIPES // COMMITS
    edit_every = COMMITS // EDITS
    for k in range(COMMITS):
        author = k % AUTHORS
        name, email = _person(author)
        when = START + k * (365 * DAY // COMMITS)
        files: list[tuple[str, str]] = [_recipe(per_commit * k + j) for j in range(per_commit)]
        if k % edit_every == edit_every - 1 and k > 10:
            older = (k - 10) * per_commit
            edited = older // per_commit
            editor = (edited + (k // edit_every) % 2) % AUTHORS  # half by the author, half not
            name, email = _person(editor)
            files.append(_recipe(older, rev=k))
        if k < WINS:
            files.append(_win(k, when))
        if k < USAGE_FILES:
            files.append(_usage(k))
        message = f"Add recipes in batch {k}"
        chunks.append(b"commit refs/heads/main\n")
        chunks.append(f"author {name} <{email}> {when} +0000\n".encode())
        chunks.append(f"committer {name} <{email}> {when} +0000\n".encode())
        chunks.append(_blob(message))
        for path, text in files:
            chunks.append(f"M 100644 inline {path}\n".encode())
            chunks.append(_blob(text))
        chunks.append(b"\n")
    return b"".join(chunks)


def _win(k: int, when: int) -> tuple[str, str]:
    _, email = _person(k % AUTHORS)
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(when))
    saved, after = 5 + k % 55, 5 + k % 20
    pair = f"before: {saved + after}\nafter: {after}\n" if k % 2 == 0 else ""  # half timed
    text = (f"recipe: bench/recipe-{(k * 7) % RECIPES:05d}\nminutes: {saved}\n{pair}"
            f"note: Saved time on incident {k}\nauthor: Person <{email}>\nemail: {email}\n"
            f"at: '{at}'\n")
    return f"wins/{at[:10]}-{k:04d}.yaml", text


def _usage(k: int) -> tuple[str, str]:
    day = time.strftime("%Y-%m-%d", time.gmtime(START + (k // AUTHORS) * DAY))
    _, email = _person(k % AUTHORS)
    renders = {f"recipe-{(k * 13 + j) % RECIPES:05d}": 1 + j for j in range(5)}
    doc = {"date": day, "person": email, "machine": f"m{k % AUTHORS:04x}", "renders": renders}
    return f"usage/{day}-person{k % AUTHORS:02d}-m{k % AUTHORS:04x}.yaml", json.dumps(doc)


def build(home: Path) -> Path:
    coll = home / "collections" / "bench"
    coll.mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(coll)], check=True)
    started = time.perf_counter()
    subprocess.run(["git", "fast-import", "--quiet"], input=fast_import_stream(), cwd=coll,
                   check=True)
    subprocess.run(["git", "checkout", "--quiet", "main"], cwd=coll, check=True)
    print(f"built {RECIPES:,} recipes in {COMMITS:,} commits in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return coll


def timed(args: list[str], env: dict[str, str], runs: int,
          before: Callable[[], None] | None = None) -> tuple[float, str]:
    """Median wall time of `runs` whole-process runs (`before` runs untimed before each)."""
    times = []
    out = ""
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        proc = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - started)
        out = proc.stdout
    return statistics.median(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the home here and keep it")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="promptlib-bench-report-"))
    base.mkdir(parents=True, exist_ok=True)
    home = base / "home"
    if home.exists():
        shutil.rmtree(home)
    gitconfig = base / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Person 00\n\temail = person00@bench.example\n")
    env = {**os.environ, "PROMPTLIB_HOME": str(home), "GIT_CONFIG_GLOBAL": str(gitconfig),
           "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1"}
    for key in ("GIT_AUTHOR_EMAIL", "GIT_AUTHOR_NAME", "GIT_COMMITTER_EMAIL",
                "GIT_COMMITTER_NAME"):
        env.pop(key, None)
    try:
        subprocess.run([_promptlib(), "init", "--empty"], env=env, check=True,
                       capture_output=True)
        build(home)
        since = ["--since", "2024-01-01", "--until", "2024-12-31"]
        report = [_promptlib(), "report", *since]
        cache = home / "cache" / "report"

        def drop_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        cold, out = timed([*report, "--json"], env, args.runs, drop_cache)
        doc = json.loads(out)
        print(f"report --json, cold (no history cache): {cold:.3f} s median of {args.runs} "
              f"(budget {BUDGET_S} s)")
        print(f"  {doc['recipes']:,} recipes; roi.total_minutes={doc['roi']['total_minutes']}; "
              f"shared={doc['sharing']['shared_across_collections']}; "
              f"improved={doc['sharing']['improved_by_others']}; "
              f"renders={doc['adoption']['renders']:,}; "
              f"rate={doc['adoption']['rate']} of {doc['adoption']['known']} known; "
              f"transmissions={len(doc['sharing']['transmissions']):,}; "
              f"halved={doc['roi']['compression']['halved']} of "
              f"{doc['roi']['compression']['timed']}; use cases={len(doc['by_use_case'])}")
        warm, _ = timed([*report, "--json"], env, args.runs)
        print(f"report --json, warm (history cached at HEAD): {warm:.3f} s")
        term, _ = timed(report, env, args.runs)
        print(f"report (terminal view), warm: {term:.3f} s")
        html, _ = timed([*report, "--html", str(base / "report.html")], env, args.runs)
        print(f"report --html, warm: {html:.3f} s")
        grep, _ = timed(["grep", "-ril", "logs", str(home / "collections" / "bench")],
                        env, args.runs)
        print(f"(grep -ril logs over the same files: {grep:.3f} s)")
        worst = max(cold, warm, term, html)
        print("OK" if worst < BUDGET_S else "OVER BUDGET")
        return 0 if worst < BUDGET_S else 1
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


def _promptlib() -> str:
    return str(Path(sys.executable).with_name("promptlib"))


if __name__ == "__main__":
    sys.exit(main())
