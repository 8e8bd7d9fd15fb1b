"""Every detector in one place, in rank order, with the kinds they name.

The order of `KINDS` decides which kind names a span several detectors claim (the earlier, the
more specific): key blocks, then AWS, then the self-identifying tokens of the two tables, then
JWTs, HTTP auth, passwords in URLs, vendor-named settings, settings named secret, personal data.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from promptlib.redact import keyvalues, pii
from promptlib.redact.patterns import AI_RULES, CLOUD_RULES, PACKAGE_RULES, SOURCE_RULES
from promptlib.redact.prefilter import KeywordIndex
from promptlib.redact.rules import Kind, Rule
from promptlib.redact.services import (
    CHAT_RULES,
    KEY_RULES,
    OBS_RULES,
    PAY_RULES,
    SAAS_RULES,
)
from promptlib.redact.structured import SCANNERS, Scanner
from promptlib.redact.vendors import VENDORS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from promptlib.redact.structured import Claim

RULES: tuple[Rule, ...] = (
    *KEY_RULES,
    *SOURCE_RULES,
    *PACKAGE_RULES,
    *CLOUD_RULES,
    *AI_RULES,
    *CHAT_RULES,
    *SAAS_RULES,
    *PAY_RULES,
    *OBS_RULES,
)
_NAMED = "named by their setting"
_CONN = "connection strings"
CONTEXT_SCANNERS: tuple[Scanner, ...] = (
    Scanner(
        keyvalues.TAILS,
        keyvalues.scan_key_values,
        (
            *(Kind(v.kind, v.family, v.sample, alone=False) for v in VENDORS),
            Kind("password", _NAMED, "{a:8-24}", alone=False),
            Kind("odbc_password", _CONN, "{a:16}", alone=False),
            Kind("connection_string_password", _CONN, "{a:16}", alone=False),
        ),
    ),
    Scanner(("--",), keyvalues.scan_flags, ()),
    Scanner(("-p",), keyvalues.scan_dash_p, ()),
    Scanner(("-u",), keyvalues.scan_user_flag, ()),
)
ALL_SCANNERS: tuple[Scanner, ...] = (*SCANNERS, *CONTEXT_SCANNERS)
PII_SCANS: tuple[Callable[[str, str], Iterator[Claim]], ...] = pii.SCANS


def _kinds() -> tuple[Kind, ...]:
    pem, aws, jwt, basic, bearer, header, urls = SCANNERS
    ordered: list[Kind] = [*pem.kinds, *aws.kinds]
    for rule in RULES:
        ordered.append(Kind(rule.kind, rule.family, rule.sample, rule.alone))
    for scanner in (jwt, basic, bearer, header, urls, *CONTEXT_SCANNERS):
        ordered.extend(scanner.kinds)
    ordered.extend(pii.KINDS)
    seen: dict[str, Kind] = {}
    for kind in ordered:
        seen.setdefault(kind.name, kind)
    return tuple(seen.values())


KIND_INFO: tuple[Kind, ...] = _kinds()
KINDS: tuple[str, ...] = tuple(kind.name for kind in KIND_INFO)
PII_KINDS = frozenset(kind.name for kind in pii.KINDS)
RANK = {kind: rank for rank, kind in enumerate(KINDS)}

# keyword -> the indexes of the rules it wakes; rules without a keyword always run.
_BY_KEYWORD: dict[str, list[int]] = {}
ALWAYS: tuple[int, ...] = tuple(i for i, rule in enumerate(RULES) if not rule.keywords)
for _index, _rule in enumerate(RULES):
    for _word in _rule.keywords:
        _BY_KEYWORD.setdefault(_word, []).append(_index)
INDEX = KeywordIndex(
    set(_BY_KEYWORD) | {w for s in (*SCANNERS, *CONTEXT_SCANNERS) for w in s.keywords}
)
_COMPILED: dict[int, re.Pattern[str]] = {}


def rules_for(present: set[str]) -> list[int]:
    """Indexes of the rules one of whose keywords is present, in table order."""
    chosen = set(ALWAYS)
    for word in present:
        chosen.update(_BY_KEYWORD.get(word, ()))
    return sorted(chosen)


def pattern(index: int) -> re.Pattern[str]:
    """The rule's compiled pattern, compiled the first time it is needed."""
    compiled = _COMPILED.get(index)
    if compiled is None:
        compiled = _COMPILED[index] = re.compile(RULES[index].regex)
    return compiled
