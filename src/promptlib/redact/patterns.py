"""Self-identifying credentials, part one: source control, packages, cloud, AI. Data only.

Each rule is written from the vendor's documented format (prefix, alphabet, length); the
sample template beside it is that format, from which the tests generate their corpus. The
keyword is the lowercased literal prefix: a rule runs only on text that holds it.

A credential that is clearly a placeholder (`ghp_xxxx…`, a repeated unit, one marked EXAMPLE) is
not one: every rule built by `tok` checks that the part after the prefix is random enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptlib.redact.rules import Rule, body_random, mixed, random_enough, token

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

_B62 = "[A-Za-z0-9]"
_B64URL = "[A-Za-z0-9_-]"


def tok(
    kind: str,
    family: str,
    prefix: str,
    body: str,
    sample: str | Callable[[random.Random], str],
    *,
    keywords: tuple[str, ...] = (),
    end: str = r"(?![A-Za-z0-9_])",
) -> Rule:
    """A rule for a token that starts with a literal prefix."""
    return Rule(
        kind,
        family,
        keywords or (prefix.lower(),),
        token(prefix, body, end=end),
        sample,
        check=body_random(len(prefix)),
    )


def toks(kind: str, family: str, prefixes: tuple[str, ...], body: str, sample: str) -> list[Rule]:
    """One kind, several prefixes: one rule each, since a shared literal keeps `re` fast."""
    return [tok(kind, family, p, body, sample.replace("{P}", p)) for p in prefixes]


SOURCE = "source control & CI"
PACKAGES = "package registries"
CLOUD = "cloud & infrastructure"
AI = "AI services"

_GITLAB = {  # prefix -> kind; GitLab's documented token prefixes
    "glpat-": "gitlab_pat",
    "gldt-": "gitlab_deploy_token",
    "glrt-": "gitlab_runner_token",
    "glrtr-": "gitlab_runner_token",
    "glcbt-": "gitlab_ci_job_token",
    "glptt-": "gitlab_trigger_token",
    "glft-": "gitlab_feed_token",
    "glimt-": "gitlab_incoming_mail_token",
    "glagent-": "gitlab_agent_token",
    "gloas-": "gitlab_oauth_secret",
    "glsoat-": "gitlab_scim_token",
    "glffct-": "gitlab_feature_flags_token",
}

SOURCE_RULES: list[Rule] = [
    tok("github_pat", SOURCE, "ghp_", f"{_B62}{{36}}", "ghp_{a:36}"),
    tok("github_oauth_token", SOURCE, "gho_", f"{_B62}{{36}}", "gho_{a:36}"),
    tok("github_user_token", SOURCE, "ghu_", f"{_B62}{{36}}", "ghu_{a:36}"),
    tok("github_app_token", SOURCE, "ghs_", f"{_B62}{{36}}", "ghs_{a:36}"),
    tok("github_refresh_token", SOURCE, "ghr_", f"{_B62}{{36,76}}+", "ghr_{a:36-76}"),
    tok(
        "github_fine_grained_pat",
        SOURCE,
        "github_pat_",
        f"{_B62}{{20,30}}+_{_B62}{{50,70}}+",
        "github_pat_11{u:20}_{a:59}",
    ),
    *(
        tok(
            kind,
            SOURCE,
            prefix,
            r"[A-Za-z0-9_\-]{20,}+(?:\.[A-Za-z0-9_\-]++)*+",
            prefix + "{w:20-40}",
        )
        for prefix, kind in _GITLAB.items()
    ),
    tok(
        "gitlab_runner_registration_token",
        SOURCE,
        "GR1348941",
        r"[A-Za-z0-9_\-]{20}",
        "GR1348941{w:20}",
    ),
    tok("bitbucket_app_password", SOURCE, "ATBB", r"[A-Za-z0-9_=.\-]{32,}+", "ATBB{a:24}{H:8}"),
    tok(
        "atlassian_api_token",
        SOURCE,
        "ATATT3",
        r"[A-Za-z0-9_=\-]{150,}+",
        "ATATT3xFfGF0{w:170}={H:8}",
    ),
    tok(
        "sourcegraph_token",
        SOURCE,
        "sgp_",
        "(?:[a-f0-9]{16}_|local_)?+[a-f0-9]{40}",
        "sgp_{h:16}_{h:40}",
    ),
    *toks(
        "circleci_token",
        SOURCE,
        ("CCIPAT_", "CCIPRJ_"),
        f"{_B62}{{22}}_[a-f0-9]{{40}}",
        "{P}{a:22}_{h:40}",
    ),
    tok("sonarqube_user_token", SOURCE, "squ_", "[a-f0-9]{40}", "squ_{h:40}"),
    tok("sonarqube_project_token", SOURCE, "sqp_", "[a-f0-9]{40}", "sqp_{h:40}"),
    tok("sonarqube_global_token", SOURCE, "sqa_", "[a-f0-9]{40}", "sqa_{h:40}"),
    Rule(
        "terraform_cloud_token",
        SOURCE,
        ("atlasv1",),
        r"(?<![A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,}+",
        "{a:14}.atlasv1.{w:67}",
        check=body_random(0),
    ),
    tok("vault_service_token", SOURCE, "hvs.", r"[A-Za-z0-9_\-]{24,}+", "hvs.{w:24-95}"),
    tok("vault_batch_token", SOURCE, "hvb.", r"[A-Za-z0-9_\-]{24,}+", "hvb.{w:100-140}"),
    tok("vault_recovery_token", SOURCE, "hvr.", r"[A-Za-z0-9_\-]{24,}+", "hvr.{w:24-30}"),
    *toks(
        "doppler_token",
        SOURCE,
        ("dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."),
        f"{_B62}{{40,44}}",
        "{P}{a:40-44}",
    ),
    tok("pulumi_token", SOURCE, "pul-", "[a-f0-9]{40}", "pul-{h:40}"),
    *toks(
        "fly_token",
        SOURCE,
        ("fm2_", "fm1r_", "fm1a_"),
        r"[A-Za-z0-9+/=_\-]{40,}+",
        "{P}{b:120-300}",
    ),
    *toks(
        "vercel_token",
        SOURCE,
        ("vcp_", "vci_", "vca_", "vcr_", "vck_"),
        f"{_B62}{{24,}}+",
        "{P}{a:24-60}",
    ),
    tok("netlify_token", SOURCE, "nfp_", f"{_B62}{{36}}", "nfp_{a:36}"),
    tok("heroku_api_key", SOURCE, "HRKU-", r"[A-Za-z0-9_\-]{20,}+", "HRKU-AA{w:58}"),
    tok("render_api_key", SOURCE, "rnd_", f"{_B62}{{32}}", "rnd_{a:32}"),
    tok("supabase_token", SOURCE, "sbp_", "[a-f0-9]{40}", "sbp_{h:40}"),
    tok("supabase_secret_key", SOURCE, "sb_secret_", r"[A-Za-z0-9_\-]{20,}+", "sb_secret_{w:31}"),
    *toks(
        "planetscale_token",
        SOURCE,
        ("pscale_tkn_", "pscale_oauth_"),
        r"[A-Za-z0-9_\-]{32,}+",
        "{P}{w:43}",
    ),
    tok("planetscale_password", SOURCE, "pscale_pw_", r"[A-Za-z0-9_\-]{32,}+", "pscale_pw_{w:43}"),
    tok("prefect_api_key", SOURCE, "pnu_", f"{_B62}{{36}}", "pnu_{a:36}"),
]

PACKAGE_RULES: list[Rule] = [
    tok("npm_token", PACKAGES, "npm_", f"{_B62}{{36}}", "npm_{a:36}"),
    tok(
        "pypi_token",
        PACKAGES,
        "pypi-AgE",
        r"[A-Za-z0-9_\-]{50,}+",
        "pypi-AgEIcHlwaS5vcmc{w:70-180}",
    ),
    tok("nuget_api_key", PACKAGES, "oy2", "[a-z0-9]{43}", "oy2{l:43}"),
    tok("rubygems_api_key", PACKAGES, "rubygems_", "[a-f0-9]{48}", "rubygems_{h:48}"),
    *toks(
        "docker_hub_token",
        PACKAGES,
        ("dckr_pat_", "dckr_oat_"),
        r"[A-Za-z0-9_\-]{27,}+",
        "{P}{w:27}",
    ),
    Rule(
        "crates_io_token",
        PACKAGES,
        ("cio",),
        token("cio", f"{_B62}{{32}}"),
        "cio{a:32}",
        check=body_random(3),
    ),
    tok("clojars_token", PACKAGES, "CLOJARS_", f"{_B62}{{60}}", "CLOJARS_{a:60}"),
    tok("jfrog_api_key", PACKAGES, "AKCp", f"{_B62}{{69}}", "AKCp{a:69}"),
    tok(
        "jfrog_reference_token",
        PACKAGES,
        "cmVmdGtuOjAxOj",
        f"{_B62}{{40,}}+",
        "cmVmdGtuOjAxOj{a:50}",
    ),
]

CLOUD_RULES: list[Rule] = [
    # The key id is matched by aws.scan (it needs its secret key found beside it).
    tok(
        "aws_session_token",
        CLOUD,
        "IQoJb3JpZ2lu",
        "[A-Za-z0-9+/]{100,}+={0,2}+",
        "IQoJb3JpZ2luX2VjE{b:300-600}",
        end=r"(?![A-Za-z0-9+/=])",
    ),
    tok(
        "aws_session_token",
        CLOUD,
        "FwoGZXIvYXdz",
        "[A-Za-z0-9+/]{100,}+={0,2}+",
        "FwoGZXIvYXdzE{b:300}",
        end=r"(?![A-Za-z0-9+/=])",
    ),
    tok(
        "aws_bedrock_api_key",
        CLOUD,
        "ABSKQmVkcm9ja0FQSUtleS",
        "[A-Za-z0-9+/]{40,}+={0,2}+",
        "ABSKQmVkcm9ja0FQSUtleS{b:100-140}",
        end=r"(?![A-Za-z0-9+/=])",
    ),
    tok(
        "aws_bedrock_api_key",
        CLOUD,
        "bedrock-api-key-",
        "[A-Za-z0-9+/]{40,}+={0,2}+",
        "bedrock-api-key-{b:200-400}",
        end=r"(?![A-Za-z0-9+/=])",
    ),
    tok(
        "google_api_key",
        CLOUD,
        "AIza",
        r"[A-Za-z0-9_\-]{35}",
        "AIza{w:35}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    tok(
        "google_oauth_client_secret",
        CLOUD,
        "GOCSPX-",
        r"[A-Za-z0-9_\-]{28}",
        "GOCSPX-{w:28}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    tok(
        "google_oauth_access_token",
        CLOUD,
        "ya29.",
        r"[A-Za-z0-9_\-]{30,}+",
        "ya29.a0{w:100-200}",
        end=r"(?![A-Za-z0-9_\-])",
    ),
    Rule(
        "google_oauth_refresh_token",
        CLOUD,
        ("1//0",),
        r"1//0(?<![A-Za-z0-9_/]1//0)[A-Za-z0-9_\-]{40,}+",
        "1//0{w:90-100}",
        check=body_random(4),
    ),
    Rule(
        "firebase_cloud_messaging_key",
        CLOUD,
        (":apa91b",),
        r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{7,11}:APA91b[A-Za-z0-9_\-]{100,}+",
        "AAAA{w:7}:APA91b{w:134}",
        check=body_random(0),
    ),
    Rule(
        "azure_ad_client_secret",
        CLOUD,
        ("q~",),
        r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])",
        "{a:3}{d:1}Q~{w:34}",
        check=body_random(6),
    ),
    Rule(
        "azure_storage_key",
        CLOUD,
        ("+ast",),
        r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{76}\+ASt[A-Za-z0-9+/]{6}==",
        "{b:76}+ASt{b:6}==",
        check=body_random(0),
    ),
    Rule(
        "azure_devops_pat",
        CLOUD,
        ("azdo",),
        f"(?<![A-Za-z0-9]){_B62}{{52}}AZDO{_B62}{{4}}(?![A-Za-z0-9])",
        "{a:52}AZDO{a:4}",
        check=body_random(0),
    ),
    tok("digitalocean_token", CLOUD, "dop_v1_", "[a-f0-9]{64}", "dop_v1_{h:64}"),
    tok("digitalocean_oauth_token", CLOUD, "doo_v1_", "[a-f0-9]{64}", "doo_v1_{h:64}"),
    tok("digitalocean_refresh_token", CLOUD, "dor_v1_", "[a-f0-9]{64}", "dor_v1_{h:64}"),
    tok("alibaba_access_key_id", CLOUD, "LTAI", f"{_B62}{{12,20}}+", "LTAI{a:20}"),
    tok("tencent_secret_id", CLOUD, "AKID", f"{_B62}{{32}}", "AKID{a:32}"),
    tok("databricks_token", CLOUD, "dapi", "[a-f0-9]{32}(?:-[0-9]++)?+", "dapi{h:32}"),
    tok("databricks_oauth_secret", CLOUD, "dose", "[a-f0-9]{32}", "dose{h:32}"),
    tok("cloudflare_api_token", CLOUD, "cfut_", f"{_B62}{{40}}[a-f0-9]{{8}}", "cfut_{a:40}{h:8}"),
    tok(
        "cloudflare_account_token", CLOUD, "cfat_", f"{_B62}{{40}}[a-f0-9]{{8}}", "cfat_{a:40}{h:8}"
    ),
    tok("cloudflare_global_key", CLOUD, "cfk_", f"{_B62}{{40}}[a-f0-9]{{8}}", "cfk_{a:40}{h:8}"),
    tok(
        "cloudflare_origin_ca_key",
        CLOUD,
        "v1.0-",
        "[a-f0-9]{24}-[a-f0-9]{146}",
        "v1.0-{h:24}-{h:146}",
    ),
]

AI_RULES: list[Rule] = [
    tok(
        "anthropic_key", AI, "sk-ant-api", r"[0-9]{2}-[A-Za-z0-9_\-]{80,}+", "sk-ant-api03-{w:93}AA"
    ),
    tok(
        "anthropic_admin_key",
        AI,
        "sk-ant-admin",
        r"[0-9]{2}-[A-Za-z0-9_\-]{80,}+",
        "sk-ant-admin01-{w:93}AA",
    ),
    tok("openrouter_key", AI, "sk-or-v1-", "[a-f0-9]{64}", "sk-or-v1-{h:64}"),
    Rule(
        "openai_key",
        AI,
        ("sk-",),
        r"sk-(?<![A-Za-z0-9_\-]sk-)(?:proj-|svcacct-|admin-)?+[A-Za-z0-9_\-]{20,}+",
        "sk-proj-{w:58}T3BlbkFJ{w:58}",
        # Pod and branch names such as sk-worker-7d9f8b6c5-x2x4z are lowercase.
        check=lambda v: mixed(v) and random_enough(v[3:]),
    ),
    tok("groq_api_key", AI, "gsk_", f"{_B62}{{52}}", "gsk_{a:52}"),
    tok("perplexity_api_key", AI, "pplx-", f"{_B62}{{48}}", "pplx-{a:48}"),
    tok("xai_api_key", AI, "xai-", f"{_B62}{{80}}", "xai-{a:80}"),
    tok("replicate_token", AI, "r8_", f"{_B62}{{37}}", "r8_{a:37}"),
    *toks(
        "langsmith_api_key",
        AI,
        ("lsv2_pt_", "lsv2_sk_"),
        "[a-f0-9]{32}_[a-f0-9]{10}",
        "{P}{h:32}_{h:10}",
    ),
    tok("pinecone_api_key", AI, "pcsk_", "[A-Za-z0-9_]{40,}+", "pcsk_{a:6}_{a:63}"),
    tok("huggingface_token", AI, "hf_", f"{_B62}{{34}}", "hf_{A:34}"),
    tok("huggingface_org_token", AI, "api_org_", f"{_B62}{{34}}", "api_org_{A:34}"),
]
