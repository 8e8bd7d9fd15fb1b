"""Allow-lists: values and patterns a team (in its collection's ``.promptlib/redact.yaml``) or a
user (``redact: allow:`` in config.yaml) knows to be safe, so that redaction leaves them alone.

    allow:
      - value: AKIAIOSFODNN7EXAMPLE        # one literal value, exempt wherever it occurs
      - regex: "^test-fixture-[0-9a-f]{8}$"  # a pattern searched in each finding's text
      - "^build-[0-9]+$"                   # a bare string is a pattern

An allow entry can never exempt a whole credential shape: a pattern that matches a generated
sample of any kind (from the kind's documented format, as the corpus is built) is refused with
the kind it would hide, and so is a pattern with a nested quantifier, which could make the
check itself slow. A bad entry is an error naming the file and the entry, never skipped.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from promptlib.errors import InvalidError

if TYPE_CHECKING:
    from collections.abc import Iterable

_SAMPLES_PER_KIND = 3
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]")


class AllowList(NamedTuple):
    values: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    def permits(self, secret: str) -> bool:
        return secret in self.values or any(p.search(secret) for p in self.patterns)

    def __or__(self, other: object) -> AllowList:
        if not isinstance(other, AllowList):
            return NotImplemented
        return AllowList(self.values | other.values, self.patterns + other.patterns)


EMPTY = AllowList(frozenset(), ())


def parse(data: object, source: str) -> AllowList:
    """The allow-list in `data` (the `allow:` list); `source` names the file in errors."""
    if data is None:
        return EMPTY
    if not isinstance(data, list):
        raise InvalidError(f"{source}: allow: must be a list of values and patterns")
    values: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for number, entry in enumerate(data, 1):
        where = f"{source}: allow entry {number}"
        if isinstance(entry, dict) and set(entry) == {"value"} and isinstance(entry["value"], str):
            values.add(entry["value"])
        elif isinstance(entry, str) or (
            isinstance(entry, dict) and set(entry) == {"regex"} and isinstance(entry["regex"], str)
        ):
            patterns.append(_checked(entry if isinstance(entry, str) else entry["regex"], where))
        else:
            raise InvalidError(f"{where}: expected a string, {{value: …}} or {{regex: …}}")
    return AllowList(frozenset(values), tuple(patterns))


def _checked(source: str, where: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(source)
    except re.error as exc:
        raise InvalidError(f"{where}: {source!r} is not a valid regex ({exc})") from None
    if _NESTED_QUANTIFIER.search(source):
        raise InvalidError(f"{where}: {source!r} nests a quantifier; write it without one")
    covered = covered_kind(pattern)
    if covered is not None:
        raise InvalidError(
            f"{where}: {source!r} would allow real {covered} credentials (it matches a "
            "generated one); allow one value, or an anchored pattern that matches no credential"
        )
    return pattern


def covered_kind(pattern: re.Pattern[str]) -> str | None:
    """The first credential kind (personal data aside) one of whose generated samples the
    pattern matches, or None."""
    for kind, sample in _samples():
        if pattern.search(sample):
            return kind
    return None


_SAMPLES: list[tuple[str, str]] = []


def _samples() -> list[tuple[str, str]]:
    """A few samples of every credential kind, generated once per process from the kinds'
    documented formats with a fixed seed: the same entry is always judged the same way."""
    if not _SAMPLES:
        import random  # noqa: PLC0415 - only when an allow-list holds patterns

        from promptlib.redact.registry import KIND_INFO, PII_KINDS  # noqa: PLC0415 - the same
        from promptlib.redact.rules import sample_of_kind  # noqa: PLC0415 - the same

        rng = random.Random(20260501)  # noqa: S311 - samples to test against, not secrets
        _SAMPLES.extend(
            (kind.name, sample_of_kind(kind, rng))
            for kind in KIND_INFO
            if kind.name not in PII_KINDS
            for _ in range(_SAMPLES_PER_KIND)
        )
    return _SAMPLES


def parse_file(text: str, source: str) -> AllowList:
    """The allow-list of one YAML file's text (`allow:` at its top)."""
    import yaml  # noqa: PLC0415 - only when there is a file

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise InvalidError(f"{source}: not valid YAML: {exc}") from None
    if data is None:
        return EMPTY
    if not isinstance(data, dict) or set(data) - {"allow"}:
        raise InvalidError(f"{source}: expected a mapping with one key, allow:")
    return parse(data.get("allow"), source)


def combine(lists: Iterable[AllowList]) -> AllowList | None:
    """One allow-list of several; None when they are all empty (the fast path)."""
    total = EMPTY
    for allow in lists:
        total = total | allow
    return total if (total.values or total.patterns) else None
