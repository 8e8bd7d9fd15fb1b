"""Putting a prompt on the clipboard: a platform tool when one works, else OSC 52 to the terminal.

OSC 52 asks the *terminal emulator* to set the clipboard, so it works over SSH, where no local
clipboard tool can reach the user's machine. Returns how it was done, or None when it could
not be (the caller then prints the prompt, so it is never lost).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys

from promptlib import paths

# Tried in order; each is only used when its display or platform is there.
_TOOLS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("wl-copy", ("wl-copy",), paths.ENV_WAYLAND_DISPLAY),
    ("xclip", ("xclip", "-selection", "clipboard"), paths.ENV_X11_DISPLAY),
    ("xsel", ("xsel", "--clipboard", "--input"), paths.ENV_X11_DISPLAY),
    ("pbcopy", ("pbcopy",), None),
    ("clip.exe", ("clip.exe",), None),
)
TOOL_TIMEOUT_S = 5
# Terminals cap OSC 52 payloads (xterm: ~100 KB); beyond this, tell the user instead of failing
# silently.
OSC52_MAX_BYTES = 1_000_000


def copy(text: str) -> str | None:
    return _copy_with_tool(text) or _copy_with_osc52(text)


def _copy_with_tool(text: str) -> str | None:
    for name, argv, needs_env in _TOOLS:
        if needs_env and not paths.env_is_set(needs_env):
            continue
        if shutil.which(argv[0]) is None:
            continue
        try:
            done = subprocess.run(argv, input=text.encode("utf-8"), timeout=TOOL_TIMEOUT_S,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return name
    return None


def _copy_with_osc52(text: str) -> str | None:
    payload = base64.b64encode(text.encode("utf-8"))
    if len(payload) > OSC52_MAX_BYTES:
        return None
    sequence = b"\x1b]52;c;" + payload + b"\x07"
    if paths.env_is_set(paths.ENV_TMUX):
        # tmux passes an escape through only when wrapped in its DCS passthrough.
        sequence = b"\x1bPtmux;\x1b" + sequence + b"\x1b\\"
    for stream in (sys.stderr, sys.stdout):
        if stream.isatty():
            stream.flush()
            os.write(stream.fileno(), sequence)
            return "OSC 52 terminal escape"
    return None
