"""`promptlib redact` (a filter for any pipe, and a check for hooks and CI), allow-lists in
every place that redacts or refuses, and the personal-data kinds of `--redact-pii`.

Credential-shaped strings are built at run time from a seeded RNG.
"""

from __future__ import annotations

import json
import random
import select
import string
import subprocess
import sys
from pathlib import Path

import pytest

from promptlib.cli.redact_flow import RedactArgs, parse_redact_args
from promptlib.errors import InvalidError
from promptlib.redact import allow as allow_mod
from promptlib.redact.detector import find_secrets, redact
from promptlib.redact.filter import StreamFilter
from promptlib.store import allow_lists
from tests.conftest import recipe_yaml

_RNG = random.Random(1010)
PROMPTLIB = [sys.executable, "-m", "promptlib"]


def rand(alphabet: str, n: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


HF = "hf_" + rand(string.ascii_letters, 34)
GHP = "ghp_" + rand(string.ascii_letters + string.digits, 36)
AKIA = "AKIA" + rand(string.ascii_uppercase + string.digits, 16)


# --------------------------------------------------------------------------------------------
# The filter
# --------------------------------------------------------------------------------------------


def test_stdin_to_stdout_with_the_summary_on_stderr(run) -> None:
    done = run("redact", input=f"HF_TOKEN={HF}\nnothing here\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "HF_TOKEN=[REDACTED:huggingface_token]\nnothing here\n"
    assert done.stderr == "redacted 1 secret: 1 huggingface_token\n"


def test_check_exits_4_on_a_finding_and_prints_nothing_on_stdout(run, tmp_path: Path) -> None:
    leaky = tmp_path / "app.log"
    leaky.write_text(f"start\n  token {GHP}\n")
    clean = tmp_path / "clean.log"
    clean.write_text("all quiet\n")
    done = run("redact", "--check", str(leaky), str(clean))
    assert done.returncode == 4, done.stderr
    assert done.stdout == ""
    assert f"{leaky}:2:9: github_pat" in done.stderr
    assert GHP not in done.stderr
    ok = run("redact", "--check", str(clean))
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")


def test_json_gives_kind_line_and_column_never_the_secret(cli) -> None:
    result = cli("redact", "--json", input=f"one\nkey={AKIA} and {GHP}\n")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == {
        "findings": [
            {"file": "-", "line": 2, "column": 5, "kind": "aws_key_id"},
            {"file": "-", "line": 2, "column": 30, "kind": "github_pat"},
        ],
        "redactions": {"aws_key_id": 1, "github_pat": 1},
    }
    assert AKIA not in result.output
    assert GHP not in result.output


def test_files_are_concatenated_like_cat(cli, tmp_path: Path) -> None:
    (tmp_path / "a").write_text(f"a {GHP}\n")
    (tmp_path / "b").write_text("b\n")
    result = cli("redact", str(tmp_path / "a"), str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "a [REDACTED:github_pat]\nb\n"


def test_a_missing_file_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("redact", str(tmp_path / "nope"))
    assert result.exit_code == 2, result.output
    assert "nope: no such file" in result.output


def test_bytes_that_are_not_utf8_pass_through() -> None:
    data = b"\xff\xfe binary \x00 " + f"{GHP}\n".encode()
    done = subprocess.run([*PROMPTLIB, "redact"], input=data, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"\xff\xfe binary \x00 [REDACTED:github_pat]\n"


def test_redact_pii_adds_emails_addresses_and_phones(cli) -> None:
    text = "mail jane@example.org from 2a00:1450:4007:80e::200e call +44 20 7946 0958\n"
    plain = cli("redact", input=text)
    assert plain.stdout == text
    result = cli("redact", "--redact-pii", input=text)
    assert result.stdout == (
        "mail [REDACTED:email] from [REDACTED:ipv6] call [REDACTED:phone]\n"
    ), result.output
    assert result.stderr.count("\n") == 1  # the summary stays one line


def test_fast_path_and_typer_print_the_same(run, cli) -> None:
    text = f"x={GHP}\n"
    fast = run("redact", "--json", input=text)
    typer = cli("redact", "--json", input=text)
    assert fast.stdout == typer.stdout


# --------------------------------------------------------------------------------------------
# Personal data
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "fe80::1%eth0 and ::1 and fd00::abcd",  # link-local, loopback, unique local
        "at 12:30:45 the mac was aa:bb:cc:dd:ee:ff",
        "2024-03-12 10:00 build 1.2.3.4567 id 415-55-0132",
        "tz +0000 offset +05:30 version +1.2",
    ],
)
def test_what_is_not_personal_data(text: str) -> None:
    assert find_secrets(text, pii=True) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("client 2001:4860:4860::8888 connected", "ipv6"),
        ("[2a03:2880:f12f:83:face:b00c:0:25de]:443", "ipv6"),
        ("::ffff:8.8.8.8", "ipv6"),
        ("call (415) 555-0132 now", "phone"),
        ("call 415.555.0132 now", "phone"),
        ("sms +1 415 555 0132", "phone"),
    ],
)
def test_personal_data(text: str, kind: str) -> None:
    assert [f.kind for f in find_secrets(text, pii=True)] == [kind]
    assert find_secrets(text) == []


