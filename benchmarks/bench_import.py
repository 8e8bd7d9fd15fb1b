"""Time `promptlib import fabric` over a folder of generated fabric-style patterns.

Writes PATTERNS pattern folders (default 250, about the size of fabric's own library), each a
`system.md` of a few kB in fabric's layout (IDENTITY and PURPOSE, STEPS, OUTPUT INSTRUCTIONS,
INPUT; every tenth with literal `{{BaseURL}}`-style braces in a code block, every twentieth with
a `user.md`), plus a `pattern_descriptions.json`. Then, in a temporary PROMPTLIB_HOME, times the
whole process `promptlib import fabric PATTERNS_DIR --to fabric` (each run into a new
collection), median of RUNS runs (default 5), next to `grep -ril input` over the same files.
Budget (issue 14): a few seconds at most; exits 1 over BUDGET_S (default 5).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATTERNS = int(os.environ.get("PATTERNS", "250"))
RUNS = int(os.environ.get("RUNS", "5"))
BUDGET_S = float(os.environ.get("BUDGET_S", "5"))

STEPS = "\n".join(f"- Step {i}: read the input again and note what changed since step {i - 1}."
                  for i in range(1, 25))


def pattern(i: int) -> str:
    code = ("\n\n# EXAMPLE\n\n```yaml\nhttp:\n  - path:\n      - \"{{BaseURL}}/status\"\n"
            "    headers:\n      Host: {{Hostname}}\n```\n") if i % 10 == 0 else ""
    return (f"# IDENTITY and PURPOSE\n\nYou are an expert in area {i}. You take input about "
            f"system {i} and extract what an on-call engineer needs.\n\n# STEPS\n\n{STEPS}\n\n"
            f"# OUTPUT INSTRUCTIONS\n\n- Output Markdown bullets only.\n- Never invent "
            f"facts about system {i}.{code}\n\n# INPUT\n\nINPUT:\n")


def write_patterns(root: Path) -> None:
    descriptions = []
    for i in range(PATTERNS):
        folder = root / f"check_system_{i:04d}"
        folder.mkdir(parents=True)
        (folder / "system.md").write_text(pattern(i), encoding="utf-8")
        if i % 20 == 0:
            (folder / "user.md").write_text("Here is what I have:\n", encoding="utf-8")
        descriptions.append({"patternName": folder.name,
                             "description": f"Check system {i} for problems.",
                             "tags": ["DEVOPS", "ANALYSIS"]})
    (root / "pattern_descriptions.json").write_text(json.dumps({"patterns": descriptions}))


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        patterns = work / "patterns"
        write_patterns(patterns)
        gitconfig = work / "gitconfig"
        gitconfig.write_text("[user]\n\tname = Bench\n\temail = bench@example.test\n")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}
        env.update(PROMPTLIB_HOME=str(work / "home"), GIT_CONFIG_GLOBAL=str(gitconfig),
                   GIT_CONFIG_NOSYSTEM="1")
        promptlib = [sys.executable, "-m", "promptlib"]
        subprocess.run([*promptlib, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        timed([*promptlib, "import", "fabric", str(patterns), "--to", "warmup"], env)
        runs, greps = [], []
        for n in range(RUNS):
            greps.append(timed(["grep", "-ril", "input", str(patterns)], env))
            runs.append(timed([*promptlib, "import", "fabric", str(patterns), "--to",
                               f"run-{n}"], env))
        median, grep = statistics.median(runs), statistics.median(greps)
        print(f"import fabric, {PATTERNS} patterns: median {median:.2f} s over {RUNS} runs "
              f"(min {min(runs):.2f}, max {max(runs):.2f}); grep -ril {grep * 1000:.0f} ms; "
              f"budget {BUDGET_S:.0f} s")
        return 0 if median <= BUDGET_S else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
