"""Credentials with no shape of their own but a vendor's name on their setting: a Datadog API
key is 32 hex digits, like a thousand other things, until it is the value of ``DD_API_KEY``.

Each entry: the kind, its family, the words one of which the setting's name contains
(lowercased), the vendor's documented shape of the value (the whole value must have it), a
sample of that shape, and a typical setting name (for the corpus and the README). A value that
has the name but not the shape is still redacted when the name says secret, as ``password``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from promptlib.redact.rules import random_enough

_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID_SAMPLE = "{h:8}-{h:4}-{h:4}-{h:4}-{h:12}"

CLOUD = "cloud & infrastructure"
OBS = "observability"
SOURCE = "source control & CI"
CHAT = "chat & email"
AI = "AI services"
SAAS = "SaaS & collaboration"


class Vendor(NamedTuple):
    kind: str
    family: str
    names: tuple[str, ...]
    shape: str
    sample: str
    key: str

    def matches(self, value: str) -> bool:
        return _compiled(self.shape).fullmatch(value) is not None and random_enough(value)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(shape: str) -> re.Pattern[str]:
    pattern = _CACHE.get(shape)
    if pattern is None:
        pattern = _CACHE[shape] = re.compile(shape)
    return pattern


VENDORS: tuple[Vendor, ...] = (
    Vendor(
        "datadog_api_key",
        OBS,
        ("datadog", "dd_api", "dd-api"),
        "[a-f0-9]{32}",
        "{h:32}",
        "DD_API_KEY",
    ),
    Vendor(
        "datadog_app_key",
        OBS,
        ("dd_app", "datadog_app", "dd-application", "application_key"),
        "[a-f0-9]{40}",
        "{h:40}",
        "DD_APP_KEY",
    ),
    Vendor("heroku_api_key", CLOUD, ("heroku",), _UUID, _UUID_SAMPLE, "HEROKU_API_KEY"),
    Vendor("snyk_token", SOURCE, ("snyk",), _UUID, _UUID_SAMPLE, "SNYK_TOKEN"),
    Vendor("twilio_auth_token", CHAT, ("twilio",), "[a-f0-9]{32}", "{h:32}", "TWILIO_AUTH_TOKEN"),
    Vendor("sumologic_access_key", OBS, ("sumo",), "[A-Za-z0-9]{64}", "{a:64}", "SUMO_ACCESS_KEY"),
    Vendor(
        "cloudflare_legacy_api_token",
        CLOUD,
        ("cloudflare", "cf_api"),
        "[A-Za-z0-9_-]{40}",
        "{w:40}",
        "CLOUDFLARE_API_TOKEN",
    ),
    Vendor(
        "cloudflare_legacy_global_key",
        CLOUD,
        ("cloudflare", "cf_api", "cf_key"),
        "[a-f0-9]{37}",
        "{h:37}",
        "CF_API_KEY",
    ),
    Vendor("vercel_legacy_token", CLOUD, ("vercel",), "[A-Za-z0-9]{24}", "{a:24}", "VERCEL_TOKEN"),
    Vendor("algolia_api_key", SAAS, ("algolia",), "[a-f0-9]{32}", "{h:32}", "ALGOLIA_API_KEY"),
    Vendor(
        "pagerduty_token", OBS, ("pagerduty",), "[A-Za-z0-9_+-]{20}", "u+{w:18}", "PAGERDUTY_TOKEN"
    ),
    Vendor("opsgenie_api_key", OBS, ("opsgenie",), _UUID, _UUID_SAMPLE, "OPSGENIE_API_KEY"),
    Vendor("circleci_legacy_token", SOURCE, ("circle",), "[a-f0-9]{40}", "{h:40}", "CIRCLE_TOKEN"),
    Vendor("travis_token", SOURCE, ("travis",), "[A-Za-z0-9_-]{22}", "{w:22}", "TRAVIS_TOKEN"),
    Vendor("codecov_token", SOURCE, ("codecov",), _UUID, _UUID_SAMPLE, "CODECOV_TOKEN"),
    Vendor(
        "vault_legacy_token", SOURCE, ("vault",), r"s\.[A-Za-z0-9]{24}", "s.{a:24}", "VAULT_TOKEN"
    ),
    Vendor("okta_api_token", SAAS, ("okta",), "00[A-Za-z0-9_-]{40}", "00{w:40}", "OKTA_API_TOKEN"),
    Vendor(
        "auth0_client_secret",
        SAAS,
        ("auth0",),
        "[A-Za-z0-9_-]{64}",
        "{w:64}",
        "AUTH0_CLIENT_SECRET",
    ),
    Vendor(
        "azure_devops_legacy_pat",
        CLOUD,
        ("azure_devops", "ado_", "devops", "azdo"),
        "[a-z2-7]{52}",
        "{3:52}",
        "AZURE_DEVOPS_PAT",
    ),
    Vendor("wandb_api_key", AI, ("wandb",), "[a-f0-9]{40}", "{h:40}", "WANDB_API_KEY"),
    Vendor(
        "cohere_api_key", AI, ("cohere", "co_api"), "[A-Za-z0-9]{40}", "{a:40}", "COHERE_API_KEY"
    ),
    Vendor("mistral_api_key", AI, ("mistral",), "[A-Za-z0-9]{32}", "{a:32}", "MISTRAL_API_KEY"),
    Vendor(
        "deepseek_api_key", AI, ("deepseek",), "sk-[a-f0-9]{32}", "sk-{h:32}", "DEEPSEEK_API_KEY"
    ),
    Vendor(
        "zendesk_api_token", SAAS, ("zendesk",), "[A-Za-z0-9]{40}", "{a:40}", "ZENDESK_API_TOKEN"
    ),
    Vendor(
        "slack_signing_secret",
        CHAT,
        ("signing_secret", "slack_signing"),
        "[a-f0-9]{32}",
        "{h:32}",
        "SLACK_SIGNING_SECRET",
    ),
    Vendor(
        "github_client_secret",
        SOURCE,
        ("github_client_secret", "gh_client_secret"),
        "[a-f0-9]{40}",
        "{h:40}",
        "GITHUB_CLIENT_SECRET",
    ),
    Vendor(
        "mailgun_private_key",
        CHAT,
        ("mailgun",),
        "[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}",
        "{h:32}-{h:8}-{h:8}",
        "MAILGUN_API_KEY",
    ),
    Vendor(
        "postmark_server_token", CHAT, ("postmark",), _UUID, _UUID_SAMPLE, "POSTMARK_SERVER_TOKEN"
    ),
    Vendor(
        "hetzner_token", CLOUD, ("hcloud", "hetzner"), "[A-Za-z0-9]{64}", "{a:64}", "HCLOUD_TOKEN"
    ),
    Vendor("linode_token", CLOUD, ("linode",), "[a-f0-9]{64}", "{h:64}", "LINODE_TOKEN"),
    Vendor(
        "scaleway_secret_key",
        CLOUD,
        ("scw_secret", "scaleway"),
        _UUID,
        _UUID_SAMPLE,
        "SCW_SECRET_KEY",
    ),
    Vendor(
        "splunk_hec_token", OBS, ("splunk", "hec_token"), _UUID, _UUID_SAMPLE, "SPLUNK_HEC_TOKEN"
    ),
    Vendor(
        "honeycomb_legacy_key", OBS, ("honeycomb",), "[a-f0-9]{32}", "{h:32}", "HONEYCOMB_API_KEY"
    ),
    Vendor(
        "azure_account_key",
        CLOUD,
        ("accountkey", "account_key", "storage_key"),
        "[A-Za-z0-9+/]{86}==",
        "{b:86}==",
        "AccountKey",
    ),
    Vendor(
        "azure_shared_access_key",
        CLOUD,
        ("sharedaccesskey",),
        "[A-Za-z0-9+/]{43}=",
        "{b:43}=",
        "SharedAccessKey",
    ),
)


_BY_WORD: dict[str, list[Vendor]] = {}
for _vendor in VENDORS:
    for _word in _vendor.names:
        _BY_WORD.setdefault(_word, []).append(_vendor)
_WORDS = "|".join(re.escape(word) for word in sorted(_BY_WORD, key=len, reverse=True))


_NAMED: dict[str, list[Vendor]] = {}  # settings' names repeat: DB_PASSWORD on every line


def named_in(name: str) -> list[Vendor]:
    """The vendors whose word the (lowercased) setting name holds: one alternation search."""
    found = _NAMED.get(name)
    if found is None:
        found = []
        for match in _compiled(_WORDS).finditer(name):
            found.extend(v for v in _BY_WORD[match.group()] if v not in found)
        if len(_NAMED) < 4096:
            _NAMED[name] = found
    return found
