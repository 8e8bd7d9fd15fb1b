"""Secrets named by their setting: key=value, key: value, "key": "value" (JSON, escaped JSON),
YAML with block scalars, env files, query strings, toString() output, ``--flag value`` and
``-pSECRET`` on a command line.

Unlike the token rules, a value here has no shape of its own: the name before it decides, and
where the value ends depends on what surrounds it (a quote, the next pair, the end of the line,
the indentation of a block scalar). A setting whose name ends like a secret's (``*_TOKEN``,
``*_SECRET``, ``*_API_KEY``, ``client_secret``, ``password``…) gives the ``password`` kind, or the
connection-string kind it sits in; one whose name also names a vendor and whose value has that
vendor's documented shape gives the vendor's kind (vendors.py). Placeholders are left
(structured.is_placeholder). Every pattern is compiled once, at import.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from promptlib.redact.rules import lazy, run_start
from promptlib.redact.structured import is_placeholder
from promptlib.redact.vendors import named_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from promptlib.redact.structured import Claim

# Found on the lowercased copy by how names end, one literal per pattern (an alternation would
# make `re` try every 's', 't', 'p'… and cost 3x the lot); the whole name is then checked
# against _SECRET_NAMES.
TAILS = ("word", "wd", "phrase", "pass", "secret", "token", "key", "pat")
_KV_KEYWORDS = tuple(lazy(tail + r"""(?=\\?+["']?+[ \t]*+(?::=|=>|[:=]))""") for tail in TAILS)
_SECRET_NAMES = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "_pass",
    ".pass",
    "-pass",
    "secret",
    "token",
    "api_key",
    "api-key",
    "api.key",
    "apikey",
    "private_key",
    "private-key",
    "privatekey",
    "secret_key",
    "secret-key",
    "secretkey",
    "access_key",
    "access-key",
    "accesskey",
    "auth_key",
    "encryption_key",
    "signing_key",
    "master_key",
    "_pat",
    "-pat",
)
# Pagination cursors are called tokens but guard nothing.
_NOT_SECRET_NAMES = (
    "next_token",
    "nexttoken",
    "next-token",
    "page_token",
    "pagetoken",
    "page-token",
    "continuation_token",
    "continuationtoken",
    "pagination_token",
    "sync_token",
)
# The start of the next setting, which ends an unquoted value: `&name=` in a query string,
# `, name=` in a toString(), ` name: ` after a YAML-ish value that took the rest of its line.
_PAIR = r"[A-Za-z_][A-Za-z0-9_.\-]*+(?:=|:[ \t])"
_NEXT_PAIR = lazy(r"(?:[&,;][ \t]*+|[ \t]++)" + _PAIR)
_KV_VALUE = lazy(
    r"""
    \\?+["']?+[ \t]*+(?::=|=>|[:=])[ \t]*+  # the name may close a quote, even an escaped one
    (?: "((?:[^"\\\n]|\\.)*+)"
      | '([^'\n]*+)'
      | \\"((?:[^"\\\n]|\\[^"\n])*+)\\"
      | ["']?+((?:[^\s"'`&,;]++|[&,;](?![ \t]*+"""
    + _PAIR
    + r"""))*+)
    )
    """,
    re.VERBOSE,
)
# The look-behind keeps "--a--a--a…" from being entered at every "--".
_FLAG = lazy(r"--(?<![a-z0-9\-]--)([a-z0-9][a-z0-9\-]*+)[ \t]++(?![\-\[])")
_FLAG_VALUE = lazy(r"""(?:"((?:[^"\\\n]|\\.)*+)"|'([^'\n]*+)'|([^\s"'`]++))""")
_FLAG_NAMES = ("password", "passwd", "passphrase", "token", "secret", "api-key", "apikey")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_LINE_START_PREFIX = lazy(r"""[ \t]*+(?:export[ \t]++|-[ \t]++)?+["']?+""")
_BLOCK_SCALAR = lazy(r"[|>][-+0-9]{0,2}")
_TRAILING_PUNCTUATION = ".,;:)]}>\\"
_NAME_REACH = 64


def _at_line_start(text: str, pos: int) -> bool:
    floor = max(0, pos - _NAME_REACH)
    newline = text.rfind("\n", floor, pos)
    if newline < 0 and floor > 0:
        return False
    return _LINE_START_PREFIX().fullmatch(text, newline + 1, pos) is not None


def _unquoted_end(text: str, start: int, end: int, whole_line: bool) -> int:
    """Where an unquoted value stops: at the next pair, and else at the first blank unless the
    setting has a line to itself (env file, YAML, properties: `password: correct horse`)."""
    if whole_line:
        newline = text.find("\n", end)
        line_end = len(text) if newline < 0 else newline
        pair = _NEXT_PAIR().search(text, end, line_end)
        end = line_end if pair is None else pair.start()
    while end > start and (text[end - 1] in _TRAILING_PUNCTUATION or text[end - 1].isspace()):
        end -= 1
    return end


def _value_span(text: str, match: re.Match[str], *, bare: int, whole_line: bool) -> tuple[int, int]:
    """The value's span: a quoted group (1 … bare-1) as is, the unquoted group `bare` trimmed."""
    for group in range(1, bare):
        if match.start(group) >= 0:
            return match.start(group), match.end(group)
    return match.start(bare), _unquoted_end(text, match.start(bare), match.end(bare), whole_line)


