"""Credentials a single pattern cannot name alone: key blocks, AWS key pairs, JWTs, HTTP auth
headers and the passwords inside URLs and connection strings.

Each scanner yields ``(kind, start, end)`` and declares the keywords that wake it and the kinds
it can name (with their sample formats). The patterns keep the discipline of rules.py: a
literal first, possessive runs entered only at their left edge, anything more checked in Python.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from promptlib.redact.rules import (
    Kind,
    b64decode,
    lazy,
    longest_run,
    periodic,
    random_enough,
    runs,
)

if TYPE_CHECKING:
    import random
    from collections.abc import Callable, Iterator

Claim = tuple[str, int, int]  # kind, start, end

AUTH = "HTTP auth & tokens"
KEYS = "secret managers & key files"
CLOUD = "cloud & infrastructure"
CONN = "connection strings"


class Scanner(NamedTuple):
    keywords: tuple[str, ...]
    scan: Callable[[str, str], Iterator[Claim]]  # (text, lowercased text)
    kinds: tuple[Kind, ...]


def is_placeholder(value: str) -> bool:
    """A value that stands for a secret rather than being one: template and shell syntax, masks,
    flags and tiny numbers, SQL bind parameters, constant-style names, fillers (one or two
    characters, a short unit repeated), values marked as examples, and our own markers."""
    if _PLACEHOLDER().match(value.lower()) is not None or _reference(value):
        return True
    if len(value) < 4:
        return False
    if len(set(value)) <= 2 or "example" in value.lower() or _MASKED().search(value):
        return True
    # A long token-shaped value whose "random" part was filled in by hand (`ghp_ABCABC…`,
    # `00000000-0000-…`): generated secrets that long are never that uniform.
    run = longest_run(value)
    if len(run) >= 16 and not random_enough(run):
        return True
    return len(value) <= 512 and any(len(r) >= 8 and periodic(r, 4) for r in runs(value))


_MASKED = lazy(r"(.)\1{7}")  # `ghp_xxxxxxxx…`: eight of one character are typed, not drawn
_PLACEHOLDER = lazy(  # matched against the lowercased value
    r"""
      (?:\$\{|\$\(|\{|\[|<|%\(|%[a-z_]++%|\[redacted:)
    | \$[a-z_][a-z0-9_]*+$
    | (?:\$[0-9]++|\?|[:@][a-z_][a-z0-9_]*+|%s)$
    | [0-9]{1,3}$
    | [*x.\u2022#-]*+$
    | (?:true|false|null|none|nil|undefined|\|[-+]?|>[-+]?)$
    """,
    re.VERBOSE,
)
_CONSTANT = lazy(r"[A-Z][A-Z0-9]*+(?:_[A-Z0-9]++)++")


def _reference(value: str) -> bool:
    """`YOUR_API_KEY`, `DB_PASSWORD`: a constant's name stands for the value, in docs and
    configs alike; generated secrets are not upper-case words joined by underscores."""
    return _CONSTANT().fullmatch(value) is not None and not any(c.isdigit() for c in value)


# --------------------------------------------------------------------------------------------
# Private key blocks
# --------------------------------------------------------------------------------------------

_PEM_BEGIN = lazy(r"-----BEGIN([A-Z0-9 ]{0,40}?)PRIVATE KEY( BLOCK)?-----")
_PEM_END = lazy(r"-----END[A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----")
# Without an END line the key runs to the end of its base64 body: optional RFC 1421 / armor
# headers, full-width lines, then at most one short (last or truncated) line. Separators may be
# real newlines, JSON's "\n", or spaces (keys pasted onto one line).
_PEM_BODY = lazy(
    r"""
    (?:(?:\r?\n|(?:\\r)?+\\n)[ \t]*+[A-Za-z][A-Za-z0-9\-]*+:[ \t][^\r\n\\]*+)*+
    (?:(?:[ \t]|\r?\n|(?:\\r)?+\\n)*+[A-Za-z0-9+/=]{40,}+)*+
    (?:(?:[ \t]|\r?\n|(?:\\r)?+\\n)*+[A-Za-z0-9+/=]++)?+
    """,
    re.VERBOSE,
)


def _pem_kind(begin: re.Match[str]) -> str:
    label = begin.group(1).strip()
    if label == "OPENSSH":
        return "openssh_private_key"
    return "pgp_private_key" if begin.group(2) else "private_key"


def scan_pem(text: str, _lower: str) -> Iterator[Claim]:
    begins = list(_PEM_BEGIN().finditer(text))
    next_end: re.Match[str] | None = None
    searched_from, exhausted = -1, False
    for index, begin in enumerate(begins):
        next_begin = begins[index + 1].start() if index + 1 < len(begins) else len(text)
        # The next END line at or after this BEGIN, searched once per stretch of text.
        stale = next_end is None or next_end.start() < begin.end()
        if not exhausted and stale and begin.end() > searched_from:
            searched_from = begin.end()
            next_end = _PEM_END().search(text, begin.end())
            exhausted = next_end is None
        end = next_end if next_end is not None and next_end.start() >= begin.end() else None
        if end is not None and end.start() < next_begin:
            yield _pem_kind(begin), begin.start(), end.end()
        else:
            body = _PEM_BODY().match(text, begin.end(), next_begin)
            yield _pem_kind(begin), begin.start(), body.end() if body else begin.end()


def _pem_sample(label: str) -> Callable[[random.Random], str]:
    def sample(rng: random.Random) -> str:
        b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        lines = ["".join(rng.choice(b64) for _ in range(64)) for _ in range(5)]
        body = "\n".join(lines)
        return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"

    return sample


# --------------------------------------------------------------------------------------------
# AWS: the key id alone, and the 40-character secret only where context says it is one
# --------------------------------------------------------------------------------------------

# Access keys (AKIA long-term, ASIA temporary, ABIA/ACCA service bearer). The other unique-id
# prefixes (AIDA user, AROA role, …) name principals, are all over CloudTrail, and unlock nothing.
_AWS_KEY_ID = lazy(r"A(?:KIA|SIA|BIA|CCA)(?<![A-Za-z0-9]A...)[A-Z0-9]{16}(?![A-Za-z0-9])")
_AWS_SECRET_NAMED = lazy(
    r"""secret(?:_?access)?_?key["']?+[ \t]*+(?::=|=>|[:=])"""
    r"""[ \t]*+["']?+([a-z0-9/+]{40})(?![a-z0-9/+=])"""
)
_AWS_SECRET_SHAPE = lazy(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_SECRET_REACH = 100  # how far after a key id, on the same line, a bare secret is looked for


def _looks_like_aws_secret(token: str) -> bool:
    # A git SHA is 40 lowercase hex; a secret key is base64 with both cases.
    has_upper = any(c.isupper() for c in token)
    has_lower = any(c.islower() for c in token)
    return has_upper and has_lower and any(c.isdigit() or c in "/+" for c in token)


def scan_aws(text: str, lower: str) -> Iterator[Claim]:
    for match in _AWS_KEY_ID().finditer(text):
        if not random_enough(match.group()[4:]):
            continue  # AKIAIOSFODNN7EXAMPLE, the documentation's key
        yield "aws_key_id", match.start(), match.end()
        limit = min(len(text), match.end() + _AWS_SECRET_REACH)
        newline = text.find("\n", match.end(), limit)
        near = _AWS_SECRET_SHAPE().search(text, match.end(), limit if newline < 0 else newline)
        if near is not None and _looks_like_aws_secret(near.group()):
            yield "aws_secret", near.start(), near.end()
    for match in _AWS_SECRET_NAMED().finditer(lower):
        if random_enough(text[match.start(1) : match.end(1)]):
            yield "aws_secret", match.start(1), match.end(1)


# --------------------------------------------------------------------------------------------
# JWTs (a Kubernetes service-account token is one, named by its issuer)
# --------------------------------------------------------------------------------------------

_JWT = lazy(
    r"eyJ(?<![A-Za-z0-9_\-]eyJ)[A-Za-z0-9_\-]{7,}+\.ey[A-Za-z0-9_\-]{8,}+\.[A-Za-z0-9_\-]*+"
)


def scan_jwt(text: str, _lower: str) -> Iterator[Claim]:
    for match in _JWT().finditer(text):
        payload = b64decode(match.group().split(".")[1], urlsafe=True) or b""
        kind = "kubernetes_sa_token" if b"kubernetes" in payload else "jwt"
        yield kind, match.start(), match.end()


def _jwt_sample(issuer: str) -> Callable[[random.Random], str]:
    def sample(rng: random.Random) -> str:
        import base64  # noqa: PLC0415 - test and allow-check path only
        import json  # noqa: PLC0415

        def part(data: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        claims = {"iss": issuer, "sub": f"svc-{rng.randrange(10**6)}", "iat": rng.randrange(10**9)}
        sig = "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
            for _ in range(43)
        )
        return ".".join(
            [part({"alg": "RS256", "kid": str(rng.randrange(10**8))}), part(claims), sig]
        )

    return sample


# --------------------------------------------------------------------------------------------
# HTTP authorization: Basic, Bearer, and any other Authorization value
# --------------------------------------------------------------------------------------------

_BASIC = lazy(r"basic(?<![a-z0-9_]basic)[ \t]++([a-z0-9+/]{8,}+={0,2}+)(?![a-z0-9+/=])")
_BEARER = lazy(r"bearer(?<![a-z0-9_]bearer)[ \t]++([a-z0-9\-._~+/]{12,}+=*+)")
_AUTH_HEADER = lazy(
    r"""authorization["']?+[ \t]*+[:=][ \t]*+["']?+"""
    r"""(?:([a-z][a-z0-9\-]*+)[ \t]++)?+(?!\[redacted:)([^\s"',;]++)"""
)
_BARE_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "apikey"})


def scan_basic(text: str, lower: str) -> Iterator[Claim]:
    for match in _BASIC().finditer(lower):
        # "Basic configuration" is base64-shaped too; a credential decodes to printable user:pass.
        decoded = b64decode(text[match.start(1) : match.end(1)])
        if decoded and b":" in decoded and all(32 <= b < 127 for b in decoded):
            yield "basic_auth", match.start(1), match.end(1)


def _basic_sample(rng: random.Random) -> str:
    import base64  # noqa: PLC0415 - test and allow-check path only

    password = "".join(
        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%")
        for _ in range(16)
    )
    return base64.b64encode(f"svc-{rng.randrange(1000)}:{password}".encode()).decode()


def scan_bearer(text: str, lower: str) -> Iterator[Claim]:
    for match in _BEARER().finditer(lower):
        token = text[match.start(1) : match.end(1)]
        # "Bearer authentication" in prose is a word, not a token.
        shaped = any(c.isdigit() or c in "-._~+/=" for c in token) or (
            any(c.isupper() for c in token[1:]) and any(c.islower() for c in token)
        )
        if shaped and not is_placeholder(token):
            yield "bearer", match.start(1), match.end(1)


def scan_auth_header(text: str, lower: str) -> Iterator[Claim]:
    for match in _AUTH_HEADER().finditer(lower):
        value = text[match.start(2) : match.end(2)]
        # Digest carries a hash of the password, not the password; a lone scheme is no secret;
        # and "authorization: required" is prose: credentials carry digits or are long.
        if (match.group(1) or "") == "digest" or value.lower() in _BARE_SCHEMES:
            continue
        if (len(value) >= 20 or any(c.isdigit() for c in value)) and not is_placeholder(value):
            yield "auth_header", match.start(2), match.end(2)


# --------------------------------------------------------------------------------------------
# Passwords in URLs and connection URLs, named by scheme
# --------------------------------------------------------------------------------------------

# The password may hold a stray '@': greedy then back off to the last '@' of the authority,
# which is one pass since the scan stops at the first '/', '?', '#' or space.
_URL_PASSWORD = lazy(r"://[^\s:/@?#\[\]]*+:(?!\[REDACTED:)([^\s/?#]+)@")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-:")
SCHEME_KINDS = {
    "postgres": "postgres_password",
    "postgresql": "postgres_password",
    "mysql": "mysql_password",
    "mariadb": "mysql_password",
    "mongodb": "mongodb_password",
    "mongodb+srv": "mongodb_password",
    "redis": "redis_password",
    "rediss": "redis_password",
    "amqp": "amqp_password",
    "amqps": "amqp_password",
    "ftp": "ftp_password",
    "sftp": "ftp_password",
    "smtp": "smtp_password",
    "smtps": "smtp_password",
    "ldap": "ldap_password",
    "ldaps": "ldap_password",
}


def _url_kind(lower: str, colon: int) -> str:
    start = colon
    while start > max(0, colon - 40) and lower[start - 1] in _SCHEME_CHARS:
        start -= 1
    scheme = lower[start:colon]
    if scheme.startswith("jdbc:"):
        return "jdbc_password"
    return SCHEME_KINDS.get(scheme.rsplit(":", 1)[-1], "url_password")


def scan_url_password(text: str, lower: str) -> Iterator[Claim]:
    for match in _URL_PASSWORD().finditer(text):
        if not is_placeholder(match.group(1)):
            yield _url_kind(lower, match.start()), match.start(1), match.end(1)


def _url_sample(scheme: str) -> str:
    return scheme + "://svc_{l:6}:{a:20}@db-{l:4}.internal:5432/orders"


_URL_KINDS = {kind: scheme for scheme, kind in reversed(SCHEME_KINDS.items())}

SCANNERS: tuple[Scanner, ...] = (
    Scanner(
        ("-----begin",),
        scan_pem,
        (
            Kind("private_key", KEYS, _pem_sample("RSA PRIVATE KEY")),
            Kind("openssh_private_key", KEYS, _pem_sample("OPENSSH PRIVATE KEY")),
            Kind("pgp_private_key", KEYS, _pem_sample("PGP PRIVATE KEY BLOCK")),
        ),
    ),
    Scanner(
        ("akia", "asia", "abia", "acca", "secret"),
        scan_aws,
        (
            Kind("aws_key_id", CLOUD, "AKIA{u:16}"),
            Kind("aws_secret", CLOUD, "{b:40}", alone=False),
        ),
    ),
    Scanner(
        ("eyj",),
        scan_jwt,
        (
            Kind("kubernetes_sa_token", AUTH, _jwt_sample("kubernetes/serviceaccount")),
            Kind("jwt", AUTH, _jwt_sample("https://login.acme.example")),
        ),
    ),
    Scanner(("basic",), scan_basic, (Kind("basic_auth", AUTH, _basic_sample, alone=False),)),
    Scanner(("bearer",), scan_bearer, (Kind("bearer", AUTH, "{w:40}", alone=False),)),
    Scanner(
        ("authorization",), scan_auth_header, (Kind("auth_header", AUTH, "{a:40}", alone=False),)
    ),
    Scanner(
        ("://",),
        scan_url_password,
        tuple(
            Kind(kind, CONN, _url_sample(scheme), alone=False)
            for kind, scheme in {
                **_URL_KINDS,
                "jdbc_password": "jdbc:postgresql",
                "url_password": "https",
            }.items()
        ),
    ),
)
