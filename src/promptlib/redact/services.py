"""Self-identifying credentials, part two: chat and email, SaaS, payments, observability,
secret managers and key files. Data only, like patterns.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptlib.redact.patterns import tok, toks
from promptlib.redact.rules import Rule, b64decode, body_random, random_enough, token

if TYPE_CHECKING:
    import random

_B62 = "[A-Za-z0-9]"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID_SAMPLE = "{h:8}-{h:4}-{h:4}-{h:4}-{h:12}"

CHAT = "chat & email"
SAAS = "SaaS & collaboration"
PAY = "payments & commerce"
OBS = "observability"
KEYS = "secret managers & key files"


def _url(kind: str, family: str, keyword: str, regex: str, sample: str) -> Rule:
    """A secret URL (a webhook): the whole URL is the credential."""
    return Rule(kind, family, (keyword,), regex, sample, check=lambda v: random_enough(v[-20:]))


def _decodes_to_digits(value: str) -> bool:
    """A Discord bot token's first part is the bot's numeric id in base64."""
    head = value.split(".", 1)[0]
    decoded = b64decode(head, urlsafe=True)
    return decoded is not None and decoded.isdigit() and len(decoded) >= 15


def _discord_sample(rng: random.Random) -> str:
    import base64  # noqa: PLC0415 - test and allow-check path only

    user_id = str(rng.randrange(10**17, 10**19)).encode()
    head = base64.urlsafe_b64encode(user_id).decode().rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return ".".join(
        [
            head,
            "".join(rng.choice(alphabet) for _ in range(6)),
            "".join(rng.choice(alphabet) for _ in range(38)),
        ]
    )


def _base64_pem(rng: random.Random) -> str:
    import base64  # noqa: PLC0415 - test and allow-check path only

    body = "".join(rng.choice("ABCDEFGHabcdefgh0123456789+/") for _ in range(120))
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
    return base64.b64encode(pem.encode()).decode()


def _putty_sample(rng: random.Random) -> str:
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    lines = ["".join(rng.choice(b64) for _ in range(64)) for _ in range(4)]
    return (
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ops@bastion\n"
        "Public-Lines: 2\n"
        + "\n".join(lines[:2])
        + "\nPrivate-Lines: 2\n"
        + "\n".join(lines[2:])
        + "\nPrivate-MAC: "
        + "".join(rng.choice("0123456789abcdef") for _ in range(64))
    )


CHAT_RULES: list[Rule] = [
    tok(
        "slack_bot_token",
        CHAT,
        "xoxb-",
        r"[0-9]{8,13}-[0-9]{8,13}-[A-Za-z0-9]{20,}+",
        "xoxb-{d:12}-{d:13}-{a:24}",
    ),
    tok(
        "slack_user_token",
        CHAT,
        "xoxp-",
        r"[0-9]{8,13}-[0-9]{8,13}-[0-9]{8,13}-[A-Za-z0-9]{20,}+",
        "xoxp-{d:12}-{d:12}-{d:13}-{h:32}",
    ),
    tok(
        "slack_app_token",
        CHAT,
        "xapp-",
        r"[0-9]-[A-Z0-9]{9,12}-[0-9]{10,13}-[a-z0-9]{32,}+",
        "xapp-1-{u:11}-{d:13}-{h:64}",
    ),
    tok(
        "slack_config_token",
        CHAT,
        "xoxe",
        r"(?:\.xox[bp])?+-[0-9]-[A-Za-z0-9]{40,}+",
        "xoxe.xoxp-1-{a:150}",
    ),
    *toks(
        "slack_legacy_token",
        CHAT,
        ("xoxa-", "xoxr-", "xoxs-", "xoxo-"),
        r"[A-Za-z0-9\-]{20,}+",
        "{P}{d:11}-{d:11}-{a:24}",
    ),
    _url(
        "slack_webhook",
        CHAT,
        "hooks.slack.com",
        r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{20,}+",
        "https://hooks.slack.com/services/T{u:10}/B{u:10}/{a:24}",
    ),
    _url(
        "discord_webhook",
        CHAT,
        "/api/webhooks/",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,}+",
        "https://discord.com/api/webhooks/{d:19}/{w:68}",
    ),
    Rule(
        "discord_bot_token",
        CHAT,
        (),  # no literal of its own, so it always runs; the decode check keeps it exact
        r"[MNO](?<![A-Za-z0-9_\-][MNO])[A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}"
        r"(?![A-Za-z0-9_\-])",
        _discord_sample,
        check=_decodes_to_digits,
    ),
    Rule(
        "telegram_bot_token",
        CHAT,
        (":aa",),
        r"(?<![0-9])[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])",
        "{d:10}:AA{w:33}",
        check=body_random(13),
    ),
    _url(
        "teams_webhook",
        CHAT,
        "webhook.office.com",
        r"https://[a-z0-9\-]++\.webhook\.office\.com/webhookb2/[A-Za-z0-9@\-]{40,}+"
        r"/IncomingWebhook/[a-f0-9]{32}/[A-Za-z0-9\-/]{36,}+",
        f"https://acme.webhook.office.com/webhookb2/{_UUID_SAMPLE}@{_UUID_SAMPLE}"
        f"/IncomingWebhook/{{h:32}}/{_UUID_SAMPLE}",
    ),
    tok("twilio_api_key", CHAT, "SK", "[0-9a-f]{32}", "SK{h:32}"),
    tok(
        "sendgrid_api_key",
        CHAT,
        "SG.",
        r"[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
        "SG.{w:22}.{w:43}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    Rule(
        "mailchimp_api_key",
        CHAT,
        ("-us",),
        r"(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])",
        "{h:32}-us{d:2}",
        check=lambda v: random_enough(v[:32]),
    ),
    tok("mailgun_api_key", CHAT, "key-", "[0-9a-f]{32}", "key-{h:32}"),
    tok("brevo_api_key", CHAT, "xkeysib-", f"[a-f0-9]{{64}}-{_B62}{{16}}", "xkeysib-{h:64}-{a:16}"),
    tok(
        "brevo_smtp_key",
        CHAT,
        "xsmtpsib-",
        f"[a-f0-9]{{64}}-{_B62}{{16}}",
        "xsmtpsib-{h:64}-{a:16}",
    ),
]

SAAS_RULES: list[Rule] = [
    tok("linear_api_key", SAAS, "lin_api_", f"{_B62}{{40}}", "lin_api_{a:40}"),
    tok("linear_oauth_token", SAAS, "lin_oauth_", "[a-f0-9]{64}", "lin_oauth_{h:64}"),
    tok("notion_token", SAAS, "ntn_", f"{_B62}{{40,50}}", "ntn_{d:11}{a:35}"),
    Rule(
        "notion_token",
        SAAS,
        ("secret_",),
        token("secret_", f"{_B62}{{43}}"),
        "secret_{a:43}",
        check=lambda v: random_enough(v[7:]) and any(c.isdigit() for c in v[7:]),
    ),
    tok("figma_token", SAAS, "figd_", r"[A-Za-z0-9_\-]{40,}+", "figd_{w:40}"),
    tok("postman_api_key", SAAS, "PMAK-", "[a-f0-9]{24}-[a-f0-9]{34}", "PMAK-{h:24}-{h:34}"),
    tok("airtable_token", SAAS, "pat", f"{_B62}{{14}}\\.[a-f0-9]{{64}}", "pat{a:14}.{h:64}"),
    tok("clickup_token", SAAS, "pk_", "[0-9]{6,9}_[A-Z0-9]{32}", "pk_{d:8}_{u:32}"),
    tok(
        "contentful_token",
        SAAS,
        "CFPAT-",
        r"[A-Za-z0-9_\-]{43}",
        "CFPAT-{w:43}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    tok(
        "dropbox_token",
        SAAS,
        "sl.",
        r"(?:u\.)?+[A-Za-z0-9_\-]{130,}+",
        "sl.{w:140-160}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    tok("typeform_token", SAAS, "tfp_", r"[A-Za-z0-9_\-]{44,}+", "tfp_{w:44}_{a:14}"),
    tok(
        "mapbox_secret_token",
        SAAS,
        "sk.eyJ",
        r"[A-Za-z0-9_\-]{20,}+\.[A-Za-z0-9_\-]{20,}+",
        "sk.eyJ1Ijoi{w:30}.{w:22}",
    ),
    tok("posthog_personal_key", SAAS, "phx_", f"{_B62}{{43}}", "phx_{a:43}"),
    tok("readme_api_key", SAAS, "rdme_", f"{_B62}{{70}}", "rdme_{a:70}"),
    tok(
        "frameio_token",
        SAAS,
        "fio-u-",
        r"[A-Za-z0-9_\-]{64}",
        "fio-u-{w:64}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    tok("shopify_access_token", PAY, "shpat_", "[a-fA-F0-9]{32}", "shpat_{h:32}"),
    tok("shopify_custom_app_token", PAY, "shpca_", "[a-fA-F0-9]{32}", "shpca_{h:32}"),
    tok("shopify_private_app_token", PAY, "shppa_", "[a-fA-F0-9]{32}", "shppa_{h:32}"),
    tok("shopify_shared_secret", PAY, "shpss_", "[a-fA-F0-9]{32}", "shpss_{h:32}"),
]

PAY_RULES: list[Rule] = [
    *toks("stripe_secret_key", PAY, ("sk_live_", "sk_test_"), f"{_B62}{{10,}}+", "{P}{a:24-99}"),
    *toks(
        "stripe_restricted_key", PAY, ("rk_live_", "rk_test_"), f"{_B62}{{10,}}+", "{P}{a:24-99}"
    ),
    tok("stripe_webhook_secret", PAY, "whsec_", f"{_B62}{{20,}}+", "whsec_{a:32}"),
    tok(
        "square_access_token",
        PAY,
        "sq0atp-",
        r"[A-Za-z0-9_\-]{22}",
        "sq0atp-{w:22}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    tok(
        "square_oauth_secret",
        PAY,
        "sq0csp-",
        r"[A-Za-z0-9_\-]{43}",
        "sq0csp-{w:43}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    tok(
        "braintree_access_token",
        PAY,
        "access_token$",
        r"(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}",
        "access_token$production${l:16}${h:32}",
    ),
    tok(
        "plaid_access_token",
        PAY,
        "access-",
        f"(?:sandbox|development|production)-{_UUID}",
        f"access-production-{_UUID_SAMPLE}",
    ),
    tok(
        "flutterwave_secret_key", PAY, "FLWSECK", r"(?:_TEST)?+-[a-f0-9]{32}-X", "FLWSECK-{h:32}-X"
    ),
    *toks("easypost_api_key", PAY, ("EZAK", "EZTK"), f"{_B62}{{54}}", "{P}{a:54}"),
    *toks("shippo_api_token", PAY, ("shippo_live_", "shippo_test_"), "[a-f0-9]{40}", "{P}{h:40}"),
    *toks(
        "duffel_api_token",
        PAY,
        ("duffel_live_", "duffel_test_"),
        r"[A-Za-z0-9_\-]{43}",
        "{P}{w:43}",
    ),
]

OBS_RULES: list[Rule] = [
    tok(
        "grafana_service_account_token",
        OBS,
        "glsa_",
        f"{_B62}{{32}}_[a-f0-9]{{8}}",
        "glsa_{a:32}_{h:8}",
    ),
    tok("grafana_cloud_token", OBS, "glc_", "eyJ[A-Za-z0-9+/=_\\-]{40,}+", "glc_eyJvIjoi{b:120}=="),
    tok(
        "grafana_api_key",
        OBS,
        "eyJrIjoi",
        "[A-Za-z0-9+/]{50,}+={0,2}+",
        "eyJrIjoi{b:60-80}",
        end=r"(?![A-Za-z0-9+/=])",
    ),
    tok("sentry_user_token", OBS, "sntryu_", "[a-f0-9]{64}", "sntryu_{h:64}"),
    tok(
        "sentry_org_token",
        OBS,
        "sntrys_",
        r"eyJ[A-Za-z0-9+/=]{30,}+_[A-Za-z0-9+/=]{30,}+",
        "sntrys_eyJpYXQiO{b:120}_{b:43}",
        end=r"(?![A-Za-z0-9_+/=])",
    ),
    tok("newrelic_user_key", OBS, "NRAK-", "[A-Z0-9]{27}", "NRAK-{u:27}"),
    tok(
        "newrelic_insert_key",
        OBS,
        "NRII-",
        r"[A-Za-z0-9_\-]{32}",
        "NRII-{w:32}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    Rule(
        "newrelic_license_key",
        OBS,
        ("nral",),
        r"(?<![A-Za-z0-9])[a-f0-9]{36}NRAL(?![A-Za-z0-9])",
        "{h:36}NRAL",
        check=lambda v: random_enough(v[:36]),
    ),
    *toks(
        "honeycomb_key",
        OBS,
        ("hcaik_", "hcxik_", "hcamk_", "hcxmk_"),
        f"{_B62}{{40,}}+",
        "{P}{l:58}",
    ),
    tok("dynatrace_token", OBS, "dt0c01.", r"[A-Z0-9]{24}\.[A-Z0-9]{64}", "dt0c01.{u:24}.{u:64}"),
    _url(
        "sumologic_http_source",
        OBS,
        "sumologic.com/receiver",
        r"https://[a-z0-9\-]++(?:\.[a-z0-9\-]++)*?\.sumologic\.com/receiver/v1/(?:http|otlp)/[A-Za-z0-9_=\-]{40,}+",
        "https://endpoint4.collection.us2.sumologic.com/receiver/v1/http/{w:120}",
    ),
]


def _begin(label: str) -> str:
    return rf"-----BEGIN {label}-----"


KEY_RULES: list[Rule] = [
    tok(
        "onepassword_service_token",
        KEYS,
        "ops_eyJ",
        r"[A-Za-z0-9+/=_\-]{100,}+",
        "ops_eyJzaWduSW5BZGRyZXNzIjoi{b:300}",
    ),
    Rule(
        "onepassword_secret_key",
        KEYS,
        ("a3-",),
        token("A3-", "[A-Z0-9]{6}-[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"),
        "A3-{u:6}-{u:6}-{u:5}-{u:5}-{u:5}-{u:5}",
        check=lambda v: random_enough(v[3:].replace("-", "")),
    ),
    tok(
        "age_secret_key",
        KEYS,
        "AGE-SECRET-KEY-1",
        "[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        "AGE-SECRET-KEY-1{2:58}",
    ),
    tok(
        "kubeconfig_client_key",
        KEYS,
        "LS0tLS1CRUdJTi",
        "[A-Za-z0-9+/]{40,}+={0,2}+",
        _base64_pem,
        end=r"(?![A-Za-z0-9+/=])",
    ),
    Rule(
        "putty_private_key",
        KEYS,
        ("putty-user-key-file-",),
        r"PuTTY-User-Key-File-[23]: [^\r\n]++(?:\r?\n[^\r\n]++)*?\r?\nPrivate-MAC: [a-f0-9]++",
        _putty_sample,
    ),
]
