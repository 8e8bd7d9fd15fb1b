"""`promptlib report`: whether good prompts are spreading, from evidence already on disk.

No server. Per selected collection the report reads: ONE `git log --name-status` (the whole
history, oldest first — digested into a cache keyed by HEAD, so later runs read only the commits
that are new), ONE `git grep` for `shared_from:`, the `wins/` and `usage/` files, and the local
usage log. Git runs in worker threads while Python parses the files, so the slowest git call sets
the time. Only recipe files count as history: `*.yaml` outside hidden folders and outside the
top-level `wins/` and `usage/`. Rename detection is off, so a moved recipe is a delete plus an add.

Every event has a calendar day, taken in the time zone it was recorded in (a commit's author date
with the author's offset, a win's `at`, a render's local time). Days fall into periods — ISO weeks
(`2024-W18`) or months (`2024-05`) — between `since` and `until` (default: the last 12 periods up
to today). The periods shown follow the data, so the cost does too, not the dates typed: an
explicit `--since` starts at the first period with an event in range, an `--until` after today
ends at today (or at a later event), and a span longer than MAX_PERIODS is refused. "Trend"
compares the last period of the window with the one before it.

Definitions — "you" is the git identity (email) of each collection:

Voluntary adoption
- renders: renders of the selected collections' recipes — from every published `usage/` file,
  except this machine's own, which the live local log replaces (so nothing counts twice).
- renderers: distinct people (emails) with at least one render in the period.
- contributors: distinct authors (emails) of commits that add or change at least one recipe
  file in the period. The commit that seeds `local` from the starter library does not count.
Peer sharing
- shared across collections: recipes now in a selected collection that carry `shared_from`
  (set by `promptlib share`), dated by the commit that added the file.
- improved by others: distinct recipe files changed in the period by a commit whose author email
  differs from the author of the commit that added the file.
- arrived from others: recipe files added in the period by a commit whose author is not you —
  recipes that reached you from colleagues through pull.
Concrete ROI
- minutes saved: the sum of the `minutes` of the wins recorded in the period; per recipe over the
  window, with the count of wins; best notes are the largest wins that carry a note.
- most rendered: recipes by renders over the window.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from promptlib import config, gitops, metrics, store
from promptlib.errors import InvalidError, PromptlibError
from promptlib.store import Collection

By = Literal["week", "month"]
DEFAULT_PERIODS = 12
# A report never shows more periods than this (38 years of weeks, 166 of months): a span of
# data that long takes a forged date, and the terminal table draws about 1,000 rows a second.
MAX_PERIODS = 2000
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
BEST_NOTES = 5
MOST_RENDERED = 10
_LOG_FORMAT = "--format=%x1e%ae%x1f%aI%x1f%s"
PARALLEL_LOG_FROM = 1000  # commits: below this, one `git log` is quicker than several


@dataclass
class Report:
    """The document `--json` prints (and the terminal and HTML views draw), plus problems."""

    doc: dict[str, Any]
    problems: list[str] = field(default_factory=list)


# --- periods --------------------------------------------------------------------------------------


def parse_day(text: str, what: str) -> date:
    """A `YYYY-MM-DD` day; anything else is an InvalidError naming the option (`what`)."""
    value = text.strip()
    if _DAY_RE.fullmatch(value):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value)
    raise InvalidError(f"bad {what} date {text!r}", hint="use YYYY-MM-DD, e.g. 2024-05-01")


def period_start(day: date, by: By) -> date:
    # Never before date.min: 0001-01-01 is a Monday and the first of a month.
    return day - timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)


def period_key(day: date, by: By) -> str:
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{day.year:04d}-{day.month:02d}"


def _key_start(key: str, by: By) -> date:
    """The first day of a period `period_key` made."""
    year, _, rest = key.partition("-")
    if by == "week":
        return date.fromisocalendar(int(year), int(rest.removeprefix("W")), 1)
    return date(int(year), int(rest), 1)


def _next_start(start: date, by: By) -> date | None:
    """The next period's first day; None past the end of the calendar (9999-12-31)."""
    try:
        if by == "week":
            return start + timedelta(days=7)
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    except (OverflowError, ValueError):
        return None


