"""The periods of `promptlib report`: parsing its dates, bucketing days, and trends.

Every event has a calendar day, taken in the time zone it was recorded in (a commit's author date
with the author's offset, a win's `at`, a render's local time). Days fall into periods — ISO weeks
(`2024-W18`) or months (`2024-05`) — between `since` and `until` (default: the last 12 periods up
to today). The periods shown follow the data, so the cost does too, not the dates typed: an
explicit `--since` starts at the first period with an event in range, an `--until` after today
ends at today (or at a later event), and a span longer than MAX_PERIODS is refused. "Trend"
compares the last period of the window with the one before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any, Literal

from promptlib.errors import InvalidError
from promptlib.metrics.files import iso_day
from promptlib.metrics.wins import rounded

By = Literal["week", "month"]
DEFAULT_PERIODS = 12
# A report never shows more periods than this (38 years of weeks, 166 of months): a span of
# data that long takes a forged date, and the terminal table draws about 1,000 rows a second.
MAX_PERIODS = 2000


def parse_day(text: str, what: str) -> date:
    """A `YYYY-MM-DD` day; anything else is an InvalidError naming the option (`what`)."""
    day = iso_day(text.strip())
    if day is not None:
        return date.fromisoformat(day)
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


def period_lookup(by: By) -> Callable[[str], str | None]:
    """A memoised `YYYY-MM-DD` → period key (None for a day that does not parse)."""
    cache: dict[str, str | None] = {}

    def lookup(day: str) -> str | None:
        if day not in cache:
            try:
                cache[day] = period_key(date.fromisoformat(day), by)
            except ValueError:
                cache[day] = None
        return cache[day]

    return lookup


def trend(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each figure in the last period against the one before it (a rate, to four places; a
    figure that is None — a rate with nobody to count — has no change)."""
    if not rows:
        return {}
    current = rows[-1]
    previous = rows[-2] if len(rows) > 1 else {}
    out: dict[str, dict[str, Any]] = {}
    for key, value in current.items():
        if key == "period":
            continue
        before = previous.get(key, 0)
        change = None if value is None or before is None else rounded(value - before, 4)
        out[key] = {"current": value, "previous": before, "change": change}
    return out