def _block_scalar_end(text: str, header_end: int, name_start: int) -> int:
    """End of a YAML block scalar (`password: |`): the following lines indented deeper than
    the line holding the name, blank lines included."""
    line_start = text.rfind("\n", 0, name_start) + 1
    indent = len(text[line_start:name_start]) - len(text[line_start:name_start].lstrip(" "))
    end, newline = header_end, text.find("\n", header_end)
    while newline >= 0:
        next_newline = text.find("\n", newline + 1)
        line = text[newline + 1 : len(text) if next_newline < 0 else next_newline]
        content = line.lstrip(" ")
        if content.strip():
            if len(line) - len(content) <= indent:
                break
            end = newline + 1 + len(line.rstrip())
        newline = next_newline
    return end


def _kv_value(text: str, key_end: int, name_start: int) -> tuple[int, int, bool] | None:
    """The value's span, and whether it is a YAML block scalar (whose lines are the value)."""
    match = _KV_VALUE().match(text, key_end)
    if match is None:
        return None
    whole_line = match.start(4) >= 0 and _at_line_start(text, name_start)
    start, end = _value_span(text, match, bare=4, whole_line=whole_line)
    value = text[start:end]
    if whole_line and _BLOCK_SCALAR().fullmatch(value):
        end = _block_scalar_end(text, end, name_start)
        return (start, end, True) if end > start + len(value) else None
    return start, end, False


def scan_key_values(text: str, lower: str) -> Iterator[Claim]:
    name_ends = sorted({m.end() for pattern in _KV_KEYWORDS for m in pattern().finditer(lower)})
    covered = 0
    for name_end in name_ends:
        # Skipping names inside a value already taken keeps "password=password=…" linear.
        if name_end <= covered:
            continue
        name_start = run_start(lower, name_end, _NAME_CHARS, _NAME_REACH)
        name = lower[name_start:name_end]
        if lower.startswith("://", name_start - 3):
            continue  # https://x-access-token:…@host is a user name; url_password has it
        generic = name.endswith(_SECRET_NAMES) and not name.endswith(_NOT_SECRET_NAMES)
        vendors = named_in(name)
        if not (generic or vendors):
            continue
        value = _kv_value(text, name_end, name_start)
        if value is None:
            continue
        start, end, block = value
        covered = end  # a name inside a value, taken or left, is not a name
        secret = text[start:end]
        if not block and (is_placeholder(secret) or (name.endswith("pwd") and secret[:1] in "/~")):
            continue
        kind = next((v.kind for v in vendors if v.matches(secret)), None)
        if kind is None and generic:
            kind = _generic_kind(lower, name_start)
        if kind is not None:
            yield kind, start, end


_CONNECTION_REACH = 300  # how far back on its line a setting looks for its connection string


def _generic_kind(lower: str, name_start: int) -> str:
    """`password`, or the connection string the setting sits in (ODBC, JDBC, ADO.NET, libpq)."""
    floor = max(0, name_start - _CONNECTION_REACH)
    line = lower[max(floor, lower.rfind("\n", floor, name_start) + 1) : name_start]
    if "jdbc:" in line:
        return "jdbc_password"
    if "driver=" in line or "dsn=" in line:
        return "odbc_password"
    if "server=" in line or "data source=" in line or "host=" in line:
        return "connection_string_password"
    return "password"


def scan_flags(text: str, lower: str) -> Iterator[Claim]:
    if "--" not in text:
        return
    for flag in _FLAG().finditer(lower):
        if not flag.group(1).endswith(_FLAG_NAMES):
            continue
        value = _FLAG_VALUE().match(text, flag.end())
        if value is None:
            continue
        start, end = _value_span(text, value, bare=3, whole_line=False)
        if not is_placeholder(text[start:end]):
            yield "password", start, end


# `mysql -pS3cret`, `sshpass -p 'S3cret!' ssh …`: `-p` is also a port, a pod, a project, so the
# value must look generated or typed as a password: mixed case and a digit when it stands apart,
# two character classes when glued to the flag (`-print`, `-prune` are one class).
_DASH_P = lazy(
    r"""-p(?<![A-Za-z0-9_\-]-p)"""
    r"""(?:([ \t]++)(?:'([^'\n]*+)'|"([^"\n]*+)"|([^\s"'`]++))|([^\s"'`]++))"""
)


def _classes(value: str) -> int:
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


def scan_dash_p(text: str, _lower: str) -> Iterator[Claim]:
    for match in _DASH_P().finditer(text):
        group = next(g for g in (2, 3, 4, 5) if match.start(g) >= 0)
        value = match.group(group)
        if len(value) < 6 or value[:1] in "-/~.$" or is_placeholder(value):
            continue
        if all(c.isdigit() or c in ":.-/" for c in value):
            continue  # a port, a port mapping, an address
        glued = group == 5
        if (
            (_classes(value) >= 2 and not value.isdigit())
            if glued
            else (
                _classes(value) >= 3
                and any(c.isupper() for c in value)
                and any(c.islower() for c in value)
            )
        ):
            yield "password", match.start(group), match.end(group)


# `curl -u admin:S3cret`, `--user admin:S3cret`: the part after the colon is the password.
_USER_FLAG = lazy(
    r"""(?:-u|--user)(?<![A-Za-z0-9_\-]-u)(?<![A-Za-z0-9_\-]--user)(?:[ \t]++|=)["']?+"""
    r"""[^\s:"'@/]++:([^\s"']++)"""
)


def scan_user_flag(text: str, _lower: str) -> Iterator[Claim]:
    for match in _USER_FLAG().finditer(text):
        password = match.group(1)
        if len(password) >= 6 and not password.isdigit() and not is_placeholder(password):
            yield "password", match.start(1), match.end(1)