def _previous_start(start: date, by: By) -> date | None:
    """The previous period's first day; None before the start of the calendar (0001-01-01)."""
    try:
        if by == "week":
            return start - timedelta(days=7)
        return (start - timedelta(days=1)).replace(day=1)
    except OverflowError:
        return None


def bounds(since: str | None, until: str | None, by: By,
           today: date | None = None) -> tuple[date, date]:
    """The first and last day asked for: `--until` or today, `--since` or DEFAULT_PERIODS
    periods back (from today at the latest). InvalidError for a date that does not parse."""
    today = today or date.today()
    last = parse_day(until, "--until") if until is not None else today
    if since is not None:
        first = parse_day(since, "--since")
    else:
        first = period_start(min(last, today), by)
        for _ in range(DEFAULT_PERIODS - 1):
            first = _previous_start(first, by) or first
    if first > last:
        raise InvalidError(f"--since {first} is after --until {last}")
    return first, last


def period_keys(first: date, last: date, by: By) -> list[str]:
    """The keys of the periods from the one holding `first` to the one holding `last`."""
    keys = []
    start: date | None = period_start(first, by)
    while start is not None and start <= last:
        keys.append(period_key(start, by))
        start = _next_start(start, by)
    return keys


def count_periods(first: date, last: date, by: By) -> int:
    """len(period_keys(first, last, by)), without making them."""
    a, b = period_start(first, by), period_start(last, by)
    if by == "week":
        return (b - a).days // 7 + 1
    return (b.year - a.year) * 12 + b.month - a.month + 1


def window(since: str | None, until: str | None, by: By,
           today: date | None = None) -> tuple[date, date, list[str]]:
    """The first and last day, and every period key in between (see `span` for the periods a
    report shows, which follow its data)."""
    first, last = bounds(since, until, by, today)
    return first, last, period_keys(first, last, by)


def span(first: date, last: date, by: By, data: Iterable[str], *, since_given: bool,
         today: date | None = None) -> list[str]:
    """The periods a report shows, so that its cost follows the data, not the dates typed.

    `data` are the keys of the periods that hold at least one event (all within first..last).
    An explicit `--since` starts at the first of them (or, with none, at the last period); an
    `--until` after today ends at today or at the last of them, whichever is later. At most
    MAX_PERIODS periods: a longer span is an InvalidError.
    """
    today = today or date.today()
    starts = sorted(_key_start(key, by) for key in set(data))
    end = last
    if last > today:
        end = min(last, max(first, today, *starts[-1:]))
    begin = period_start(first, by)
    if since_given:
        begin = starts[0] if starts else period_start(end, by)
    n = count_periods(begin, end, by)
    if n > MAX_PERIODS:
        unit = "weeks" if by == "week" else "months"
        raise InvalidError(f"the report would span {n:,} {unit} of data ({begin} to {end}); at "
                           f"most {MAX_PERIODS:,}",
                           hint="choose a later --since or an earlier --until"
                                + (", or --by month" if by == "week" else ""))
    return period_keys(begin, end, by)


# --- git history ----------------------------------------------------------------------------------


def is_recipe_path(path: str) -> bool:
    if not path.endswith(config.RECIPE_SUFFIX):
        return False
    parts = path.split("/")
    if len(parts) > 1 and parts[0] in config.RESERVED_DIRS:
        return False
    return not any(part.startswith(".") for part in parts)


@dataclass
class History:
    """What one collection's history says, as dated events."""

    contributions: list[tuple[str, str]] = field(default_factory=list)  # (day, email)
    arrived: list[tuple[str, str]] = field(default_factory=list)  # (day, path)
    improved: list[tuple[str, str, str]] = field(default_factory=list)  # (day, path, email)
    added: dict[str, tuple[str, str]] = field(default_factory=dict)  # live path -> (email, day)


