"""Recall and false positives per credential kind, on a corpus generated from each kind's
documented format (tests/kind_corpus.py), printed as a table (`pytest -s` shows it) and held to
the bars of issue 10: recall >= 99% in context, >= 97% for self-identifying tokens standing
alone, false-positive rate <= 2% on the negatives, per kind.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from promptlib.redact.detector import find_secrets, redact
from promptlib.redact.registry import KIND_INFO, PII_KINDS
from tests.kind_corpus import Case, build

MIN_RECALL_IN_CONTEXT = 0.99
MIN_RECALL_ALONE = 0.97
MAX_FALSE_POSITIVE_RATE = 0.02


def _covered(case: Case) -> bool:
    at = case.text.index(case.secret)
    return any(f.start <= at and at + len(case.secret) <= f.end for f in find_secrets(case.text))


@pytest.fixture(scope="module")
def scores() -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for case in build(seed=10, per_kind=30).cases:
        row = table[case.kind]
        row[case.mode] += 1
        if case.mode == "negative":
            row["false"] += bool(find_secrets(case.text))
        else:
            row[f"{case.mode}_found"] += _covered(case)
    return table


def _rate(row: Counter[str], mode: str) -> float | None:
    return row[f"{mode}_found"] / row[mode] if row[mode] else None


def test_print_the_table(scores: dict[str, Counter[str]]) -> None:
    def cell(value: float | None) -> str:
        return "     -" if value is None else f"{value:6.1%}"

    lines = [f"{'kind':<36} {'alone':>6} {'context':>7} {'FP':>6}  negatives"]
    for kind in sorted(scores):
        row = scores[kind]
        fp = row["false"] / row["negative"] if row["negative"] else None
        lines.append(f"{kind:<36} {cell(_rate(row, 'alone'))} {cell(_rate(row, 'context')):>7}"
                     f" {cell(fp)}  {row['negative']}")
    print("\n" + "\n".join(lines))  # the measurement the issue asks to record
    assert len(scores) > 120


def test_every_credential_kind_is_in_the_corpus(scores: dict[str, Counter[str]]) -> None:
    expected = {kind.name for kind in KIND_INFO} - PII_KINDS
    assert expected <= set(scores)
    assert len(expected) >= 120


def test_recall_in_context(scores: dict[str, Counter[str]]) -> None:
    low = {k: _rate(r, "context") for k, r in scores.items() if r["context"]}
    assert {k: v for k, v in low.items() if v is not None and v < MIN_RECALL_IN_CONTEXT} == {}


def test_recall_of_self_identifying_tokens_alone(scores: dict[str, Counter[str]]) -> None:
    low = {k: _rate(r, "alone") for k, r in scores.items() if r["alone"]}
    assert {k: v for k, v in low.items() if v is not None and v < MIN_RECALL_ALONE} == {}


def test_false_positive_rate_per_kind(scores: dict[str, Counter[str]]) -> None:
    rates = {k: r["false"] / r["negative"] for k, r in scores.items() if r["negative"]}
    assert {k: v for k, v in rates.items() if v > MAX_FALSE_POSITIVE_RATE} == {}


def test_ordinary_log_content_is_never_flagged(scores: dict[str, Counter[str]]) -> None:
    assert scores["(ordinary log content)"]["false"] == 0


def test_the_readme_lists_every_kind() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Redaction") :]
    assert [k.name for k in KIND_INFO if f"`{k.name}`" not in section] == []


def test_a_megabyte_of_benign_log_is_left_alone() -> None:
    from tests.redaction_corpus import generate

    corpus = generate(lines=8000, seed=11, plant_every=0)
    text = corpus.text
    assert len(text) >= 1_000_000
    out, _ = redact(text)
    changed = sum(a != b for a, b in zip(text.split("\n"), out.split("\n"), strict=True))
    assert changed / len(corpus.lines) < 0.001
