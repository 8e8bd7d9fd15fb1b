"""Secret detection and redaction (DESIGN §7 "Secrets").

`render` runs every variable value through `redact` before rendering; `add`, `edit`, `share` and
`push` refuse a recipe for which `find_secrets` is not empty. A finding always spans the whole
credential, and its replacement is ``[REDACTED:<kind>]``.

Kinds, in the order that decides which one names a span when several detectors claim it:

==================  =====================================================================
``private_key``     PEM/PGP private key block, BEGIN line through END line; without an END
                    line, through the end of the base64 body
``aws_key_id``      AKIA…/ASIA… access key ids (and ABIA/ACCA), 20 characters
``aws_secret``      40-character AWS secret, only after ``aws_secret_access_key``-like
                    names or on the same line shortly after an access key id
``github_token``    ghp_/gho_/ghu_/ghs_/ghr_ and github_pat_
``gitlab_token``    glpat- and the other gl…- token prefixes
``slack_webhook``   https://hooks.slack.com/services/… (the whole URL)
``slack_token``     xoxa-/xoxb-/xoxp-/xoxo-/xoxr-/xoxs- and xapp-
``stripe_key``      sk_live_/sk_test_/rk_live_/rk_test_ and whsec_
``google_api_key``  AIza + 35
``openai_key``      sk-…, sk-proj-…, sk-ant-… (mixed case and digits, 20+ characters)
``jwt``             three base64url segments, header and payload starting ``ey``
``basic_auth``      the base64 after ``Basic`` when it decodes to ``user:password``
``bearer``          the token after ``Bearer``
``auth_header``     any other ``Authorization:`` value (``token …``, ``ApiKey …``, bare)
``url_password``    the password in ``scheme://user:password@host``
``password``        the value of any key=value / key: value / JSON / YAML (block scalars
                    too) / ``--flag value`` setting whose name ends in password, passwd, pwd,
                    passphrase, secret, token, api_key, private_key, secret_key, access_key,
                    …; one kind name for all of them, whatever the key is called. Values that
                    are placeholders (``{{ x }}``, ``$X``, ``<x>``, ``****``, SQL ``?``/``$1``)
                    or flags (``true``, ``null``, 1–3 digits) are left, and so are pagination
                    cursors (``next_token``, ``page_token``)
``email``           only with ``pii=True``
``ip``              public IPv4 addresses, only with ``pii=True``
==================  =====================================================================

Every pattern is written to run in linear time on Python's backtracking engine: each starts with a
literal (so ``re`` can skip ahead with its fast prefix search), runs of token characters are
matched possessively and are entered only at the left edge of the run (a look-behind right after
the literal), and anything that would need a second look is checked in Python on the match.

`redact` is idempotent and never flags its own markers; `find_secrets` reports exactly the spans
`redact` replaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

KINDS: tuple[str, ...] = (
    "private_key",
    "aws_key_id",
    "aws_secret",
    "github_token",
    "gitlab_token",
    "slack_webhook",
    "slack_token",
    "stripe_key",
    "google_api_key",
    "openai_key",
    "jwt",
    "basic_auth",
    "bearer",
    "auth_header",
    "url_password",
    "password",
    "email",
    "ip",
)
PII_KINDS = frozenset({"email", "ip"})
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    line: int


class _Span(NamedTuple):
    start: int
    rank: int  # ties at one start go to the more specific kind
    end: int


def _span(kind: str, start: int, end: int) -> _Span:
    return _Span(start, _RANK[kind], end)


# Placeholders and masks are not credentials: recipes are full of `{{ password }}`, `$TOKEN`,
# `<your-key>`; logs of `password=****`, SQL bind parameters and `secret: false`. Also the
# markers we write ourselves.
_PLACEHOLDER = re.compile(  # matched against the lowercased value
    r"""
      (?:\$\{|\$\(|\{|\[|<|%\(|\[redacted:)
    | \$[a-z_][a-z0-9_]*+$
    | (?:\$[0-9]++|\?|[:@][a-z_][a-z0-9_]*+|%s)$
    | [0-9]{1,3}$
    | [*x.\u2022]*+$
    | (?:true|false|null|none|nil|undefined|\|[-+]?|>[-+]?)$
    """,
    re.VERBOSE,
)


def _is_placeholder(value: str) -> bool:
    return _PLACEHOLDER.match(value.lower()) is not None


def _mixed(token: str) -> bool:
    """Upper, lower and digit together: true of generated keys, rare in names and words."""
    return (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )


# --------------------------------------------------------------------------------------------
# Single-pattern detectors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    group: int = 0
    # Case-insensitive rules run on an ASCII-lowercased copy of the text: re.IGNORECASE turns
    # off the literal-prefix search and costs ~8x on a megabyte of log.
    on_lower: bool = False
    accept: Callable[[str, re.Match[str]], bool] | None = None

    def scan(self, text: str, lower: str) -> Iterator[_Span]:
        for match in self.pattern.finditer(lower if self.on_lower else text):
            if self.accept is None or self.accept(text, match):
                yield _span(self.kind, match.start(self.group), match.end(self.group))


def _group_text(text: str, match: re.Match[str], group: int) -> str:
    return text[match.start(group) : match.end(group)]


def _accept_openai(text: str, match: re.Match[str]) -> bool:
    # Pod and branch names such as sk-worker-7d9f8b6c5-x2x4z are lowercase.
    return _mixed(_group_text(text, match, 1))


def _accept_bearer(text: str, match: re.Match[str]) -> bool:
    # "Bearer authentication" in prose is a word, not a token.
    token = _group_text(text, match, 1)
    if any(c.isdigit() or c in "-._~+/=" for c in token):
        return True
    return any(c.isupper() for c in token[1:]) and any(c.islower() for c in token)


_B64_VALUE = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}


def _b64decode(data: str) -> bytes | None:
    """Standard base64, without importing `base64` (start-up discipline)."""
    data = data.rstrip("=")
    if len(data) % 4 == 1:
        return None
    out = bytearray()
    bits = nbits = 0
    for char in data:
        bits = ((bits << 6) | _B64_VALUE[char]) & 0xFFFF
        nbits += 6
        if nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)
    return bytes(out)


def _accept_basic(text: str, match: re.Match[str]) -> bool:
    # "Basic configuration" is base64-shaped too; a credential decodes to printable user:pass.
    decoded = _b64decode(_group_text(text, match, 1))
    return decoded is not None and b":" in decoded and all(32 <= b < 127 for b in decoded)


_BARE_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "apikey"})


def _accept_auth_header(text: str, match: re.Match[str]) -> bool:
    # Digest carries a hash of the password, not the password; a lone scheme is no secret; and
    # "authorization: required" is prose: credentials carry digits or are long.
    value = _group_text(text, match, 2)
    if (match.group(1) or "") == "digest" or value.lower() in _BARE_SCHEMES:
        return False
    if not (len(value) >= 20 or any(c.isdigit() for c in value)):
        return False
    return not _is_placeholder(value)


def _accept_url_password(text: str, match: re.Match[str]) -> bool:
    return not _is_placeholder(_group_text(text, match, 1))


# Each pattern opens with a literal so that `re` jumps between occurrences of it; the negative
# look-behind placed after the literal stops a run of token characters from being entered at
# every offset, which is what would make "eyJeyJeyJ…" quadratic.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "github_token",
        re.compile(
            r"gh(?<![A-Za-z0-9_]gh)[pousr]_[A-Za-z0-9]{36,}+"
            r"|github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{22,}+"
        ),
    ),
    _Rule(
        "gitlab_token",
        re.compile(
            r"gl(?<![A-Za-z0-9_]gl)(?:pat|dt|rt|ptt|soat|cbt|ft|imt|oas|agent)-"
            r"[A-Za-z0-9_\-]{20,}+(?:\.[A-Za-z0-9_\-]++)*+"
        ),
    ),
    _Rule(
        "slack_webhook",
        re.compile(
            r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{8,}+"
        ),
    ),
    _Rule(
        "slack_token",
        re.compile(
            r"xox[abposr]-(?<![A-Za-z0-9_]xox.-)[A-Za-z0-9\-]{10,}+"
            r"|xapp-(?<![A-Za-z0-9_]xapp-)[A-Za-z0-9\-]{10,}+"
        ),
    ),
    # Three rules rather than one alternation: a set of first letters as common as 's' and 'r'
    # costs 30x a literal prefix.
    _Rule("stripe_key", re.compile(r"sk_(?<![A-Za-z0-9_]sk_)(?:live|test)_[A-Za-z0-9]{10,}+")),
    _Rule("stripe_key", re.compile(r"rk_(?<![A-Za-z0-9_]rk_)(?:live|test)_[A-Za-z0-9]{10,}+")),
    _Rule("stripe_key", re.compile(r"whsec_(?<![A-Za-z0-9_]whsec_)[A-Za-z0-9]{20,}+")),
    _Rule(
        "google_api_key",
        re.compile(r"AIza(?<![A-Za-z0-9_\-]AIza)[A-Za-z0-9_\-]{35}(?![A-Za-z0-9_\-])"),
    ),
    _Rule(
        "openai_key",
        re.compile(
            r"sk-(?<![A-Za-z0-9_\-]sk-)(?:proj-|svcacct-|admin-|ant-(?:[a-z]{3,5}\d\d-)?+)?+"
            r"([A-Za-z0-9_\-]{20,}+)"
        ),
        accept=_accept_openai,
    ),
    _Rule(
        "jwt",
        re.compile(
            r"eyJ(?<![A-Za-z0-9_\-]eyJ)[A-Za-z0-9_\-]{7,}+\.ey[A-Za-z0-9_\-]{8,}+"
            r"\.[A-Za-z0-9_\-]*+"
        ),
    ),
    _Rule(
        "basic_auth",
        re.compile(r"basic(?<![a-z0-9_]basic)[ \t]++([a-z0-9+/]{8,}+={0,2}+)(?![a-z0-9+/=])"),
        group=1,
        on_lower=True,
        accept=_accept_basic,
    ),
    _Rule(
        "bearer",
        re.compile(r"bearer(?<![a-z0-9_]bearer)[ \t]++([a-z0-9\-._~+/]{12,}+=*+)"),
        group=1,
        on_lower=True,
        accept=_accept_bearer,
    ),
    _Rule(
        "auth_header",
        re.compile(
            r"""authorization["']?+[ \t]*+[:=][ \t]*+["']?+"""
            r"""(?:([a-z][a-z0-9\-]*+)[ \t]++)?+(?!\[redacted:)([^\s"',;]++)"""
        ),
        group=2,
        on_lower=True,
        accept=_accept_auth_header,
    ),
    _Rule(
        "url_password",
        # The password may hold a stray '@': greedy then back off to the last '@' of the
        # authority, which is one pass since the scan stops at the first '/', '?', '#' or space.
        re.compile(r"://[^\s:/@?#\[\]]*+:(?!\[REDACTED:)([^\s/?#]+)@"),
        group=1,
        accept=_accept_url_password,
    ),
)


# --------------------------------------------------------------------------------------------
# AWS: the key id alone, and the 40-character secret only where context says it is one
# --------------------------------------------------------------------------------------------

# Access keys (AKIA long-term, ASIA temporary, ABIA/ACCA service bearer). The other unique-id
# prefixes (AIDA user, AROA role, …) name principals, are all over CloudTrail, and unlock nothing.
_AWS_KEY_ID = re.compile(r"A(?:KIA|SIA|BIA|CCA)(?<![A-Za-z0-9]A...)[A-Z0-9]{16}(?![A-Za-z0-9])")
# aws_secret_access_key, secret_access_key, aws_secret_key, SecretAccessKey (on the lowercased
# copy; anchored on "secret" so the search can skip ahead).
_AWS_SECRET_NAMED = re.compile(
    r"""secret(?:_?access)?_?key["']?+[ \t]*+(?::=|=>|[:=])"""
    r"""[ \t]*+["']?+([a-z0-9/+]{40})(?![a-z0-9/+=])"""
)
_AWS_SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_SECRET_REACH = 100  # how far after a key id, on the same line, a bare secret is looked for


def _looks_like_aws_secret(token: str) -> bool:
    # A git SHA is 40 lowercase hex; a secret key is base64 with both cases.
    has_upper = any(c.isupper() for c in token)
    has_lower = any(c.islower() for c in token)
    return has_upper and has_lower and any(c.isdigit() or c in "/+" for c in token)


def _scan_aws(text: str, lower: str) -> Iterator[_Span]:
    for match in _AWS_KEY_ID.finditer(text):
        yield _span("aws_key_id", match.start(), match.end())
        limit = min(len(text), match.end() + _AWS_SECRET_REACH)
        newline = text.find("\n", match.end(), limit)
        near = _AWS_SECRET_SHAPE.search(text, match.end(), limit if newline < 0 else newline)
        if near is not None and _looks_like_aws_secret(near.group()):
            yield _span("aws_secret", near.start(), near.end())
    for match in _AWS_SECRET_NAMED.finditer(lower):
        yield _span("aws_secret", match.start(1), match.end(1))


# --------------------------------------------------------------------------------------------
# PEM private keys
# --------------------------------------------------------------------------------------------

_PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----")
# Without an END line the key runs to the end of its base64 body: optional RFC 1421 / armor
# headers, full-width lines, then at most one short (last or truncated) line. Separators may be
# real newlines, JSON's "\n", or spaces (keys pasted onto one line).
_PEM_BODY = re.compile(
    r"""
    (?:(?:\r?\n|(?:\\r)?+\\n)[ \t]*+[A-Za-z][A-Za-z0-9\-]*+:[ \t][^\r\n\\]*+)*+
    (?:(?:[ \t]|\r?\n|(?:\\r)?+\\n)*+[A-Za-z0-9+/=]{40,}+)*+
    (?:(?:[ \t]|\r?\n|(?:\\r)?+\\n)*+[A-Za-z0-9+/=]++)?+
    """,
    re.VERBOSE,
)


class _NextEnd:
    """The next END line at or after a position, searched once per stretch of text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._match: re.Match[str] | None = None
        self._searched_from = -1
        self._exhausted = False

    def at_or_after(self, pos: int) -> re.Match[str] | None:
        if self._match is not None and self._match.start() >= pos:
            return self._match
        if self._exhausted or pos <= self._searched_from:
            return None
        self._searched_from = pos
        self._match = _PEM_END.search(self._text, pos)
        self._exhausted = self._match is None
        return self._match


def _scan_pem(text: str, _lower: str) -> Iterator[_Span]:
    if "-----BEGIN" not in text:
        return
    begins = list(_PEM_BEGIN.finditer(text))
    ends = _NextEnd(text)
    for index, begin in enumerate(begins):
        next_begin = begins[index + 1].start() if index + 1 < len(begins) else len(text)
        end = ends.at_or_after(begin.end())
        if end is not None and end.start() < next_begin:
            yield _span("private_key", begin.start(), end.end())
        else:
            body = _PEM_BODY.match(text, begin.end(), next_begin)
            yield _span("private_key", begin.start(), body.end() if body else begin.end())


# --------------------------------------------------------------------------------------------
# key=value, key: value, "key": "value", --flag value
# --------------------------------------------------------------------------------------------

# Found on the lowercased copy by how names end, one literal per pattern (an alternation would
# make `re` try every 's', 't', 'p'… and cost 3x the lot); the whole name is then checked
# against _SECRET_NAMES.
_KV_KEYWORDS = tuple(
    re.compile(tail + r"""(?=\\?+["']?+[ \t]*+(?::=|=>|[:=]))""")
    for tail in ("word", "wd", "phrase", "pass", "secret", "token", "key")
)
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
_NEXT_PAIR = re.compile(r"(?:[&,;][ \t]*+|[ \t]++)" + _PAIR)
_KV_VALUE = re.compile(
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
_FLAG = re.compile(r"--(?<![a-z0-9\-]--)([a-z0-9][a-z0-9\-]*+)[ \t]++(?![\-\[])")
_FLAG_VALUE = re.compile(r"""(?:"((?:[^"\\\n]|\\.)*+)"|'([^'\n]*+)'|([^\s"'`]++))""")
_FLAG_NAMES = ("password", "passwd", "passphrase", "token", "secret", "api-key", "apikey")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_LINE_START_PREFIX = re.compile(r"""[ \t]*+(?:export[ \t]++|-[ \t]++)?+["']?+""")
_BLOCK_SCALAR = re.compile(r"[|>][-+0-9]{0,2}")
_TRAILING_PUNCTUATION = ".,;:)]}>\\"
_NAME_REACH = 64


def _name_start(text: str, end: int) -> int:
    start, floor = end, max(0, end - _NAME_REACH)
    while start > floor and text[start - 1] in _NAME_CHARS:
        start -= 1
    return start


def _at_line_start(text: str, pos: int) -> bool:
    floor = max(0, pos - _NAME_REACH)
    newline = text.rfind("\n", floor, pos)
    if newline < 0 and floor > 0:
        return False
    return _LINE_START_PREFIX.fullmatch(text, newline + 1, pos) is not None


def _unquoted_end(text: str, start: int, end: int, whole_line: bool) -> int:
    """Where an unquoted value stops: at the next pair, and else at the first blank unless the
    setting has a line to itself (env file, YAML, properties: `password: correct horse`)."""
    if whole_line:
        newline = text.find("\n", end)
        line_end = len(text) if newline < 0 else newline
        pair = _NEXT_PAIR.search(text, end, line_end)
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


def _kv_value(text: str, key_end: int, name: str, name_start: int) -> tuple[int, int] | None:
    match = _KV_VALUE.match(text, key_end)
    if match is None:
        return None
    whole_line = match.start(4) >= 0 and _at_line_start(text, name_start)
    start, end = _value_span(text, match, bare=4, whole_line=whole_line)
    value = text[start:end]
    if whole_line and _BLOCK_SCALAR.fullmatch(value):
        end = _block_scalar_end(text, end, name_start)
        return (start, end) if end > start + len(value) else None
    if _is_placeholder(value) or (name.endswith("pwd") and value[:1] in "/~"):
        return None
    return start, end


def _scan_key_values(text: str, lower: str) -> Iterator[_Span]:
    name_ends = sorted({m.end() for pattern in _KV_KEYWORDS for m in pattern.finditer(lower)})
    covered = 0
    for name_end in name_ends:
        # Skipping names inside a value already taken keeps "password=password=…" linear.
        if name_end <= covered:
            continue
        name_start = _name_start(lower, name_end)
        name = lower[name_start:name_end]
        if not name.endswith(_SECRET_NAMES) or name.endswith(_NOT_SECRET_NAMES):
            continue
        if lower.startswith("://", name_start - 3):
            continue  # https://x-access-token:…@host is a user name; url_password has it
        value = _kv_value(text, name_end, name, name_start)
        if value is not None:
            yield _span("password", *value)
            covered = value[1]


def _scan_flags(text: str, lower: str) -> Iterator[_Span]:
    if "--" not in text:
        return
    for flag in _FLAG.finditer(lower):
        if not flag.group(1).endswith(_FLAG_NAMES):
            continue
        value = _FLAG_VALUE.match(text, flag.end())
        if value is None:
            continue
        start, end = _value_span(text, value, bare=3, whole_line=False)
        if not _is_placeholder(text[start:end]):
            yield _span("password", start, end)


# --------------------------------------------------------------------------------------------
# Personal data, only on request
# --------------------------------------------------------------------------------------------

_EMAIL_DOMAIN = re.compile(r"@[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++")
_EMAIL_LOCAL_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-"
)
# Anchored on the first dot: digits are too common a first character for a fast search. The first
# octet is then read backwards.
_IPV4_TAIL = re.compile(r"\.[0-9]{1,3}+\.[0-9]{1,3}+\.[0-9]{1,3}+(?![0-9]|\.[0-9])")


def _scan_emails(text: str, _lower: str) -> Iterator[_Span]:
    for domain in _EMAIL_DOMAIN.finditer(text):
        tld = domain.group().rsplit(".", 1)[1]
        if len(tld) < 2 or not tld.isalpha():
            continue
        start, floor = domain.start(), max(0, domain.start() - 64)
        while start > floor and text[start - 1] in _EMAIL_LOCAL_CHARS:
            start -= 1
        if start < domain.start():
            yield _span("email", start, domain.end())


def _is_public_ipv4(address: str) -> bool:
    octets = [int(part) for part in address.split(".")]
    if any(octet > 255 for octet in octets):
        return False
    first, second = octets[0], octets[1]
    return not (
        first in (0, 10, 127)
        or first >= 224
        or (first == 100 and 64 <= second < 128)  # carrier-grade NAT
        or (first == 169 and second == 254)  # link-local
        or (first == 172 and 16 <= second < 32)
        or (first == 192 and second == 168)
        or (first == 198 and second in (18, 19))  # benchmarking
    )


def _scan_ips(text: str, _lower: str) -> Iterator[_Span]:
    for match in _IPV4_TAIL.finditer(text):
        start = match.start()
        while start > match.start() - 3 and start > 0 and text[start - 1].isdigit():
            start -= 1
        if start == match.start() or (start > 0 and text[start - 1] in "0123456789."):
            continue
        if _is_public_ipv4(text[start : match.end()]):
            yield _span("ip", start, match.end())


# --------------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------------

_SCANNERS: tuple[Callable[[str, str], Iterator[_Span]], ...] = (
    _scan_pem,
    _scan_aws,
    *(rule.scan for rule in _RULES),
    _scan_key_values,
    _scan_flags,
)
_PII_SCANNERS: tuple[Callable[[str, str], Iterator[_Span]], ...] = (_scan_emails, _scan_ips)
_MARKER = re.compile(r"\[REDACTED:[a-z_]++\]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lower(text: str) -> str:
    """A lowercased copy with the same offsets (str.lower turns 'İ' into two characters)."""
    lower = text.lower()
    return lower if len(lower) == len(text) else text.translate(_ASCII_LOWER)


def _without_markers(text: str, spans: list[_Span]) -> list[_Span]:
    """Drop spans that start inside one of our own markers: they are already redacted."""
    if "[REDACTED:" not in text:
        return spans
    markers = [(m.start(), m.end()) for m in _MARKER.finditer(text)]
    kept: list[_Span] = []
    index = 0
    for span in spans:
        while index < len(markers) and markers[index][1] <= span.start:
            index += 1
        if index == len(markers) or span.start < markers[index][0]:
            kept.append(span)
    return kept


_Claim = tuple[str, int, int]  # kind, start, end


def _merge(spans: list[_Span]) -> list[_Claim]:
    """Overlapping claims become one span, named by the earliest and most specific claim.

    Taking the union rather than dropping the loser means no detector's credential is ever
    left half-exposed by another's shorter match.
    """
    merged: list[_Claim] = []
    for span in spans:
        if merged and span.start < merged[-1][2]:
            kind, start, end = merged[-1]
            merged[-1] = (kind, start, max(end, span.end))
        else:
            merged.append((KINDS[span.rank], span.start, span.end))
    return merged


def _claims(text: str, pii: bool) -> list[_Claim]:
    lower = _ascii_lower(text)
    scanners = _SCANNERS + _PII_SCANNERS if pii else _SCANNERS
    spans = [span for scan in scanners for span in scan(text, lower) if span.end > span.start]
    spans.sort()
    return _merge(_without_markers(text, spans))


def _apply(text: str, claims: list[_Claim]) -> str:
    pieces: list[str] = []
    done = 0
    for kind, start, end in claims:
        pieces += (text[done:start], f"[REDACTED:{kind}]")
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _to_source(claims: list[_Claim], later: list[_Claim]) -> Iterator[_Span]:
    """Claims found in `_apply(text, claims)`, moved back to offsets in `text`."""
    # (start, end) of each marker in the redacted text, beside the (start, end) it replaced.
    table: list[tuple[int, int, int, int]] = []
    shift = 0
    for kind, start, end in claims:
        marker_start = start + shift
        marker_end = marker_start + len(kind) + len("[REDACTED:]")
        table.append((marker_start, marker_end, start, end))
        shift = marker_end - end

    def source(pos: int, *, is_end: bool) -> int:
        low, high = 0, len(table)  # find the last marker starting before pos
        while low < high:
            middle = (low + high) // 2
            if table[middle][0] < pos or (not is_end and table[middle][0] == pos):
                low = middle + 1
            else:
                high = middle
        if low == 0:
            return pos
        _, marker_end, start, end = table[low - 1]
        if pos < marker_end or (is_end and pos == marker_end):
            return end if is_end else start
        return end + pos - marker_end

    for kind, start, end in later:
        yield _span(kind, source(start, is_end=False), source(end, is_end=True))


# Redacting can expose a credential that a neighbour hid: in "1.0.0.0AKIA…" the digit before
# AKIA fails the key id's left boundary until the address becomes "…]". Looking again at the
# redacted text, and folding what turns up back into the findings, keeps `find_secrets` and
# `redact` in step and makes `redact` idempotent. Each round costs a scan; chains longer than
# this are contrived, and the bound keeps hostile input linear.
_MAX_ROUNDS = 4


def _settled_claims(text: str, pii: bool) -> list[_Claim]:
    claims = _claims(text, pii)
    for _ in range(_MAX_ROUNDS - 1):
        if not claims:
            break
        later = _claims(_apply(text, claims), pii)
        if not later:
            break
        spans = [_span(kind, start, end) for kind, start, end in claims]
        claims = _merge(sorted([*spans, *_to_source(claims, later)]))
    return claims


def find_secrets(text: str, *, pii: bool = False) -> list[Finding]:
    """Non-overlapping findings in order of start."""
    findings: list[Finding] = []
    line, counted_to = 1, 0
    for kind, start, end in _settled_claims(text, pii):
        line += text.count("\n", counted_to, start)
        counted_to = start
        findings.append(Finding(kind, start, end, line))
    return findings


def redact(text: str, *, pii: bool = False) -> tuple[str, dict[str, int]]:
    """The text with every finding replaced by [REDACTED:kind], and counts by kind."""
    claims = _settled_claims(text, pii)
    counts: dict[str, int] = {}
    for kind, _, _ in claims:
        counts[kind] = counts.get(kind, 0) + 1
    return (_apply(text, claims) if claims else text), counts


def summary(counts: dict[str, int]) -> str:
    """One line for stderr, e.g. 'redacted 3 secrets: 2 aws_key_id, 1 jwt' ('' when none)."""
    total = sum(counts.values())
    if total == 0:
        return ""
    ordered = sorted((kind for kind in counts if counts[kind]), key=lambda k: (-counts[k], k))
    noun = "secret" if total == 1 else "secrets"
    return f"redacted {total} {noun}: " + ", ".join(f"{counts[k]} {k}" for k in ordered)