# --------------------------------------------------------------------------------------------
# Placeholders (issue 10: "password: changeme" is redacted, "<your token here>" is not)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "token: <your token here>",
        "HF_TOKEN=${HF_TOKEN}",
        "api_key: xxxxxxxxxxxxxxxx",
        "GITHUB_TOKEN=ghp_" + "x" * 36,
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "OPENAI_API_KEY=YOUR_API_KEY",
        "password: '********'",
    ],
)
def test_placeholders_are_not_credentials(text: str) -> None:
    assert find_secrets(text) == []


def test_a_weak_password_is_still_a_password() -> None:
    assert redact("password: changeme")[0] == "password: [REDACTED:password]"


# --------------------------------------------------------------------------------------------
# Allow-lists
# --------------------------------------------------------------------------------------------


def test_an_allowed_value_and_pattern_are_left_alone() -> None:
    allowed = allow_mod.parse([{"value": GHP}, {"regex": "^fixture-[0-9]{6}$"}], "test")
    text = f"a {GHP} b password=fixture-123456 c password=Sup3rS3cret!"
    out, counts = redact(text, allow=allowed)
    assert out == f"a {GHP} b password=fixture-123456 c password=[REDACTED:password]"
    assert counts == {"password": 1}


@pytest.mark.parametrize("pattern", ["ghp_.*", "ghp_", "^AKIA", "[A-Za-z0-9]{20,}", ".", "hf_"])
def test_an_allow_pattern_may_never_cover_a_credential_shape(pattern: str) -> None:
    with pytest.raises(InvalidError, match=r"would allow real [a-z_0-9]+ credentials"):
        allow_mod.parse([pattern], ".promptlib/redact.yaml")


@pytest.mark.parametrize("entry", [{"regex": "(a+)+$"}, {"regex": "("}, 42, {"other": "x"}])
def test_bad_allow_entries_are_errors(entry: object) -> None:
    with pytest.raises(InvalidError, match=r"allow entry 1"):
        allow_mod.parse([entry], "redact.yaml")


def _allow_file(root: Path, body: str) -> None:
    (root / ".promptlib").mkdir(parents=True, exist_ok=True)
    (root / ".promptlib" / "redact.yaml").write_text(body)