# One commit, reduced to what the report needs: (author email, day, is the seed commit,
# [(status letter, recipe path), ...]). Commits that touch no recipe file are dropped.
Change = tuple[str, str]
CompactCommit = tuple[str, str, bool, list[Change]]
_CACHE_VERSION = 1


def history_commits(coll: Collection) -> list[CompactCommit]:
    """The collection's recipe history, oldest first, from a cache kept in step with HEAD.

    The cache (one JSON file per collection in the cache dir) is keyed by the HEAD it was read
    at: history below a commit never changes, so when the old HEAD is an ancestor of the new one
    only the commits in between are read; anything else (a reset, a rewrite) reads it all again.
    """
    head = _head(coll)
    if head is None:
        return []
    path = config.report_cache(coll.name)
    cached = _read_cache(path)
    if cached is not None and cached[0] == head:
        return cached[1]
    commits: list[CompactCommit] | None = None
    if cached is not None and _is_ancestor(coll, cached[0], head):
        commits = cached[1] + compact(git_log(coll, f"{cached[0]}..{head}"))
    if commits is None:
        commits = _read_all(coll, head)
    _write_cache(path, head, commits)
    return commits


def _read_all(coll: Collection, head: str) -> list[CompactCommit]:
    """The whole history. Diffing trees is most of `git log`'s time and uses one core, so a long
    history is read in slices (`--skip`/`--max-count` over the same walk), one git per core."""
    import os

    workers = min(4, os.cpu_count() or 1)
    total = int(gitops.run(coll.path, "rev-list", "--count", "--no-merges", head) or 0)
    if workers < 2 or total < PARALLEL_LOG_FROM:
        return compact(git_log(coll, head))
    size = -(-total // workers)

    def piece(i: int) -> str:  # newest first, like the walk itself
        return gitops.run(coll.path, "log", "--no-merges", "--no-renames", _LOG_FORMAT,
                          "--name-status", f"--skip={i * size}", f"--max-count={size}", head,
                          "--")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pieces = list(pool.map(piece, range(workers)))
    commits = [c for text in pieces for c in compact(text)]
    commits.reverse()
    return commits


def _head(coll: Collection) -> str | None:
    out = gitops.run(coll.path, "rev-parse", "--verify", "--quiet", "HEAD^{commit}",
                     with_exceptions=False)
    sha = out.strip()
    return sha if len(sha) == 40 and all(c in "0123456789abcdef" for c in sha) else None


def _is_ancestor(coll: Collection, old: str, new: str) -> bool:
    try:
        gitops.run(coll.path, "merge-base", "--is-ancestor", old, new)
    except PromptlibError:
        return False
    return True


def _read_cache(path: Path) -> tuple[str, list[CompactCommit]] | None:
    import json

    try:
        doc = json.loads(path.read_bytes())
        if doc.get("version") != _CACHE_VERSION:
            return None
        commits = [(c[0], c[1], bool(c[2]), [(ch[0], ch[1]) for ch in c[3]])
                   for c in doc["commits"]]
        return str(doc["head"]), commits
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def _write_cache(path: Path, head: str, commits: list[CompactCommit]) -> None:
    import json

    data = json.dumps({"version": _CACHE_VERSION, "head": head, "commits": commits},
                      separators=(",", ":")).encode("utf-8")
    # A cache that cannot be written only costs time on the next run.
    with contextlib.suppress(OSError):
        store.write_atomic(path, data)


def git_log(coll: Collection, revisions: str) -> str:
    """One `git log` over `revisions` (a sha or `old..new`, never a user string), oldest first."""
    return gitops.run(coll.path, "log", "--reverse", "--no-merges", "--no-renames",
                      _LOG_FORMAT, "--name-status", revisions, "--")


def compact(text: str) -> list[CompactCommit]:
    """`git log --format=… --name-status` output → the commits that touch recipe files."""
    commits: list[CompactCommit] = []
    for record in text.split("\x1e")[1:]:
        header, _, body = record.partition("\n")
        fields = header.split("\x1f", 2)
        if len(fields) != 3:
            continue
        changes: list[Change] = []
        for line in body.splitlines():
            status, _, path = line.partition("\t")
            if not path:
                continue
            if path.startswith('"'):
                path = _unquote(path)
            if is_recipe_path(path):
                changes.append((status[:1], path))
        if changes:
            commits.append((fields[0].lower(), fields[1][:10], fields[2] == store.SEED_MESSAGE,
                            changes))
    return commits


def parse_history(commits: list[CompactCommit], me: str) -> History:
    """Walk the commits once, oldest first, into dated events."""
    history = History()
    added = history.added
    for email, day, seed, changes in commits:
        contributed = False
        for kind, path in changes:
            if kind == "A":
                added[path] = (email, day)
                contributed = True
                if email != me and not seed:
                    history.arrived.append((day, path))
            elif kind in ("M", "T"):
                contributed = True
                owner = added.get(path)
                if owner is not None and owner[0] != email:
                    history.improved.append((day, path, email))
            elif kind == "D":
                added.pop(path, None)
        if contributed and not seed:
            history.contributions.append((day, email))
    return history


def _unquote(path: str) -> str:
    """git's C-style quoting of an unusual path (`"a\\tb.yaml"`) undone."""
    import codecs

    inner = path[1:-1] if path.endswith('"') else path[1:]
    try:
        return codecs.escape_decode(inner.encode("utf-8"))[0].decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return inner


def shared_from(coll: Collection) -> dict[str, str]:
    """path → `shared_from` value, for every tracked recipe file that has one (one `git grep`)."""
    out = gitops.run(coll.path, "grep", "-z", "-I", "--full-name", "--no-color", "-e",
                     "^shared_from:", "--", "*.yaml", with_exceptions=False)
    found: dict[str, str] = {}
    for line in out.splitlines():
        path, _, text = line.partition("\0")
        if is_recipe_path(path):
            value = text.partition(":")[2].split("#", 1)[0].strip().strip("'\"")
            found[path] = metrics.one_line(value[:200])  # from a pull: printed, so one line
    return found


# --- the report -----------------------------------------------------------------------------------


@dataclass
class _Tally:
    """Counters keyed by period (and, for people and recipes, sets)."""

    by_period: dict[str, Any] = field(default_factory=dict)

    def add(self, period: str, value: Any = 1) -> None:
        self.by_period[period] = self.by_period.get(period, 0) + value

    def add_to_set(self, period: str, item: str) -> None:
        self.by_period.setdefault(period, set()).add(item)


def build(since: str | None = None, until: str | None = None, by: By = "week",
          teams: Sequence[str] = (), *, today: date | None = None) -> Report:
    """The whole report for the selected collections (all when `teams` is empty)."""
    first, last = bounds(since, until, by, today)
    colls = store.selected(list(teams))
    lo, hi = first.isoformat(), last.isoformat()
    period_of = _period_lookup(by)

    def in_window(day: str) -> str | None:
        return period_of(day) if lo <= day <= hi else None

    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=min(8, 3 * len(colls) or 1)) as pool:
        logs: dict[str, Future[list[CompactCommit]]] = {
            c.name: pool.submit(history_commits, c) for c in colls}
        greps = {c.name: pool.submit(shared_from, c) for c in colls}
        ids = {c.name: pool.submit(gitops.identity, c.path) for c in colls}
        # Meanwhile, in this thread: wins, published usage, the local log.
        wins: list[metrics.Win] = []
        usage: dict[str, list[metrics.UsageCount]] = {}
        for coll in colls:
            found, bad = metrics.load_wins(coll)
            wins += found
            usage[coll.name], more_bad = metrics.load_usage(coll)
            problems += bad + more_bad
        local_log = metrics.read_log()
        mine = metrics.machine_id_if_any()
        me = {name: f.result()[1].lower() for name, f in ids.items()}
        histories = {name: parse_history(logs[name].result(), me[name]) for name in logs}
        shares_raw = {name: f.result() for name, f in greps.items()}

    adoption = _adoption(colls, usage, local_log, mine, me, histories, in_window)
    sharing = _sharing(colls, histories, shares_raw, in_window)
    roi = _roi(wins, adoption.pop("_rendered"), in_window)
    periods = span(first, last, by, [key for section in (adoption, sharing, roi)
                                     for key in section["per_period"]],
                   since_given=since is not None, today=today)
    for section in (adoption, sharing, roi):
        per_period = section["per_period"]
        section["per_period"] = [{"period": p, **per_period.get(p, section["_zero"])}
                                 for p in periods]
        del section["_zero"]
        section["trend"] = _trend(section["per_period"])
    doc = {
        "by": by, "since": lo, "until": hi, "periods": periods,
        "current_period": periods[-1], "previous_period": periods[-2] if len(periods) > 1 else None,
        "collections": [c.name for c in colls],
        "recipes": sum(len(h.added) for h in histories.values()),
        "adoption": adoption, "sharing": sharing, "roi": roi,
    }
    return Report(doc, problems)


