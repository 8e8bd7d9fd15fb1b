"""console: untrusted text never carries a terminal escape to the screen."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from promptlib.cli import console

HOSTILE = "Esc \x1b]0;pwned\x07 title \x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b[2J\x9b31m end"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream_cls", [io.StringIO, Tty])
def test_out_and_messages_drop_every_control_but_our_colours(monkeypatch, stream_cls):
    out, err = stream_cls(), stream_cls()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    console.out(console.style("id", "bold") + " " + HOSTILE)
    console.warn(HOSTILE)
    expected = "Esc ]0;pwned title ]52;c;ZWNobyBwd25lZA== [2J31m end"
    bold = "\x1b[1mid\x1b[0m" if stream_cls is Tty else "id"
    assert out.getvalue() == f"{bold} {expected}\n"
    assert expected in err.getvalue()
    assert "\x07" not in err.getvalue()
    assert "\x1b]" not in out.getvalue() + err.getvalue()


def test_json_escapes_c1_controls_and_stays_valid(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    console.json({"title": HOSTILE})
    assert "\x9b" not in out.getvalue()
    assert "\x1b" not in out.getvalue()
    assert json.loads(out.getvalue()) == {"title": HOSTILE}


def test_history_of_a_hostile_commit_prints_no_escape(cli, home: Path):
    cli("list")
    local = home / "collections" / "local"
    target = local / "incident-response" / "log-triage.yaml"
    target.write_text(target.read_text() + "# touched\n")
    subprocess.run(["git", "-C", str(local), "commit", "-qam", "x \x1b]52;c;cHduZWQ=\x07 y"],
                   check=True, env={"GIT_AUTHOR_NAME": "Eve \x1b[2J", "PATH": "/usr/bin:/bin",
                                    "GIT_AUTHOR_EMAIL": "e@x", "GIT_COMMITTER_NAME": "e",
                                    "GIT_COMMITTER_EMAIL": "e@x", "HOME": str(home)})
    result = cli("history", "log-triage")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert "x ]52;c;cHduZWQ= y" in result.stdout
