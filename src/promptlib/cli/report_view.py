"""`promptlib report` in a terminal: three sections of Rich tables with bar charts.

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
    _sharing(console, doc)
    _roi(console, doc)


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


def _fmt(value: float, unit: str) -> str:
    return format_minutes(value) if unit == "min" else f"{value:,g}"


def _period_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]]
                  ) -> Table:
    """One row per period; each column is (key, header, style), drawn as a bar and a number."""
    from rich.table import Table  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("period", no_wrap=True)
    largest = {key: max((r[key] for r in rows), default=0) for key, _, _ in columns}
    for _, header, _ in columns:
        table.add_column(header, no_wrap=True)
    for row in rows:
        cells = [row["period"]]
        for key, _, style in columns:
            value = row[key]
            text = format_minutes(value) if key == "minutes" and value else f"{value:,g}"
            cells.append(f"[{style}]{bar(value, largest[key], 16):<16}[/{style}] {text}")
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
    console.print("  [dim]renders come from published usage/ files "
                  f"({', '.join(published) or 'no collection publishes yet'}) "
                  "and your own usage log[/dim]")
    console.print(_period_table(a["per_period"], [("renderers", "people rendering", "cyan"),
                                                  ("renders", "renders", "blue"),
                                                  ("contributors", "contributors", "magenta")]))


def _sharing(console: Console, doc: dict[str, Any]) -> None:
    s = doc["sharing"]
    _section(console, "Peer sharing",
             "Do good recipes travel between people and teams?")
    _figures(console, s["trend"],
             [("shared across collections", f"{s['shared_across_collections']}", "shared"),
              ("improved by someone other than their author", f"{s['improved_by_others']}",
               "improved"),
              ("arrived from others (by pull)", f"{s['arrived_from_others']:,}", "arrived")])
    console.print(_period_table(s["per_period"], [("shared", "shared", "green"),
                                                  ("improved", "improved by others", "yellow"),
                                                  ("arrived", "arrived", "cyan")]))
    if s["shares"]:
        from rich.markup import escape  # noqa: PLC0415  (Rich: ~45 ms, only terminal views pay)

        console.print("  [bold]latest shares[/bold]")
        for share in s["shares"][-5:]:
            console.print(f"    {escape(share['id'])} [dim]← {escape(share['shared_from'])} "
                          f"({share['date']})[/dim]")


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