def _period_lookup(by: By) -> Callable[[str], str | None]:
    cache: dict[str, str | None] = {}

    def lookup(day: str) -> str | None:
        if day not in cache:
            try:
                cache[day] = period_key(date.fromisoformat(day), by)
            except ValueError:
                cache[day] = None
        return cache[day]

    return lookup


def _adoption(colls: Sequence[Collection], usage: dict[str, list[metrics.UsageCount]],
              local_log: list[metrics.Render], mine: str | None, me: dict[str, str],
              histories: dict[str, History], in_window: Callable[[str], str | None]
              ) -> dict[str, Any]:
    renderers = _Tally()
    renders = _Tally()
    contributors = _Tally()
    rendered: Counter[str] = Counter()
    everyone_rendering: set[str] = set()
    everyone_contributing: set[str] = set()

    def count(period: str, person: str, recipe_id: str, n: int) -> None:
        renders.add(period, n)
        renderers.add_to_set(period, person)
        everyone_rendering.add(person)
        rendered[recipe_id] += n

    for coll in colls:
        for usage_count in usage[coll.name]:
            period = in_window(usage_count.day)
            if period is None or (mine is not None and usage_count.machine == mine):
                continue
            for name, n in usage_count.renders.items():
                count(period, usage_count.person, f"{coll.name}/{name}", n)
    selected = {c.name for c in colls}
    for render in local_log:
        if render.collection in selected:
            period = in_window(render.day)
            if period is not None:
                person = (render.person or me[render.collection]).lower()
                count(period, person, f"{render.collection}/{render.name}", 1)
    for history in histories.values():
        for day, email in history.contributions:
            period = in_window(day)
            if period is not None:
                contributors.add_to_set(period, email)
                everyone_contributing.add(email)
    from promptlib import settings

    configured = settings.load().collections
    per_period: dict[str, dict[str, int]] = {}
    for period in {*renders.by_period, *contributors.by_period}:
        per_period[period] = {
            "renderers": len(renderers.by_period.get(period, ())),
            "renders": renders.by_period.get(period, 0),
            "contributors": len(contributors.by_period.get(period, ())),
        }
    return {
        "renderers": len(everyone_rendering),
        "renders": sum(rendered.values()),
        "contributors": len(everyone_contributing),
        "publishing": {c.name: isinstance(configured.get(c.name), dict)
                       and configured[c.name].get("publish_usage") is True for c in colls},
        "per_period": per_period,
        "_zero": {"renderers": 0, "renders": 0, "contributors": 0},
        "_rendered": rendered,
    }


