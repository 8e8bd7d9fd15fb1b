"""Measure one sandbox call from the outside: wall time and the peak RSS of its whole process tree.

    python tests/sandbox_measure.py render|render-forkserver|variables|check TEMPLATE

Runs a fresh `python -c` that imports promptlib.sandbox.api and makes the call, then prints one JSON
object: {"wall": seconds, "maxrss_kb": peak RSS of the largest process in that tree, "returncode",
"result": what the call returned or raised}. `render-forkserver` renders through a fork
server (`sandbox.forkserver`), stopped and reaped afterwards so that it is measured too. This
script is itself a fresh process, so `RUSAGE_CHILDREN` covers exactly that run: the `python -c`
and the worker it forked (which it reaped).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

INNER = r"""
import json, sys
from promptlib.sandbox import api as sandbox
from promptlib.errors import TemplateError

mode, source = sys.argv[1], sys.argv[2]
if mode == "render-forkserver":
    from promptlib.sandbox import forkserver
    forkserver.start()
try:
    if mode in ("render", "render-forkserver"):
        value = sandbox.render_template(source, {"name": "world"})
    elif mode == "variables":
        value = sorted(sandbox.template_variables(source))
    else:
        value = [sorted(r) if isinstance(r, frozenset) else [type(r).__name__, str(r)]
                 for r in sandbox.check_templates(["{{ a }}", source, "{{ b }}"])]
    result = {"ok": True, "value": value[:200] if mode.startswith("render") else value}
except TemplateError as exc:
    result = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
if mode == "render-forkserver":
    forkserver.stop()
print(json.dumps(result))
"""


def main() -> None:
    mode, source = sys.argv[1], sys.argv[2]
    src = str(Path(__file__).resolve().parent.parent / "src")
    env = dict(os.environ)
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", INNER, mode, source],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    wall = time.monotonic() - start
    maxrss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = {"ok": False, "error": "no result", "message": proc.stderr[-2000:]}
    sys.stdout.write(
        json.dumps(
            {
                "wall": wall,
                "maxrss_kb": maxrss_kb,
                "returncode": proc.returncode,
                "result": result,
                "stderr": proc.stderr[-2000:],
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
