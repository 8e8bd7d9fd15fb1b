"""Personal data, only on request (``--redact-pii``): email addresses, public IPv4 and IPv6
addresses, phone numbers. Never credentials, so never a reason for `add` or `push` to refuse."""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptlib.redact.rules import Kind, lazy, run_start

if TYPE_CHECKING:
    from collections.abc import Iterator

    from promptlib.redact.structured import Claim

PII = "personal data (--redact-pii)"

_EMAIL_DOMAIN = lazy(r"@[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++")
_EMAIL_LOCAL_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-"
)
# Anchored on the first dot: digits are too common a first character for a fast search. The first
# octet is then read backwards.
_IPV4_TAIL = lazy(r"\.[0-9]{1,3}+\.[0-9]{1,3}+\.[0-9]{1,3}+(?![0-9]|\.[0-9])")
# A run of hex digits, colons and dots holding a colon; ipaddress decides what it is.
_IPV6 = lazy(r"(?<![0-9A-Za-z:.])[0-9A-Fa-f]{0,4}+:[0-9A-Fa-f:.]{2,}+(?![0-9A-Za-z])")
# E.164 (+ country code, 8 to 15 digits in all, common separators) and North American numbers.
_PHONE_INTL = lazy(r"\+(?<![0-9A-Za-z+]\+)[1-9][0-9 ()\-.]{6,20}+")
_PHONE_NANP = lazy(
    r"(?<![0-9A-Za-z.\-+])(?:\([2-9][0-9]{2}\)[ ]?|[2-9][0-9]{2}([ .\-]))"
    r"[2-9][0-9]{2}([ .\-])[0-9]{4}"
    r"(?![0-9A-Za-z]|[.\-][0-9])"
)

KINDS = (
    Kind("email", PII, "{L:6}.{L:5}@{L:7}.com"),
    Kind("ip", PII, "8.{d:1}.{d:1}.{d:1}"),
    Kind("ipv6", PII, "2a00:{h:4}:{h:4}:{h:4}::{h:3}"),
    Kind("phone", PII, "+44 20 {d:4} {d:4}"),
)


def scan_emails(text: str, _lower: str) -> Iterator[Claim]:
    for domain in _EMAIL_DOMAIN().finditer(text):
        tld = domain.group().rsplit(".", 1)[1]
        if len(tld) < 2 or not tld.isalpha():
            continue
        start = run_start(text, domain.start(), _EMAIL_LOCAL_CHARS)
        if start < domain.start():
            yield "email", start, domain.end()


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


def scan_ips(text: str, _lower: str) -> Iterator[Claim]:
    for match in _IPV4_TAIL().finditer(text):
        start = match.start()
        while start > match.start() - 3 and start > 0 and text[start - 1].isdigit():
            start -= 1
        if start == match.start() or (start > 0 and text[start - 1] in "0123456789."):
            continue
        if _is_public_ipv4(text[start : match.end()]):
            yield "ip", start, match.end()


def scan_ipv6(text: str, _lower: str) -> Iterator[Claim]:
    import ipaddress  # noqa: PLC0415 - only with --redact-pii, and only on a candidate

    for match in _IPV6().finditer(text):
        candidate = match.group()
        if candidate.count(":") < 2:
            continue
        if candidate.endswith(":") and not candidate.endswith("::"):
            candidate = candidate.rstrip(":")
        try:
            address = ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        mapped = address.ipv4_mapped
        public = _is_public_ipv4(str(mapped)) if mapped else address.is_global
        if public:
            yield "ipv6", match.start(), match.start() + len(candidate)


def scan_phones(text: str, _lower: str) -> Iterator[Claim]:
    for match in _PHONE_INTL().finditer(text):
        number = match.group().rstrip(" ()-.")
        digits = sum(c.isdigit() for c in number)
        if 8 <= digits <= 15 and "  " not in number:
            yield "phone", match.start(), match.start() + len(number)
    for match in _PHONE_NANP().finditer(text):
        first, second = match.group(1), match.group(2)
        if first is None or first == second:  # (415) 555-0132, 415-555-0132, 415.555.0132
            yield "phone", match.start(), match.end()


SCANS = (scan_emails, scan_ips, scan_ipv6, scan_phones)
