"""A deterministic corpus of ordinary operations logs with credentials planted at known places.

Everything credential-shaped is built at run time from a seeded RNG, so the repository itself holds
no string a secret scanner would flag. The ordinary lines are chosen to look like the things a
naive detector gets wrong: UUIDs, git SHAs, sha256 digests, container ids, trace and span ids,
base64 payloads (including base64 of JSON, which starts with "eyJ"), pod names, ARNs, S3 paths,
private IPs, timestamps, and log messages that mention passwords and tokens without holding one.

    corpus = generate(lines=4000, seed=7)
    corpus.text            # the log, "\\n"-joined
    corpus.planted         # [Planted(kind, start, end, line, secret)], secret == text[start:end]
    corpus.email_lines     # lines holding an email address (found only with pii=True)
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
LOWER_DIGITS = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"


@dataclass(frozen=True)
class Planted:
    kind: str
    start: int  # offsets into Corpus.text of the whole credential
    end: int
    line: int  # 1-based line of start
    secret: str


@dataclass
class Corpus:
    lines: list[str] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)
    email_lines: set[int] = field(default_factory=set)
    _length: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def add(self, line: str) -> None:
        self._length += len(line) + (1 if self.lines else 0)
        self.lines.append(line)

    def add_planted(self, kind: str, before: str, secret: str, after: str) -> None:
        """Append lines `before + secret + after` (may span lines) and record the secret."""
        offset = self._length + (1 if self.lines else 0)
        start = offset + len(before)
        line = len(self.lines) + 1 + before.count("\n")
        self.planted.append(Planted(kind, start, start + len(secret), line, secret))
        for part in (before + secret + after).split("\n"):
            self.add(part)


class _Gen:
    """Realistic values, all from one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mixed(self, alphabet: str, n: int) -> str:
        """Random, but certain to hold an upper, a lower and a digit (as generated keys do)."""
        while True:
            token = self.chars(alphabet, n)
            if (
                any(c.isupper() for c in token)
                and any(c.islower() for c in token)
                and any(c.isdigit() for c in token)
            ):
                return token

    def uuid(self) -> str:
        h = self.chars(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def private_ip(self) -> str:
        r = self.rng
        return r.choice(
            [
                f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
                f"172.{r.randrange(16, 32)}.{r.randrange(256)}.{r.randrange(1, 255)}",
                f"192.168.{r.randrange(256)}.{r.randrange(1, 255)}",
                f"127.0.0.{r.randrange(1, 255)}",
            ]
        )

    def timestamp(self) -> str:
        r = self.rng
        return (
            f"2024-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}T{r.randrange(24):02d}:"
            f"{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d}Z"
        )

    def pod(self) -> str:
        app = self.rng.choice(["api", "worker", "task-runner", "disk-monitor", "checkout", "web"])
        return f"{app}-{self.chars(LOWER_DIGITS, 9)}-{self.chars(LOWER_DIGITS, 5)}"

    def word(self) -> str:
        return self.rng.choice(
            ["orders", "payments", "users", "inventory", "search", "billing", "auth", "sessions"]
        )


# ---------------------------------------------------------------------------------------------
# Ordinary lines
# ---------------------------------------------------------------------------------------------


def _nginx(g: _Gen) -> str:
    r = g.rng
    path = r.choice(
        [
            f"/api/v1/{g.word()}/{g.uuid()}",
            f"/api/v1/{g.word()}?page={r.randrange(1, 50)}&sort=desc"
            f"&page_token={g.chars(B64URL, 24)}",
            "/healthz",
            f"/static/js/app.{g.chars(HEX, 8)}.js",
            f"/login?next=%2F{g.word()}",
        ]
    )
    status = r.choice([200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 502])
    return (
        f"{g.private_ip()} - - [12/Mar/2024:{r.randrange(24):02d}:{r.randrange(60):02d}:"
        f'{r.randrange(60):02d} +0000] "{r.choice(["GET", "POST", "PUT"])} {path} HTTP/1.1" '
        f'{status} {r.randrange(100, 90000)} "-" "Mozilla/5.0 (X11; Linux x86_64) '
        f'AppleWebKit/537.36" rt={r.random():.3f} request_id={g.chars(HEX, 32)}'
    )


def _k8s(g: _Gen) -> str:
    r = g.rng
    pod = g.pod()
    digest = g.chars(HEX, 64)
    return r.choice(
        [
            f"{g.timestamp()} Normal Scheduled pod/{pod} Successfully assigned prod/{pod} to "
            f"ip-{g.private_ip().replace('.', '-')}.ec2.internal",
            f"{g.timestamp()} Normal Pulled pod/{pod} Container image "
            f'"registry.internal:5000/{g.word()}@sha256:{digest}" already present on machine',
            f"{g.timestamp()} Warning BackOff pod/{pod} Back-off restarting failed container",
            f"{g.timestamp()} Warning FailedMount pod/{pod} MountVolume.SetUp failed for volume "
            f'"default-token-{g.chars(LOWER_DIGITS, 5)}" : secret '
            f'"default-token-{g.chars(LOWER_DIGITS, 5)}" not found',
            f"{g.timestamp()} Normal Started pod/{pod} Started container {g.word()} "
            f"containerID=containerd://{g.chars(HEX, 64)}",
            f"{g.timestamp()} Normal Killing pod/{pod} Stopping container {g.word()}",
        ]
    )


def _java(g: _Gen) -> str:
    r = g.rng
    cls = r.choice(["OrderService", "PaymentGateway", "TokenRefresher", "SessionStore"])
    return r.choice(
        [
            f"\tat com.example.{g.word()}.{cls}.handle({cls}.java:{r.randrange(20, 900)})",
            "\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker("
            "ThreadPoolExecutor.java:1136)",
            f"Caused by: java.lang.IllegalStateException: Token expired for session {g.uuid()}",
            "org.springframework.security.authentication.BadCredentialsException: Bad credentials",
            f"{g.timestamp()} ERROR [{g.word()}-pool-{r.randrange(8)}] "
            f"c.e.{g.word()}.{cls} - password reset failed for user_id={g.uuid()}",
            f"\t... {r.randrange(3, 60)} common frames omitted",
        ]
    )


def _json_log(g: _Gen) -> str:
    r = g.rng
    record: dict[str, object] = {
        "ts": g.timestamp(),
        "level": r.choice(["info", "debug", "warn", "error"]),
        "msg": r.choice(
            [
                "request completed",
                "token refreshed",
                "password changed",
                "cache miss",
                "missing bearer token",
                "basic auth disabled for this route",
            ]
        ),
        "trace_id": g.chars(HEX, 32),
        "span_id": g.chars(HEX, 16),
        "request_id": g.uuid(),
        "user_id": g.uuid(),
        "duration_ms": r.randrange(1, 5000),
    }
    choice = r.randrange(4)
    if choice == 0:
        record["payload"] = base64.b64encode(r.randbytes(r.randrange(16, 120))).decode()
    elif choice == 1:
        inner = json.dumps({"order": g.uuid(), "qty": r.randrange(9)}).encode()
        record["event"] = base64.b64encode(inner).decode()  # starts "eyJ", has no dots
    elif choice == 2:
        record["password_changed"] = r.choice([True, False])
        record["token_ttl"] = 3600
    else:
        record["next_token"] = g.chars(B64URL, 40)
    return json.dumps(record)


def _git(g: _Gen, corpus: Corpus) -> str:
    r = g.rng
    kind = r.randrange(4)
    if kind == 0:
        return f"commit {g.chars(HEX, 40)}"
    if kind == 1:
        corpus.email_lines.add(len(corpus.lines) + 1)
        name = r.choice(["Jane Doe", "Ravi Kumar", "Li Wei"])
        return f"Author: {name} <{name.split()[0].lower()}@example.com>"
    if kind == 2:
        return f"    Fix token refresh race in {g.word()} (#{r.randrange(100, 9999)})"
    return f"{g.chars(HEX, 40)} refs/heads/release-{r.randrange(1, 9)}.{r.randrange(20)}"


def _docker(g: _Gen) -> str:
    r = g.rng
    return r.choice(
        [
            f"Digest: sha256:{g.chars(HEX, 64)}",
            f"Status: Downloaded newer image for registry.internal:5000/{g.word()}"
            f":1.{r.randrange(40)}.0",
            f'{g.chars(HEX, 12)}   {g.word()}:latest   "/entrypoint.sh"   2 hours ago   Up 2 hours',
            f"{g.chars(HEX, 64)}",
        ]
    )


def _aws(g: _Gen) -> str:
    r = g.rng
    account = g.chars(string.digits, 12)
    return r.choice(
        [
            f"arn:aws:iam::{account}:role/deploy-{g.word()}",
            f"s3://acme-{g.word()}-logs/2024/03/{r.randrange(1, 29):02d}"
            f"/part-{r.randrange(9999):04d}.gz",
            f"arn:aws:s3:::acme-{g.word()}/exports/{g.uuid()}.csv",
            f"{g.timestamp()} INFO assumed role arn:aws:sts::{account}:assumed-role/ci/{g.uuid()}",
            f"upload: ./build/app.zip to s3://acme-artifacts/{g.chars(HEX, 40)}/app.zip",
        ]
    )


def _syslog(g: _Gen) -> str:
    r = g.rng
    return r.choice(
        [
            f"Mar 12 10:{r.randrange(60):02d}:{r.randrange(60):02d} bastion "
            f"sshd[{r.randrange(9999)}]: Accepted publickey for deploy from {g.private_ip()} "
            f"port {r.randrange(1024, 65535)}"
            f" ssh2: ED25519 SHA256:{g.chars(B64, 43)}",
            f"Mar 12 10:{r.randrange(60):02d}:{r.randrange(60):02d} bastion "
            f"sshd[{r.randrange(9999)}]: Failed password for invalid user admin from "
            f"{g.private_ip()} port 22 ssh2",
            f'time={g.timestamp()} level=info msg="token refreshed" user={g.word()} '
            f"token_ttl=3600 duration=12ms span_id={g.chars(HEX, 16)}",
            f'time={g.timestamp()} level=warn msg="password_policy=strict rejected weak password"',
            f"redis://{g.private_ip()}:6379/0 connected; postgres://db.internal:5432/{g.word()}",
            f"GET https://api.example.com/v1/{g.word()}?page={r.randrange(9)}&limit=50 -> 200",
            f'  File "/app/{g.word()}/service.py", line {r.randrange(10, 500)}, in handle',
            "LOG:  execute <unnamed>: UPDATE users SET password = $1, updated_at = $2 "
            "WHERE id = $3",
            "DEBUG sql: SELECT id FROM api_tokens WHERE token = ? AND revoked = 0 "  # noqa: S608
            f"[{g.uuid()}]",
            f'time={g.timestamp()} level=error msg="request denied" authorization: required',
            f"{g.timestamp()} processed batch {g.uuid()} in {r.randrange(1, 999)}ms",
        ]
    )


def _ordinary(g: _Gen, corpus: Corpus) -> str:
    makers: list[Callable[[_Gen], str]] = [_nginx, _k8s, _java, _json_log, _docker, _aws, _syslog]
    index = g.rng.randrange(len(makers) + 1)
    return _git(g, corpus) if index == len(makers) else makers[index](g)


# ---------------------------------------------------------------------------------------------
# Planted credentials: (kind, text before, the credential, text after)
# ---------------------------------------------------------------------------------------------


def _pem_body(g: _Gen, lines: int) -> str:
    return "\n".join(g.chars(B64, 64) for _ in range(lines)) + "\n" + g.chars(B64, 20) + "=="


def _planters(g: _Gen) -> list[Callable[[], tuple[str, str, str, str]]]:
    r = g.rng
    ts = g.timestamp

    def basic() -> tuple[str, str, str, str]:
        raw = f"{g.word()}:{g.mixed(ALNUM, 14)}".encode()
        return "basic_auth", "Authorization: Basic ", base64.b64encode(raw).decode(), ""

    def pem() -> tuple[str, str, str, str]:
        label = r.choice(
            ["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"]
        )
        block = f"-----BEGIN {label}-----\n{_pem_body(g, r.randrange(3, 8))}\n-----END {label}-----"
        kind = "openssh_private_key" if label.startswith("OPENSSH") else "private_key"
        return kind, f"{ts()} loaded key:\n", block, ""

    def pem_truncated() -> tuple[str, str, str, str]:
        block = f"-----BEGIN RSA PRIVATE KEY-----\n{_pem_body(g, 4)}"
        return "private_key", "", block, f"\n{ts()} ERROR unexpected EOF reading key"

    return [
        lambda: ("aws_key_id", "export AWS_ACCESS_KEY_ID=", "AKIA" + g.chars(UPPER_DIGITS, 16), ""),
        lambda: ("aws_secret", "aws_secret_access_key = ", g.mixed(B64, 40), ""),
        lambda: (
            "github_pat",
            "git clone https://x-access-token:",
            "ghp_" + g.chars(ALNUM, 36),
            "@github.com/acme/app.git",
        ),
        lambda: (
            "github_fine_grained_pat",
            "GITHUB_TOKEN=",
            "github_pat_11" + g.chars(UPPER_DIGITS, 20) + "_" + g.chars(ALNUM, 59),
            "",
        ),
        lambda: (
            "gitlab_pat",
            'curl --header "PRIVATE-TOKEN: ',
            "glpat-" + g.chars(ALNUM + "-_", 20),
            '" https://gitlab.internal/api/v4/projects',
        ),
        lambda: ("npm_token", "//registry.npmjs.org/:_authToken=", "npm_" + g.chars(ALNUM, 36),
                 ""),
        lambda: (
            "slack_bot_token",
            f"{ts()} level=debug slack client init bot=",
            "xoxb-"
            + "-".join(g.chars(string.digits, 12) for _ in range(2))
            + "-"
            + g.chars(ALNUM, 24),
            "",
        ),
        lambda: (
            "slack_webhook",
            "POST ",
            "https://hooks.slack.com/services/T"
            + g.chars(UPPER_DIGITS, 8)
            + "/B"
            + g.chars(UPPER_DIGITS, 8)
            + "/"
            + g.chars(ALNUM, 24),
            " -> 200",
        ),
        lambda: ("stripe_secret_key", "Stripe.api_key = '", "sk_live_" + g.chars(ALNUM, 24), "'"),
        lambda: (
            "google_api_key",
            "GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key=",
            "AIza" + g.chars(ALNUM + "-_", 35),
            " 200",
        ),
        lambda: ("openai_key", "OPENAI_API_KEY=", "sk-proj-" + g.mixed(ALNUM + "-_", 48), ""),
        lambda: (
            "jwt",
            '{"level":"debug","msg":"token issued","jwt":"',
            "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIi" + g.chars(B64URL, 30) + "." + g.chars(B64URL, 43),
            '"}',
        ),
        lambda: ("bearer", "Authorization: Bearer ", g.mixed(ALNUM + "-._", 40), ""),
        basic,
        lambda: ("auth_header", "Authorization: token ", g.chars(HEX, 40), ""),
        lambda: (
            "postgres_password",
            "DATABASE_URL=postgres://app:",
            g.mixed(ALNUM, 16),
            "@db.internal:5432/orders",
        ),
        lambda: ("password", "spring.datasource.password=", g.mixed(ALNUM + "!#%", 14), ""),
        lambda: ("password", '{"user": "svc", "password": "', g.mixed(ALNUM, 18), '", "ok": 1}'),
        lambda: ("password", "  db_password: ", g.mixed(ALNUM, 18), ""),
        lambda: ("password", "export MYSQL_PWD=", g.mixed(ALNUM, 12), ""),
        lambda: ("password", "psql --password ", g.mixed(ALNUM, 12), " -h db.internal"),
        pem,
        pem_truncated,
    ]


def generate(lines: int = 4000, *, seed: int = 7, plant_every: int = 25) -> Corpus:
    """About `lines` lines, with one planted credential (cycling through the kinds) every
    `plant_every` lines; `plant_every=0` plants nothing."""
    g = _Gen(seed)
    corpus = Corpus()
    planters = _planters(g)
    while len(corpus.lines) < lines:
        if plant_every and len(corpus.lines) % plant_every == plant_every - 1:
            corpus.add_planted(*planters[len(corpus.planted) % len(planters)]())
        else:
            corpus.add(_ordinary(g, corpus))
    return corpus
