"""A generated corpus per credential kind: positives alone and in context, negatives beside them.

Every value is generated here, from a seeded RNG and each kind's documented format (the sample
template the detector's registry carries), so the repository holds nothing a secret scanner
would flag and nothing copied from another project's fixtures.

    corpus = build(seed=10, per_kind=40)
    corpus.cases      # [Case(kind, mode, text, secret)], mode: "alone" | "context" | "negative"

A positive case is found when one finding covers the whole secret. A negative case is a false
positive when anything in it is found.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from promptlib.redact.registry import KIND_INFO, PII_KINDS
from promptlib.redact.rules import ALPHABETS, Kind, fill, sample_of_kind
from promptlib.redact.vendors import VENDORS

_HOLE = re.compile(r"\{([A-Za-z0-9]):(\d+)(?:-(\d+))?\}")
_URL_KINDS = re.compile(r"_password$")
_VENDOR_KEYS = {v.kind: v.key for v in VENDORS}


@dataclass(frozen=True)
class Case:
    kind: str
    mode: str  # alone | context | negative
    text: str
    secret: str  # "" for negatives


@dataclass
class KindCorpus:
    cases: list[Case] = field(default_factory=list)


def _stamp(rng: random.Random) -> str:
    return f"2026-05-{rng.randrange(1, 29):02d}T0{rng.randrange(10)}:{rng.randrange(60):02d}:00Z"


ALONE = (
    "{ts} INFO worker-{n} loaded credential {s} from cache",
    "{ts} WARN request failed for {s}: 401",
    "{s}",
    "  - '{s}'",
    'value ["{s}"] rejected.',
    "<td>{s}</td>",
)
CONTEXT = (
    "export {VAR}={s}",
    '{{"{key}": "{s}", "region": "eu-west-1"}}',
    "  {key}: {s}",
    "{VAR}='{s}' ./deploy.sh --env prod",
    "{ts} DEBUG config loaded {key}={s} retries=3",
)


def _var(kind: Kind) -> str:
    return _VENDOR_KEYS.get(kind.name, kind.name.upper().replace("-", "_") + "_TOKEN")


# Kinds with no name of their own, in the settings and headers that carry them.
_SPECIAL_CONTEXTS = {
    "basic_auth": ("Authorization: Basic {s}", "curl -H 'authorization: basic {s}' x"),
    "bearer": ("Authorization: Bearer {s}", '{{"headers": {{"Authorization": "Bearer {s}"}}}}'),
    "auth_header": ("Authorization: token {s}", "authorization={s}"),
    "aws_secret": ("aws_secret_access_key = {s}", '"SecretAccessKey": "{s}"'),
    "odbc_password": ("Driver={{ODBC Driver 18}};Server=db01;Uid=sa;Pwd={s};Encrypt=yes",),
    "connection_string_password": (
        "Server=tcp:db01,1433;Database=orders;User Id=app;Password={s};",
    ),
    "password": ("DB_PASSWORD={s}", '{{"password": "{s}"}}', "psql --password {s}",
                 "mysql -u root -p{s} orders"),
}


def _context_lines(kind: Kind, secret: str, rng: random.Random) -> list[str]:
    """Lines that hold `secret` in the context a kind of its family usually has."""
    special = _SPECIAL_CONTEXTS.get(kind.name)
    if special is not None:
        return [template.format(s=secret) for template in special]
    if kind.family == "connection strings":
        return [f"DATABASE_URL={secret}", f"{_stamp(rng)} connecting to {secret} ..."]
    var = _var(kind)
    lines = [t.format(VAR=var, key=var.lower(), s=secret, ts=_stamp(rng)) for t in CONTEXT]
    if kind.alone and "\n" not in secret:
        lines.append(f"curl -H 'Authorization: Bearer {secret}' https://api.internal/v1")
    return lines


def _planted(kind: Kind, value: str) -> str:
    """The part of a sample that is the secret: the password of a URL sample, else all."""
    if kind.family == "connection strings" and "://" in value:
        return value.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    return value


def _template(kind: Kind) -> str | None:
    return None if callable(kind.sample) else kind.sample


def _fill_with(template: str, make: object) -> str:
    def one(hole: re.Match[str]) -> str:
        length = int(hole.group(3) or hole.group(2))
        return make(hole.group(1), length)  # type: ignore[operator]

    return _HOLE.sub(one, template)


def negatives(kind: Kind, rng: random.Random) -> list[str]:
    """Look-alikes of one kind: its shape with a masked, repeated or example body, and its
    usual settings holding placeholders."""
    out: list[str] = []
    template = _template(kind)
    if template is not None and _HOLE.search(template):
        out.append(_fill_with(template, lambda a, n: ("x" if "x" in ALPHABETS[a] else
                                                       ALPHABETS[a][0]) * n))
        out.append(_fill_with(template, lambda a, n: (ALPHABETS[a][:3] * n)[:n]))

        longest = max(int(h.group(3) or h.group(2)) for h in _HOLE.finditer(template))
        if longest >= 8:
            marks = iter([True])  # only the longest hole carries the mark

            def marked(a: str, n: int) -> str:
                body = fill(f"{{{a}:{n}}}", rng)
                return body[: n - 7] + "EXAMPLE" if n == longest and next(marks, False) else body

            out.append(_fill_with(template, marked))
    var = _var(kind)
    out += [f"{var}={shape}" for shape in out]  # the same look-alikes in their setting
    for placeholder in ("<your-token-here>", "${" + var + "}", "{{ " + var.lower() + " }}",
                        "********", "YOUR_API_KEY", "xxxxxxxxxxxxxxxx", "$" + var, "null"):
        out.append(f"{var}={placeholder}")
    out.append(f'{{"{var.lower()}": "<{var.lower()}>"}}')
    return out


GENERAL_NEGATIVES_PER_SHAPE = 40


def general_negatives(rng: random.Random) -> list[str]:
    """Ordinary log content that looks random: the things a detector must leave alone."""

    def r(template: str) -> str:
        return fill(template, rng)

    shapes = (
        "request_id={h:8}-{h:4}-4{h:3}-a{h:3}-{h:12} status=200",
        "commit {h:40} Merge pull request #{d:4}",
        "image registry.internal/api@sha256:{h:64}",
        "trace_id={h:32} span_id={h:16} parent={h:16}",
        "payload={b:64}==",
        "event={w:86}",
        "etag W/\"{h:32}\"",
        "pod api-{l:10}-{l:5} OOMKilled",
        "ulid {u:26} queued",
        "integrity sha512-{b:86}==",
        "x-amz-request-id: {u:16} x-amz-id-2: {b:76}=",
        "session cookie sid={h:64}; Path=/; HttpOnly",
        "docker run -p 8080:80 -p 443:443 nginx:1.{d:2}",
        "kubectl logs -p api-{l:9}-{l:5} --tail=100",
        "GET /v1/orders?page_token={w:24}&limit=50 200",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{b:43} ops@bastion",
        "Successfully built {h:12}",
        "password_changed=true token_ttl=3600 secret_name=app-creds",
        "md5 {h:32} sha1 {h:40}",
        "{d:10}:{d:6} cursor advanced",
    )
    return [r(shape) for shape in shapes for _ in range(GENERAL_NEGATIVES_PER_SHAPE)]


def build(seed: int = 10, per_kind: int = 40) -> KindCorpus:
    rng = random.Random(seed)
    corpus = KindCorpus()
    for kind in KIND_INFO:
        if kind.name in PII_KINDS:
            continue
        for index in range(per_kind):
            value = sample_of_kind(kind, rng)
            secret = _planted(kind, value)
            if kind.alone:
                line = ALONE[index % len(ALONE)].format(s=value, ts=_stamp(rng), n=index)
                corpus.cases.append(Case(kind.name, "alone", line, secret))
            lines = _context_lines(kind, value, rng)
            corpus.cases.append(Case(kind.name, "context", lines[index % len(lines)], secret))
        for text in negatives(kind, rng):
            corpus.cases.append(Case(kind.name, "negative", text, ""))
    for text in general_negatives(rng):
        corpus.cases.append(Case("(ordinary log content)", "negative", text, ""))
    return corpus
