"""The kind names and the detectors that know a credential by its shape: the pattern table.

`redact.detector` runs these, with the setting detectors of `redact.keyvalues`, over the
text and merges what they claim. This module holds what every detector shares (the kinds in rank
order, `Span`, the placeholder test) and each detector whose pattern alone, or with a short check
of the match, says what it found. It is separate so that the table can be read, and grown, without
the merging machinery around it.

Kinds, in the order that decides which one names a span when several detectors claim it:

==================  =====================================================================
``private_key``     PEM/PGP private key block, BEGIN line through END line; without an END
                    line, through the end of the base64 body
``aws_key_id``      AKIA…/ASIA… access key ids (and ABIA/ACCA), 20 characters
``aws_secret``      40-character AWS secret, only after ``aws_secret_access_key``-like
                    names or on the same line shortly after an access key id
``github_token``    ghp_/gho_/ghu_/ghs_/ghr_ and github_pat_
``gitlab_token``    glpat- and the other gl…- token prefixes
``npm_token``       npm_ + 36 (npm access tokens, as in ``//registry…/:_authToken=``)
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
                    cursors (``next_token``, ``page_token``) (found in redact/keyvalues.py)
``email``           only with ``pii=True``
``ip``              public IPv4 addresses, only with ``pii=True``
==================  =====================================================================

Every pattern is written to run in linear time on Python's backtracking engine: each starts with a
literal (so ``re`` can skip ahead with its fast prefix search), runs of token characters are
matched possessively and are entered only at the left edge of the run (a look-behind right after
the literal), and anything that would need a second look is checked in Python on the match.
Every pattern is compiled once, when this module is imported.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

KINDS: tuple[str, ...] = (
    "private_key",
    "aws_key_id",
    "aws_secret",
    "github_token",
    "gitlab_token",
    "npm_token",
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


class Span(NamedTuple):
    start: int
    rank: int  # ties at one start go to the more specific kind
    end: int


def span(kind: str, start: int, end: int) -> Span:
    return Span(start, _RANK[kind], end)


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


def is_placeholder(value: str) -> bool:
    return _PLACEHOLDER.match(value.lower()) is not None


def _mixed(token: str) -> bool:
    """Upper, lower and digit together: true of generated keys, rare in names and words."""
    return (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )


def run_start(text: str, end: int, chars: frozenset[str], reach: int = 64) -> int:
    """Where the run of `chars` that ends at `end` starts, looking back at most `reach`
    characters: a setting's name before its `=`, an address's local part before its `@`."""
    start, floor = end, max(0, end - reach)
    while start > floor and text[start - 1] in chars:
        start -= 1
    return start


# --------------------------------------------------------------------------------------------
# Single-pattern detectors
# --------------------------------------------------------------------------------------------


class _Rule(NamedTuple):  # not a frozen dataclass: that costs ~0.5 ms more to import
    kind: str
    pattern: re.Pattern[str]
    group: int = 0
    # Case-insensitive rules run on an ASCII-lowercased copy of the text: re.IGNORECASE turns
    # off the literal-prefix search and costs ~8x on a megabyte of log.
    on_lower: bool = False
    accept: Callable[[str, re.Match[str]], bool] | None = None

    def scan(self, text: str, lower: str) -> Iterator[Span]:
        for match in self.pattern.finditer(lower if self.on_lower else text):
            if self.accept is None or self.accept(text, match):
                yield span(self.kind, match.start(self.group), match.end(self.group))


def _after_scheme(
    kind: str,
    scheme: str,
    token: str,
    accept: Callable[[str, re.Match[str]], bool],
    *,
    after: str = "",
) -> _Rule:
    """The token (group 1) after an HTTP auth scheme word, `Basic …` or `Bearer …`: matched on
    the lowercased copy, the scheme a whole word (the look-behind), then blanks, then the token."""
    pattern = re.compile(rf"{scheme}(?<![a-z0-9_]{scheme})[ \t]++({token}){after}")
    return _Rule(kind, pattern, group=1, on_lower=True, accept=accept)


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
    return not is_placeholder(value)


def _accept_url_password(text: str, match: re.Match[str]) -> bool:
    return not is_placeholder(_group_text(text, match, 1))


# Each pattern opens with a literal so that `re` jumps between occurrences of it; the negative
# look-behind placed after the literal stops a run of token characters from being entered at
# every offset, which is what would make "eyJeyJeyJ…" quadratic.
RULES: tuple[_Rule, ...] = (
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
        "npm_token",
        re.compile(r"npm_(?<![A-Za-z0-9_]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])"),
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
    _after_scheme(
        "basic_auth", "basic", r"[a-z0-9+/]{8,}+={0,2}+", _accept_basic, after=r"(?![a-z0-9+/=])"
    ),
    _after_scheme("bearer", "bearer", r"[a-z0-9\-._~+/]{12,}+=*+", _accept_bearer),
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


def scan_aws(text: str, lower: str) -> Iterator[Span]:
    for match in _AWS_KEY_ID.finditer(text):
        yield span("aws_key_id", match.start(), match.end())
        limit = min(len(text), match.end() + _AWS_SECRET_REACH)
        newline = text.find("\n", match.end(), limit)
        near = _AWS_SECRET_SHAPE.search(text, match.end(), limit if newline < 0 else newline)
        if near is not None and _looks_like_aws_secret(near.group()):
            yield span("aws_secret", near.start(), near.end())
    for match in _AWS_SECRET_NAMED.finditer(lower):
        yield span("aws_secret", match.start(1), match.end(1))


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


def scan_pem(text: str, _lower: str) -> Iterator[Span]:
    if "-----BEGIN" not in text:
        return
    begins = list(_PEM_BEGIN.finditer(text))
    ends = _NextEnd(text)
    for index, begin in enumerate(begins):
        next_begin = begins[index + 1].start() if index + 1 < len(begins) else len(text)
        end = ends.at_or_after(begin.end())
        if end is not None and end.start() < next_begin:
            yield span("private_key", begin.start(), end.end())
        else:
            body = _PEM_BODY.match(text, begin.end(), next_begin)
            yield span("private_key", begin.start(), body.end() if body else begin.end())


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


def scan_emails(text: str, _lower: str) -> Iterator[Span]:
    for domain in _EMAIL_DOMAIN.finditer(text):
        tld = domain.group().rsplit(".", 1)[1]
        if len(tld) < 2 or not tld.isalpha():
            continue
        start = run_start(text, domain.start(), _EMAIL_LOCAL_CHARS)
        if start < domain.start():
            yield span("email", start, domain.end())


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


def scan_ips(text: str, _lower: str) -> Iterator[Span]:
    for match in _IPV4_TAIL.finditer(text):
        start = match.start()
        while start > match.start() - 3 and start > 0 and text[start - 1].isdigit():
            start -= 1
        if start == match.start() or (start > 0 and text[start - 1] in "0123456789."):
            continue
        if _is_public_ipv4(text[start : match.end()]):
            yield span("ip", start, match.end())
