"""How often search puts a right recipe first: the judged query set over the starter library.

`python benchmarks/bench_relevance.py [--misses]`. Reads benchmarks/judged_queries.tsv (who,
query, the recipes that answer it), runs every query through `promptlib search` as a person
would type it (each word its own argument, in a fresh PROMPTLIB_HOME seeded with the starter
library, so no usage log and no synonyms but the shipped ones), and prints success@1,
success@3 and MRR (the mean of 1/rank of the first right recipe; 0 when none is in the first
20). Side by side: `fzf --filter` over one line per recipe (name, title, tags, description),
which is how navi and pet users search, when fzf is installed; skipped with a note otherwise.
`--misses` lists the queries that do not have a right recipe first.

The targets are checked on the judged part; the held-out part (written after the ranking and
the synonym table were settled, and not tuned on) is printed apart, as a check of how far the
figures carry over to queries nobody looked at while tuning.

A benchmark, not a unit test: the figures go in the README. The Done-when of issue 11 (s@3 ≥
0.97, s@1 ≥ 0.90, ahead of fzf) is checked here and the exit status says whether it holds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
QUERIES = HERE / "judged_queries.tsv"
DEPTH = 20
TARGET_S1, TARGET_S3 = 0.90, 0.97


class Judged(NamedTuple):
    who: str
    part: str  # "tuning" or "held-out"
    query: str
    answers: frozenset[str]


class Scores(NamedTuple):
    s1: float
    s3: float
    mrr: float
    misses: list[tuple[Judged, list[str]]]


def load(path: Path = QUERIES) -> list[Judged]:
    judged = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        who, part, query, answers = line.split("\t")
        judged.append(Judged(who, part, query, frozenset(answers.split())))
    return judged


def score(judged: Sequence[Judged], ranked: Callable[[str], list[str]]) -> Scores:
    s1 = s3 = rr = 0.0
    misses = []
    for item in judged:
        names = ranked(item.query)[:DEPTH]
        rank = next((i for i, name in enumerate(names, 1) if name in item.answers), None)
        s1 += rank == 1
        s3 += rank is not None and rank <= 3
        rr += 1 / rank if rank else 0.0
        if rank != 1:
            misses.append((item, names[:3]))
    n = len(judged)
    return Scores(s1 / n, s3 / n, rr / n, misses)


def promptlib_ranker() -> Callable[[str], list[str]]:
    from promptlib.index import search

    def ranked(query: str) -> list[str]:
        return [h.name for h in search.search(query.split(), limit=DEPTH).hits]

    return ranked


def fzf_ranker(fzf: str) -> Callable[[str], list[str]]:
    """`fzf --filter QUERY` over one line per recipe; fzf prints the matching lines best first."""
    import yaml

    from promptlib import paths

    lines = []
    for path in sorted(paths.starter_library().rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        description = " ".join(str(doc["description"]).split())
        lines.append(f"{doc['name']}  {doc['title']}  [{', '.join(doc['tags'])}]  {description}")
    stdin = "\n".join(lines) + "\n"

    def ranked(query: str) -> list[str]:
        done = subprocess.run([fzf, "--filter", query], input=stdin, capture_output=True,
                              text=True, check=False)
        return [line.split("  ", 1)[0] for line in done.stdout.splitlines()]

    return ranked


def cached(ranked: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    seen: dict[str, list[str]] = {}
    return lambda query: seen.setdefault(query, ranked(query)) if query not in seen else seen[query]


def main(argv: Sequence[str]) -> int:
    judged = load()
    home = Path(tempfile.mkdtemp(prefix="promptlib-relevance-"))
    os.environ["PROMPTLIB_HOME"] = str(home)
    os.environ.setdefault("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    for var, value in (("GIT_AUTHOR_NAME", "Bench"), ("GIT_AUTHOR_EMAIL", "bench@example.test"),
                       ("GIT_COMMITTER_NAME", "Bench"),
                       ("GIT_COMMITTER_EMAIL", "bench@example.test")):
        os.environ.setdefault(var, value)
    fzf = shutil.which("fzf")
    rankers = {"promptlib": promptlib_ranker}
    if fzf:
        rankers["fzf --filter"] = lambda: fzf_ranker(fzf)
    try:
        ranked = {label: cached(make()) for label, make in rankers.items()}
        tuning = [j for j in judged if j.part == "tuning"]
        held_out = [j for j in judged if j.part == "held-out"]
        results = {label: score(tuning, rank) for label, rank in ranked.items()}
        held = {label: score(held_out, rank) for label, rank in ranked.items()}
    finally:
        shutil.rmtree(home, ignore_errors=True)
    people = sorted({j.who for j in judged})
    counts = ", ".join(f"{sum(j.who == p for j in judged)} {p}" for p in people)
    print(f"judged queries: {len(judged)} ({counts}) over the starter library: "
          f"{len(tuning)} judged, {len(held_out)} held out\n")
    print("| search        | queries        | success@1 | success@3 |   MRR |")
    print("|---------------|----------------|-----------|-----------|-------|")
    for part, scores, n in (("judged", results, len(tuning)), ("held out", held, len(held_out))):
        for label, s in scores.items():
            print(f"| {label:<13} | {part:<8} ({n:3}) | {s.s1:9.3f} | {s.s3:9.3f} | "
                  f"{s.mrr:5.3f} |")
    if not fzf:
        print("\nfzf is not installed: its column is skipped (Debian: apt-get install fzf)")
    if "--misses" in argv:
        for label, s in [*results.items(), *((f"{k} (held out)", v) for k, v in held.items())]:
            print(f"\n{label}: not first for {len(s.misses)} queries")
            for item, top in s.misses:
                print(f"  {item.query!r}: wanted {' or '.join(sorted(item.answers))}; got "
                      f"{', '.join(top) or 'nothing'}")
    ours = results["promptlib"]
    ok = ours.s1 >= TARGET_S1 and ours.s3 >= TARGET_S3 and all(
        ours.s1 > s.s1 and ours.s3 > s.s3 for label, s in results.items() if label != "promptlib")
    print(f"\ntargets: success@1 >= {TARGET_S1}, success@3 >= {TARGET_S3}, ahead of fzf: "
          + ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
