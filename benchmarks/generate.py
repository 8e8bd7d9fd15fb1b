"""Build a large, realistic recipe library for the benchmarks.

N recipes of about 1.5 KB each, spread over team collections (each a git repository with one
commit) in folders per use case, the way `promptlib add` lays them out. Text is drawn from an
operations vocabulary plus generated service and component names, so the index sees a realistic
number of distinct words. About 3% of the recipes mention "logs"; no other word in the vocabulary
contains that string, so `grep -ril logs` and `promptlib search logs` look for the same thing.

Deterministic for a given N and seed. Every recipe passes the strict loader and `promptlib lint`:
each declared variable is used in the template and each one the template uses is declared.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Sequence
from pathlib import Path

LOGS_SHARE = 0.03
RECIPES_PER_COLLECTION = 2500
MAX_COLLECTIONS = 40

USE_CASES = (
    "incident-response", "ticket-deflection", "script-generation", "customer-support",
    "change-management", "capacity-planning", "security-review", "release-engineering",
    "data-requests", "onboarding", "cost-review", "vendor-management",
)
TOPIC_TAGS = (
    "kubernetes", "database", "postgres", "mysql", "redis", "kafka", "network", "dns", "tls",
    "certificates", "alerting", "monitoring", "prometheus", "grafana", "terraform", "ansible",
    "bash", "python", "billing", "refunds", "sla", "on-call", "handover", "postmortem", "runbook",
    "latency", "memory", "cpu", "disk", "backups", "restore", "deploys", "rollback", "queues",
    "cron", "iam", "vpn", "load-balancer", "cdn", "email", "sso", "api", "webhooks", "storage",
    "costs", "compliance", "audit", "access", "tier-1", "tier-2", "escalation", "reply",
)
VERBS = (
    "triage", "explain", "summarize", "draft", "review", "diagnose", "plan", "write", "check",
    "compare", "classify", "estimate", "rewrite", "translate", "prioritize", "document",
    "investigate", "reply-to", "prepare", "audit",
)
NOUNS = (
    "outage", "alert", "incident", "ticket", "request", "timeout", "error", "spike", "failure",
    "migration", "rollout", "change", "report", "query", "script", "rule", "policy", "runbook",
    "handover", "update", "backlog", "invoice", "complaint", "upgrade", "certificate", "quota",
)
WORDS = (
    "service", "cluster", "node", "pod", "container", "deployment", "replica", "region", "zone",
    "latency", "throughput", "error", "rate", "budget", "threshold", "customer", "user", "account",
    "request", "response", "header", "payload", "queue", "consumer", "producer", "partition",
    "offset", "lag", "connection", "pool", "timeout", "retry", "backoff", "circuit", "breaker",
    "dependency", "upstream", "downstream", "gateway", "proxy", "certificate", "expiry", "secret",
    "rotation", "schema", "migration", "index", "table", "lock", "deadlock", "transaction",
    "replication", "failover", "snapshot", "backup", "restore", "volume", "disk", "memory", "cpu",
    "heap", "garbage", "collection", "thread", "process", "signal", "exit", "code", "status",
    "metric", "dashboard", "panel", "alert", "page", "escalation", "owner", "team", "rotation",
    "handover", "summary", "timeline", "impact", "severity", "priority", "ticket", "reply",
    "refund", "invoice", "plan", "upgrade", "downgrade", "trial", "feature", "flag", "release",
    "version", "changelog", "rollback", "canary", "traffic", "shift", "weight", "health", "check",
    "probe", "readiness", "liveness", "restart", "crash", "loop", "event", "trace", "span",
    "sampling", "cardinality", "label", "query", "plan", "cost", "forecast", "capacity",
    "headroom", "quota", "limit", "burst", "throttle", "policy", "role", "permission", "access",
    "audit", "evidence", "control", "finding", "risk", "vendor", "contract", "renewal", "draft",
    "tone", "empathy", "apology", "workaround", "known", "issue", "article", "knowledge", "base",
    "macro", "template", "checklist", "step", "command", "output", "diff", "review", "approve",
    "window", "freeze", "maintenance", "notice", "stakeholder", "update", "cadence", "channel",
    "bridge", "commander", "scribe", "action", "item", "followup", "root", "cause", "symptom",
    "hypothesis", "evidence", "signal", "noise", "baseline", "anomaly", "regression", "spike",
    "drop", "saturation", "utilization", "errors", "warnings", "exceptions", "stack", "frame",
)
CONNECTORS = ("the", "a", "and", "or", "with", "for", "from", "into", "when", "then", "if",
              "before", "after", "of", "on", "in", "to", "by", "per", "each", "every", "only")
SYLLABLES = ("ka", "lo", "mi", "ra", "te", "vo", "zen", "qui", "dax", "pel", "sor", "tun",
             "bri", "cor", "fen", "gal", "hex", "jor", "nix", "ost", "pra", "ulm", "vey", "wix")
VARIABLE_NAMES = ("service", "environment", "region", "severity", "owner", "audience",
                  "customer", "ticket", "window", "version", "deadline", "tone", "context",
                  "language", "cluster", "team", "channel", "product", "budget", "metric")


def _invented(rng: random.Random, count: int) -> list[str]:
    """Service and component names: the long tail of words a real library is full of."""
    names = set()
    while len(names) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if "logs" not in word:
            names.add(word)
    return sorted(names)


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.invented = _invented(rng, 4000)

    def word(self) -> str:
        r = self.rng.random()
        if r < 0.25:
            return self.rng.choice(CONNECTORS)
        if r < 0.85:
            return self.rng.choice(WORDS)
        # Zipf-like tail: a few invented names are common, most are rare.
        return self.invented[int(len(self.invented) * self.rng.random() ** 3)]

    def sentence(self, low: int, high: int, *, mention: bool = False) -> str:
        words = [self.word() for _ in range(self.rng.randint(low, high))]
        if mention:
            words.insert(self.rng.randrange(len(words) + 1), "logs")
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."


def recipe_text(rng: random.Random, writer: _Writer, name: str, use_case: str) -> str:
    mention = rng.random() < LOGS_SHARE
    where = rng.choice(("title", "description", "template")) if mention else ""
    tags = [use_case, *rng.sample(TOPIC_TAGS, rng.randint(2, 4))]
    variables = rng.sample(VARIABLE_NAMES, rng.randint(2, 4))
    stdin_var = variables[0] if rng.random() < 0.5 else None
    title = writer.sentence(4, 8, mention=where == "title").rstrip(".")
    description = " ".join(writer.sentence(8, 14, mention=where == "description" and i == 0)
                           for i in range(2))
    lines = [f"name: {name}", f"title: {title}", "description: |", f"  {description}",
             f"tags: [{', '.join(tags)}]", "variables:"]
    for var in variables:
        lines += [f"  {var}:", f"    description: {writer.sentence(5, 10).rstrip('.')}"]
        if var == stdin_var:
            lines += ["    stdin: true", "    max_chars: 20000", "    truncate: tail"]
        elif rng.random() < 0.5:
            lines.append(f"    default: {writer.word()}")
    lines.append("template: |")
    body_vars = iter(variables)
    for i in range(rng.randint(6, 10)):
        sentence = writer.sentence(10, 18, mention=where == "template" and i == 2)
        var = next(body_vars, None)
        lines.append(f"  {sentence} {{{{ {var} }}}}" if var else f"  {sentence}")
    lines += [f"  Also consider {{{{ {v} }}}}." for v in body_vars]
    lines.append("format: 1")
    return "\n".join(lines) + "\n"


def collection_names(n: int) -> list[str]:
    count = max(1, min(MAX_COLLECTIONS, -(-n // RECIPES_PER_COLLECTION)))
    return [f"team-{i:02d}" for i in range(count)]


def generate(collections_dir: Path, n: int, *, seed: int = 4) -> list[Path]:
    """Write n recipes into team collections under collections_dir and commit each collection."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    names = collection_names(n)
    roots = [collections_dir / c for c in names]
    for i in range(n):
        root = roots[i % len(roots)]
        use_case = USE_CASES[rng.randrange(len(USE_CASES))]
        name = f"{rng.choice(VERBS)}-{rng.choice(NOUNS)}-{i}"
        path = root / use_case / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(recipe_text(rng, writer, name, use_case), encoding="utf-8")
    for root in roots:
        commit_all(root, "Generated recipes")
    return roots


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, stdout=subprocess.DEVNULL)


def commit_all(root: Path, message: str, paths: Sequence[str] = (".",)) -> None:
    if not (root / ".git").exists():
        git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all", "--", *paths)
    git(root, "commit", "--quiet", "--no-verify", "-m", message)
