"""`promptlib report` in a terminal: Rich tables with bar charts — adoption (with the rate and the
teams), use cases, peer sharing (with who learned from whom) and ROI (with compression).

The only command that imports Rich (DESIGN §5): the report is read, not scripted, and it is
never on a hot path. Colour only on a TTY and never with NO_COLOR; piped, it is plain text.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from promptlib import paths as config
from promptlib.metrics.wins import format_minutes

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

BAR_WIDTH = 24
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar in eighth-blocks: `value` of `largest` over `width` cells."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def show(doc: dict[str, Any], stream: Any = None) -> None:
    """Print the report to stdout (or `stream`)."""
    from rich.console import Console  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    out = stream or sys.stdout
    console = Console(file=out, no_color=config.no_color(), highlight=False, emoji=False,
                      soft_wrap=False, width=None if out.isatty() else 100)
    _header(console, doc)
    _adoption(console, doc)
    _by_team(console, doc.get("by_team", []))
    _by_use_case(console, doc.get("by_use_case", []))
    _sharing(console, doc)
    _transmissions(console, doc["sharing"])
    _roi(console, doc)
    _compression(console, doc["roi"])


def _header(console: Console, doc: dict[str, Any]) -> None:
    console.print(f"[bold]promptlib report[/bold]  {doc['since']} → {doc['until']}, "
                  f"by {doc['by']}  ·  collections: {', '.join(doc['collections'])}  ·  "
                  f"{doc['recipes']:,} recipes", markup=True)


def _section(console: Console, title: str, question: str) -> None:
    console.print()
    console.rule(f"[bold]{title}[/bold]", align="left")
    console.print(f"[dim]{question}[/dim]")


def _trend_text(trend: dict[str, Any], key: str, unit: str = "") -> str:
    """`▲ 2 (this period 5, previous 3)`: the last period against the one before."""
    t = trend.get(key)
    if not t:
        return ""
    change = t["change"]
    if change is None:
        return ""
    if change > 0:
        mark = f"[green]▲ {_fmt(change, unit)}[/green]"
    elif change < 0:
        mark = f"[red]▼ {_fmt(-change, unit)}[/red]"
    else:
        mark = "[dim]= no change[/dim]"
    return (f"{mark} [dim](this period {_fmt(t['current'], unit)}, previous "
            f"{_fmt(t['previous'], unit)})[/dim]")


def _figures(console: Console, trend: dict[str, Any],
             figures: Sequence[tuple[str, str, str]]) -> None:
    """One line per figure, (label, value shown, trend key): `  label: value  ▲ trend`."""
    for label, value, key in figures:
        console.print(f"  {label}: [bold]{value}[/bold]  {_trend_text(trend, key)}")


def _fmt(value: float | None, unit: str) -> str:
    if unit == "min":
        return format_minutes(value or 0)
    if unit == "%":
        return percent(value)
    if unit == "pts":
        return f"{(value or 0) * 100:.0f} pts"
    return f"{value:,g}"


def percent(rate: float | None) -> str:
    """A rate (a fraction) as a whole percent; `–` when there is none (nobody to count)."""
    return "–" if rate is None else f"{rate * 100:.0f}%"


def _period_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]]
                  ) -> Table:
    """One row per period; each column is (key, header, style), drawn as a bar and a number."""
    from rich.table import Table  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("period", no_wrap=True)
    largest = {key: max((r[key] or 0 for r in rows), default=0) for key, _, _ in columns}
    for _, header, _ in columns:
        table.add_column(header, no_wrap=True)
    for key in largest:
        if key == "rate":  # a rate's bar is drawn against everyone, not the best period
            largest[key] = 1
    for row in rows:
        cells = [row["period"]]
        for key, _, style in columns:
            value = row[key]
            if key == "rate":
                text = percent(value)
            else:
                text = format_minutes(value) if key == "minutes" and value else f"{value:,g}"
            cells.append(f"[{style}]{bar(value or 0, largest[key], 16):<16}[/{style}] {text}")
        table.add_row(*cells)
    return table


def _adoption(console: Console, doc: dict[str, Any]) -> None:
    a = doc["adoption"]
    _section(console, "Voluntary adoption",
             "How many people reach for recipes, and add to them, without being told to?")
    published = [name for name, on in a["publishing"].items() if on]
    _figures(console, a["trend"], [("people rendering", f"{a['renderers']}", "renderers"),
                                   ("renders", f"{a['renders']:,}", "renders"),
                                   ("people contributing recipes", f"{a['contributors']}",
                                    "contributors")])
    if "rate" in a:
        console.print(f"  adoption rate: [bold]{percent(a['rate'])}[/bold] of {a['known']} "
                      f"{'person' if a['known'] == 1 else 'people'} known  "
                      f"{_rate_trend(a['trend'])}")
    console.print("  [dim]renders come from published usage/ files "
                  f"({', '.join(published) or 'no collection publishes yet'}) "
                  "and your own usage log[/dim]")
    columns = [("renderers", "people rendering", "cyan"), ("renders", "renders", "blue"),
               ("contributors", "contributors", "magenta")]
    if "rate" in a:
        columns.insert(1, ("rate", "rate", "green"))
    console.print(_period_table(a["per_period"], columns))


def _rate_trend(trend: dict[str, Any]) -> str:
    """`▲ 17 pts (this period 33%, previous 17%)`."""
    t = trend.get("rate")
    if not t or t["change"] is None:
        return ""
    change = t["change"]
    mark = (f"[green]▲ {_fmt(change, 'pts')}[/green]" if change > 0 else
            f"[red]▼ {_fmt(-change, 'pts')}[/red]" if change < 0 else "[dim]= no change[/dim]")
    return (f"{mark} [dim](this period {percent(t['current'])}, previous "
            f"{percent(t['previous'])})[/dim]")


def _small_table(title: str, headers: Sequence[str]) -> Table:
    from rich.table import Table  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold",
                  title=title, title_justify="left", title_style="bold")
    for header in headers:
        table.add_column(header, no_wrap=True)
    return table


def _by_team(console: Console, rows: Sequence[dict[str, Any]]) -> None:
    """Which teams are adopting: one row per collection, the highest rate first."""
    from rich.markup import escape  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    if not rows:
        return
    table = _small_table("by team", ["team", "rate", "people rendering", "known", "renders",
                                     "contributors", "wins", "time saved"])
    for row in rows:
        known = f"{row['known']}{' (roster)' if row.get('known_from') == 'roster' else ''}"
        table.add_row(escape(row["collection"]),
                      f"[green]{bar(row['rate'] or 0, 1, 12):<12}[/green] {percent(row['rate'])}",
                      f"{row['renderers']}", known, f"{row['renders']:,}",
                      f"{row['contributors']}", f"{row['wins']}",
                      format_minutes(row["minutes"]) if row["minutes"] else "0")
    console.print()
    console.print(table)


def _by_use_case(console: Console, rows: Sequence[dict[str, Any]]) -> None:
    """Where recipes are put to work: renders per use case (the first tag), largest first."""
    from rich.markup import escape  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    if not rows:
        return
    _section(console, "Use cases", "Where do recipes get used: incident response, tickets, "
                                   "scripts, …? (a recipe's first tag)")
    table = _small_table("", ["use case", "renders", "people", "wins", "time saved",
                              "recipes"])
    largest = max(row["renders"] for row in rows)
    for row in rows:
        table.add_row(escape(row["use_case"]),
                      f"[blue]{bar(row['renders'], largest, 20):<20}[/blue] {row['renders']:,}",
                      f"{row['people']}", f"{row['wins']}",
                      format_minutes(row["minutes"]) if row["minutes"] else "0",
                      f"{row['recipes']:,}")
    console.print(table)


def _sharing(console: Console, doc: dict[str, Any]) -> None:
    s = doc["sharing"]
    _section(console, "Peer sharing",
             "Do good recipes travel between people and teams?")
    _figures(console, s["trend"],
             [("shared across collections", f"{s['shared_across_collections']}", "shared"),
              ("improved by someone other than their author", f"{s['improved_by_others']}",
               "improved"),
              ("arrived from others (by pull)", f"{s['arrived_from_others']:,}", "arrived")])
    columns = [("shared", "shared", "green"), ("improved", "improved by others", "yellow"),
               ("arrived", "arrived", "cyan")]
    if "transmissions" in s:
        columns.append(("transmissions", "transmissions", "magenta"))
    console.print(_period_table(s["per_period"], columns))
    if s["shares"]:
        from rich.markup import escape  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

        console.print("  [bold]latest shares[/bold]")
        for share in s["shares"][-5:]:
            console.print(f"    {escape(share['id'])} [dim]← {escape(share['shared_from'])} "
                          f"({share['date']})[/dim]")


def _transmissions(console: Console, s: dict[str, Any]) -> None:
    """Person to person: how many first renders of someone else's recipe, who spreads them, who
    learned from whom, and the longest chains of teams."""
    from rich.markup import escape  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    if "transmissions" not in s:
        return
    console.print()
    console.print(f"  transmissions (a first render of someone else's recipe): "
                  f"[bold]{len(s['transmissions'])}[/bold]  "
                  f"{_trend_text(s['trend'], 'transmissions')}")
    if s["spreaders"]:
        console.print("  [bold]top spreaders[/bold] [dim](people whose recipes others took "
                      "up)[/dim]")
        for row in s["spreaders"]:
            console.print(f"    {escape(row['person'])}: {row['transmissions']} "
                          f"[dim]({row['people']} "
                          f"{'person' if row['people'] == 1 else 'people'}, {row['recipes']} "
                          f"recipe{'' if row['recipes'] == 1 else 's'})[/dim]")
    if s["learned_from"]:
        console.print("  [bold]who learned from whom[/bold]")
        for edge in s["learned_from"][:10]:
            console.print(f"    {escape(edge['from'])} → {escape(edge['to'])} "
                          f"[dim]×{edge['transmissions']}[/dim]")
        if len(s["learned_from"]) > 10:
            console.print(f"    [dim]… and {len(s['learned_from']) - 10} more pairs[/dim]")
    if s["chains"]:
        console.print("  [bold]longest chains[/bold] [dim](shared team to team, each team "
                      "rendering it)[/dim]")
        for chain in s["chains"]:
            hops = " → ".join(f"{escape(r)} [dim]({n:,})[/dim]"
                              for r, n in zip(chain["path"], chain["renders"], strict=True))
            console.print(f"    {hops}")


def _roi(console: Console, doc: dict[str, Any]) -> None:
    from rich.markup import escape  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)
    from rich.table import Table  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    r = doc["roi"]
    _section(console, "Concrete ROI", "How much time did recipes save, and which ones?")
    console.print(f"  time saved: [bold]{format_minutes(r['total_minutes'])}[/bold] "
                  f"in {r['wins']} win{'s' if r['wins'] != 1 else ''}  "
                  f"{_trend_text(r['trend'], 'minutes', 'min')}")
    console.print(_period_table(r["per_period"], [("minutes", "time saved", "green"),
                                                  ("wins", "wins", "yellow")]))
    for title, rows, key, header in (
            ("time saved per recipe", r["by_recipe"][:10], "minutes", "time saved"),
            ("most rendered", r["most_rendered"], "renders", "renders")):
        if not rows:
            continue
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold",
                      title=title, title_justify="left", title_style="bold")
        table.add_column("recipe", no_wrap=True)
        table.add_column(header, no_wrap=True)
        largest = max(row[key] for row in rows)
        for row in rows:
            value = format_minutes(row[key]) if key == "minutes" else f"{row[key]:,}"
            wins = row.get("wins", 0)
            extra = (f" [dim]({wins} win{'' if wins == 1 else 's'})[/dim]"
                     if key == "minutes" else "")
            table.add_row(escape(row["id"]),
                          f"[green]{bar(row[key], largest, 20):<20}[/green] {value}{extra}")
        console.print()
        console.print(table)
    if r["best_notes"]:
        console.print()
        console.print("[bold]best notes[/bold]")
        for note in r["best_notes"]:
            console.print(f"  “{escape(note['note'])}” [dim]— {escape(note['author'])}, "
                          f"{escape(note['id'])}, {format_minutes(note['minutes'])}, "
                          f"{note['date']}[/dim]")


def _compression(console: Console, r: dict[str, Any]) -> None:
    """Tasks that now take half the time: the wins with a before and an after."""
    from rich.markup import escape  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    c = r.get("compression")
    if not c:
        return
    console.print()
    if not c["timed"]:
        console.print("[bold]compression[/bold] [dim]no win says how long the task took before "
                      "(`promptlib win NAME --before 45m --after 15m`)[/dim]")
        return
    console.print(f"[bold]compression[/bold]  tasks that now take half the time or less: "
                  f"[bold]{c['halved']}[/bold] of {c['timed']} timed "
                  f"win{'' if c['timed'] == 1 else 's'}; median after/before "
                  f"[bold]{percent(c['median_ratio'])}[/bold]")
    for story in c["stories"]:
        console.print(f"  {escape(story['id'])}: [bold]{format_minutes(story['before'])} → "
                      f"{format_minutes(story['after'])}[/bold] ({percent(story['ratio'])}) "
                      f"“{escape(story['note'])}” [dim]— {escape(story['author'])}, "
                      f"{story['date']}[/dim]")