def _sharing(colls: Sequence[Collection], histories: dict[str, History],
             shares_raw: dict[str, dict[str, str]], in_window: Callable[[str], str | None]
             ) -> dict[str, Any]:
    shared = _Tally()
    improved = _Tally()
    arrived = _Tally()
    shares: list[dict[str, str]] = []
    improvements: dict[str, set[str]] = {}
    for coll in colls:
        history = histories[coll.name]
        for path, origin in sorted(shares_raw[coll.name].items()):
            owner = history.added.get(path)
            period = in_window(owner[1]) if owner else None
            if owner is not None and period is not None:
                shared.add(period)
                shares.append({"id": _id(coll.name, path), "shared_from": origin,
                               "date": owner[1], "by": owner[0]})
        for day, path, email in history.improved:
            period = in_window(day)
            if period is not None:
                recipe_id = _id(coll.name, path)
                improved.add_to_set(period, recipe_id)
                improvements.setdefault(recipe_id, set()).add(email)
        for day, _path in history.arrived:
            period = in_window(day)
            if period is not None:
                arrived.add(period)
    per_period = {
        period: {"shared": shared.by_period.get(period, 0),
                 "improved": len(improved.by_period.get(period, ())),
                 "arrived": arrived.by_period.get(period, 0)}
        for period in {*shared.by_period, *improved.by_period, *arrived.by_period}
    }
    shares.sort(key=lambda s: (s["date"], s["id"]))
    return {
        "shared_across_collections": len(shares),
        "improved_by_others": len(improvements),
        "arrived_from_others": sum(arrived.by_period.values()),
        "shares": shares,
        "improved": [{"id": recipe_id, "by": len(people)}
                     for recipe_id, people in sorted(improvements.items())],
        "per_period": per_period,
        "_zero": {"shared": 0, "improved": 0, "arrived": 0},
    }