def test_redact_reads_the_nearest_allow_file(tmp_path: Path) -> None:
    _allow_file(tmp_path, f"allow:\n  - value: {GHP}\n")
    (tmp_path / "sub").mkdir()
    done = subprocess.run(
        [*PROMPTLIB, "redact", "--check"], input=f"{GHP}\n", text=True,
        capture_output=True, cwd=tmp_path / "sub", check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_credential_shaped_allow_entry_is_refused_with_exit_4(tmp_path: Path) -> None:
    _allow_file(tmp_path, 'allow:\n  - "ghp_.*"\n')
    done = subprocess.run(
        [*PROMPTLIB, "redact"], input="x\n", text=True, capture_output=True,
        cwd=tmp_path, check=False,
    )
    assert done.returncode == 4, done.stderr
    assert "would allow real github_pat credentials" in done.stderr


def test_the_users_config_allows_too(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.yaml").write_text(f"redact:\n  allow:\n    - value: {AKIA}\n")
    allowed = allow_lists.for_collection(None)
    assert allowed is not None
    assert allowed.permits(AKIA)


def test_add_and_render_honour_the_collections_allow_file(cli, home: Path, tmp_path: Path) -> None:
    assert cli("init").exit_code == 0
    local = home / "collections" / "local"
    source = tmp_path / "r.yaml"
    source.write_text(recipe_yaml("uses-fixture", template=f"key {AKIA} {{{{ host }}}}\n"))
    refused = cli("add", "--file", str(source))
    assert refused.exit_code == 4, refused.output
    _allow_file(local, f"allow:\n  - value: {AKIA}\n")
    added = cli("add", "--file", str(source))
    assert added.exit_code == 0, added.output
    rendered = cli("render", "uses-fixture", "-v", f"host={AKIA}", "--json")
    assert rendered.exit_code == 0, rendered.output
    assert json.loads(rendered.stdout)["redactions"] == {}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], RedactArgs([])),
        (["a.log", "--check", "b.log"], RedactArgs(["a.log", "b.log"], check=True)),
        (["--json", "--redact-pii", "-"], RedactArgs(["-"], as_json=True, redact_pii=True)),
        (["--", "--check"], RedactArgs(["--check"])),
    ],
)
def test_plain_redacts_are_parsed_by_the_fast_path(args: list[str], expected: RedactArgs) -> None:
    assert parse_redact_args(args) == expected


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--check=1"], ["--unknown"]])
def test_anything_unusual_goes_to_typer(args: list[str]) -> None:
    assert parse_redact_args(args) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("curl -u admin:Adm1nPassw0rd https://x", "curl -u admin:[REDACTED:password] https://x"),
        ("mysql -u root -pS3cr3tPass db", "mysql -u root -p[REDACTED:password] db"),
        ("sshpass -p 'Hunter2!Go' ssh bastion", "sshpass -p '[REDACTED:password]' ssh bastion"),
        ("docker run -u 1000:1000 -p 8080:80 nginx", "docker run -u 1000:1000 -p 8080:80 nginx"),
        ("kubectl logs -p api-7f9d8c6b5-x2x4z", "kubectl logs -p api-7f9d8c6b5-x2x4z"),
        ("Driver={ODBC 18};Server=db;Uid=sa;Pwd=Xy7!pQ2zW;",
         "Driver={ODBC 18};Server=db;Uid=sa;Pwd=[REDACTED:odbc_password];"),
        ("jdbc:mysql://db/app?user=app&password=S3cret99x",
         "jdbc:mysql://db/app?user=app&password=[REDACTED:jdbc_password]"),
    ],
)
def test_passwords_on_command_lines_and_in_connection_strings(text: str, expected: str) -> None:
    assert redact(text)[0] == expected


# --------------------------------------------------------------------------------------------
# Streaming (`kubectl logs -f | promptlib redact`)
# --------------------------------------------------------------------------------------------

KEY_BLOCK = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "\n".join(rand(string.ascii_letters + string.digits, 64) for _ in range(4))
    + "\n-----END RSA PRIVATE KEY-----\n"
)
STREAMED = (
    f"start\n{KEY_BLOCK}db:\n  password: |\n    {rand(string.ascii_letters, 20)}\n\n"
    f"    {rand(string.ascii_letters, 12)}\n  user: bob\ntoken {GHP} ok\n"
    f"-----BEGIN PRIVATE KEY-----\n{rand(string.ascii_letters, 64)}\ncut short\nlast"
)


@pytest.mark.parametrize("size", [1, 5, 64, 1 << 20])
def test_a_stream_fed_in_pieces_redacts_as_the_whole_does(size: int) -> None:
    stream = StreamFilter(pii=False, allow=None)
    data = STREAMED.encode()
    out = b"".join(stream.feed(data[i : i + size]) for i in range(0, len(data), size))
    out += stream.finish()
    assert out.decode() == redact(STREAMED)[0]
    assert stream.counts == redact(STREAMED)[1]


def test_each_line_is_written_as_soon_as_it_is_safe() -> None:
    proc = subprocess.Popen(
        [*PROMPTLIB, "redact"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(f"first {GHP}\n".encode())
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], 30)  # a regression must fail, not hang
    if not ready:
        proc.kill()
    assert ready, "nothing written before the input ended"
    assert proc.stdout.readline() == b"first [REDACTED:github_pat]\n"
    proc.stdin.write(b"second\n")
    proc.stdin.close()
    assert proc.stdout.read() == b"second\n"
    assert proc.wait(timeout=30) == 0