def _roi(wins: list[metrics.Win], rendered: Counter[str],
         in_window: Callable[[str], str | None]) -> dict[str, Any]:
    minutes = _Tally()
    count = _Tally()
    by_recipe: dict[str, list[float]] = {}
    kept: list[metrics.Win] = []
    for win in wins:
        period = in_window(win.day)
        if period is None:
            continue
        kept.append(win)
        minutes.add(period, win.minutes)
        count.add(period)
        by_recipe.setdefault(win.recipe, []).append(win.minutes)
    noted = sorted((w for w in kept if w.note), key=lambda w: (-w.minutes, w.at))
    return {
        "total_minutes": _number(sum(w.minutes for w in kept)),
        "wins": len(kept),
        "by_recipe": sorted(({"id": rid, "minutes": _number(sum(m)), "wins": len(m)}
                             for rid, m in by_recipe.items()),
                            key=lambda r: (-r["minutes"], r["id"])),
        "best_notes": [{"id": w.recipe, "minutes": _number(w.minutes), "note": w.note,
                        "author": w.author, "date": w.day} for w in noted[:BEST_NOTES]],
        "most_rendered": [{"id": rid, "renders": n} for rid, n in
                          sorted(rendered.items(), key=lambda kv: (-kv[1], kv[0]))
                          [:MOST_RENDERED]],
        "per_period": {p: {"minutes": _number(minutes.by_period[p]), "wins": count.by_period[p]}
                       for p in minutes.by_period},
        "_zero": {"minutes": 0, "wins": 0},
    }


def _trend(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each figure in the last period against the one before it."""
    if not rows:
        return {}
    current = rows[-1]
    previous = rows[-2] if len(rows) > 1 else {}
    return {key: {"current": value, "previous": previous.get(key, 0),
                  "change": _number(value - previous.get(key, 0))}
            for key, value in current.items() if key != "period"}


def _id(collection: str, path: str) -> str:
    return f"{collection}/{path.rpartition('/')[2].removesuffix(config.RECIPE_SUFFIX)}"


def _number(value: float) -> float | int:
    value = round(value, 2)
    return int(value) if value == int(value) else value
