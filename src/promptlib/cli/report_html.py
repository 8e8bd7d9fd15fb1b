"""`promptlib report --html FILE`: one self-contained page, charts drawn as inline SVG.

No scripts, no external fonts, styles or images: the file can be mailed, attached or pasted into
a wiki and looks the same offline. Every string that came from a repository (notes, names, ids)
is HTML-escaped: a pulled win file is untrusted input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from promptlib.cli import report_svg as svg
from promptlib.metrics.wins import format_minutes

PALETTE = {"blue": "#2f6fdf", "teal": "#12877f", "purple": "#7a4cc2", "green": "#2e8b3e",
           "amber": "#c77c02", "rose": "#c23b5a"}

_STYLE = """
body{margin:0;background:#f6f7f9;color:#1d2330;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1080px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:20px;margin:0 0 2px}
.meta,.q,.note-meta,.foot{color:#5b6475}.q{margin:0 0 14px}
section{background:#fff;border:1px solid #dde1e8;border-radius:10px;padding:18px 20px;
margin:18px 0}
.figures{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 14px}
.figure{border:1px solid #e4e7ed;border-radius:8px;padding:10px 14px;min-width:170px}
.figure .n{display:block;font-size:28px;font-weight:650}
.figure .l{display:block;color:#3c4456}.up{color:#1d7a33}.down{color:#b3261e}.same{color:#5b6475}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.chart h3{font-size:14px;margin:0 0 4px;color:#3c4456}svg{display:block;width:100%;height:auto}
blockquote{margin:10px 0;padding:6px 14px;border-left:4px solid #2e8b3e;background:#f3f8f4}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 12px 3px 0;text-align:left}
table.teams td+td,table.teams th+th{text-align:right}
"""


def target(path: Path) -> Path:
    """The file `path` names, absolute, once its folder is known to exist: no folder is ever
    created (a typo in a path must not leave a tree of folders behind). InvalidError if not."""
    from promptlib.errors import InvalidError  # noqa: PLC0415  (start-up: only this path loads it)

    try:
        full = path.expanduser().absolute()
    except RuntimeError:  # `~nosuchuser/…`
        full = path.absolute()
    folder = full.parent
    if not folder.is_dir():
        why = f"{folder} is not a folder" if folder.exists() else f"no folder {folder}"
        raise InvalidError(f"cannot write {path}: {why}",
                           hint="create the folder first, or write the page somewhere else")
    return full


def write(doc: dict[str, Any], path: Path) -> None:
    """Write the page atomically — a temp file in the same folder, renamed over the target, so
    a reader sees the old page or the new, never half — readable as any file the user makes
    (umask applies). The folder must exist (see `target`)."""
    import contextlib  # noqa: PLC0415  (stdlib, kept off the start-up path)
    import os  # noqa: PLC0415  (stdlib, kept off the start-up path)
    import tempfile  # noqa: PLC0415  (stdlib, kept off the start-up path)

    from promptlib.errors import PromptlibError  # noqa: PLC0415  (start-up: only this path loads it)

    full = target(path)
    data = page(doc).encode("utf-8")
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{full.name}.", suffix=".tmp", dir=full.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fchmod(handle.fileno(), 0o666 & ~umask)
                os.fsync(handle.fileno())
            Path(tmp).replace(full)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise PromptlibError(f"cannot write {path}: {exc.strerror or exc}") from None
    with contextlib.suppress(OSError):  # the rename itself, durable
        dir_fd = os.open(full.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def page(doc: dict[str, Any]) -> str:
    title = f"Prompt library adoption, {doc['since']} to {doc['until']}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">By {escape(doc["by"])} · collections: '
        f'{escape(", ".join(doc["collections"]))} · {doc["recipes"]:,} recipes · trend: '
        f'{escape(str(doc["current_period"]))} against '
        f'{escape(str(doc["previous_period"] or "nothing"))}</p>',
        _adoption(doc), _use_cases(doc), _sharing(doc), _roi(doc),
        '<p class="foot">Made by <code>promptlib report</code> from git history, '
        "<code>wins/</code>, <code>usage/</code> and the local usage log.</p>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


# --- sections -------------------------------------------------------------------------------------


def _figure(value: str, label: str, trend: dict[str, Any] | None,
            fmt: Callable[[float], str] = lambda v: f"{v:,g}",
            change_fmt: Callable[[float], str] | None = None) -> str:
    change = ""
    if trend and trend["change"] is not None:
        delta = trend["change"]
        cls, arrow = ("up", "▲") if delta > 0 else ("down", "▼") if delta < 0 else ("same", "=")
        shown = (change_fmt or fmt)(abs(delta)) if delta else "no change"
        change = (f'<span class="{cls}">{arrow} {escape(shown)}</span> '
                  f'<span class="meta">this period {escape(fmt(trend["current"]))}, previous '
                  f'{escape(fmt(trend["previous"]))}</span>')
    return (f'<div class="figure"><span class="n">{escape(value)}</span>'
            f'<span class="l">{escape(label)}</span>{change}</div>')


def _section(key: str, title: str, question: str, figures: Sequence[str],
             charts: Sequence[str], extra: str = "") -> str:
    return (f'<section id="{key}"><h2>{escape(title)}</h2><p class="q">{escape(question)}</p>'
            f'<div class="figures">{"".join(figures)}</div>'
            f'<div class="charts">{"".join(charts)}</div>{extra}</section>')


def _counted(key: str, title: str, question: str, section: dict[str, Any],
             figures: Sequence[tuple[str, str, str, str, str]], extra: str,
             more_figures: Sequence[str] = (), more_charts: Sequence[str] = ()) -> str:
    """A section of counts: per figure (value shown, label, per-period key, chart title, colour),
    a figure with its trend and a column chart of that key per period."""
    return _section(
        key, title, question,
        [*more_figures,
         *(_figure(value, label, section["trend"].get(k)) for value, label, k, _, _ in figures)],
        [*(svg.columns(chart, section["per_period"], k, color)
           for _, _, k, chart, color in figures), *more_charts],
        extra)


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def _rate_parts(a: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The adoption rate: a figure with its trend (in points), and a chart per period."""
    if "rate" not in a:
        return [], []
    label = f"adoption rate: {a['renderers']} rendering of {a['known']} people known"
    figure = _figure(_percent(a["rate"]), label, a["trend"].get("rate"), _percent,
                     lambda v: f"{v * 100:.0f} pts")
    rows = [{"period": r["period"], "pct": round((r["rate"] or 0) * 100)}
            for r in a["per_period"]]
    return [figure], [svg.columns("Adoption rate (% of people known)", rows, "pct",
                                  PALETTE["rose"])]


def _team_table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("team", "rate", "people rendering", "known",
                                              "renders", "contributors", "wins", "time saved"))
    body = "".join(
        f"<tr><td>{escape(r['collection'])}</td><td>{_percent(r['rate'])}</td>"
        f"<td>{r['renderers']}</td><td>{r['known']}"
        f"{' (roster)' if r.get('known_from') == 'roster' else ''}</td><td>{r['renders']:,}</td>"
        f"<td>{r['contributors']}</td><td>{r['wins']}</td>"
        f"<td>{escape(format_minutes(r['minutes']) if r['minutes'] else '0')}</td></tr>"
        for r in rows)
    return f'<h3>By team</h3><table class="teams"><tr>{head}</tr>{body}</table>'


def _use_cases(doc: dict[str, Any]) -> str:
    rows = doc.get("by_use_case", [])
    if not rows:
        return ""
    renders = svg.bars("Renders per use case", [
        (r["use_case"], r["renders"], f"{r['renders']:,} renders · {r['people']} people")
        for r in rows[:12]], PALETTE["blue"])
    saved = svg.bars("Time saved per use case", [
        (r["use_case"], r["minutes"], f"{format_minutes(r['minutes']) if r['minutes'] else '0'}"
                                      f" · {r['wins']} win{'' if r['wins'] == 1 else 's'}")
        for r in sorted(rows, key=lambda r: (-r["minutes"], r["use_case"]))[:12]],
        PALETTE["green"])
    return _section("use-cases", "Use cases",
                    "Where do recipes get used? (a recipe's first tag is its use case)", [],
                    [renders, saved])


def _spread_parts(s: dict[str, Any]) -> tuple[list[str], list[str], str]:
    """Transmissions: a figure with its trend, a chart per period and the graph of who learned
    from whom; then the top spreaders and the longest chains."""
    if "transmissions" not in s:
        return [], [], ""
    figure = _figure(str(len(s["transmissions"])), "transmissions: first renders of someone "
                     "else's recipe", s["trend"].get("transmissions"))
    charts = [svg.columns("Transmissions", s["per_period"], "transmissions", PALETTE["purple"]),
              svg.graph("Who learned from whom",
                        [(e["from"], e["to"], e["transmissions"]) for e in s["learned_from"]],
                        PALETTE["rose"])]
    extra = ""
    if s["spreaders"]:
        items = "".join(f"<tr><td>{escape(r['person'])}</td><td>{r['transmissions']}</td>"
                        f"<td>{r['people']}</td><td>{r['recipes']}</td></tr>"
                        for r in s["spreaders"])
        extra += ("<h3>Top spreaders</h3><table><tr><th>person</th><th>transmissions</th>"
                  f"<th>people</th><th>recipes</th></tr>{items}</table>")
    if s["chains"]:
        items = "".join("<li>" + " → ".join(f"{escape(r)} ({n:,})" for r, n in
                                            zip(c["path"], c["renders"], strict=True)) + "</li>"
                        for c in s["chains"])
        extra += f"<h3>Longest chains (renders per team)</h3><ul>{items}</ul>"
    return [figure], charts, extra


def _compression_parts(r: dict[str, Any]) -> tuple[list[str], str]:
    c = r.get("compression")
    if not c:
        return [], ""
    figures = [_figure(f"{c['halved']} of {c['timed']}", "timed wins that now take half the "
                       "time or less", r["trend"].get("halved")),
               _figure(_percent(c["median_ratio"]), "median time after / before", None)]
    stories = "".join(
        f"<blockquote><b>{escape(format_minutes(x['before']))} → "
        f"{escape(format_minutes(x['after']))}</b> ({_percent(x['ratio'])}) "
        f"“{escape(x['note'])}”<div class=\"note-meta\">— {escape(x['author'])}, "
        f"{escape(x['id'])}, {escape(x['date'])}</div></blockquote>" for x in c["stories"])
    return figures, f"<h3>Before → after</h3>{stories}" if stories else ""


def _adoption(doc: dict[str, Any]) -> str:
    a = doc["adoption"]
    published = [name for name, on in a["publishing"].items() if on]
    source = (f'<p class="meta">Renders come from the usage/ files published by '
              f'{escape(", ".join(published) or "no collection yet")} and your own usage log.'
              "</p>")
    rate_figures, rate_charts = _rate_parts(a)
    return _counted(
        "adoption", "Voluntary adoption",
        "How many people reach for recipes, and add to them, without being told to?", a,
        [(str(a["renderers"]), "people rendering", "renderers", "People rendering",
          PALETTE["blue"]),
         (f"{a['renders']:,}", "renders", "renders", "Renders", PALETTE["teal"]),
         (str(a["contributors"]), "people contributing recipes", "contributors",
          "People contributing recipes", PALETTE["purple"])],
        source + _team_table(doc.get("by_team", [])), rate_figures, rate_charts)


def _sharing(doc: dict[str, Any]) -> str:
    s = doc["sharing"]
    shares = ""
    if s["shares"]:
        items = "".join(f"<tr><td>{escape(x['id'])}</td><td>← {escape(x['shared_from'])}</td>"
                        f"<td>{escape(x['date'])}</td></tr>" for x in s["shares"][-10:])
        shares = f"<h3>Latest shares</h3><table>{items}</table>"
    spread_figures, spread_charts, spread = _spread_parts(s)
    return _counted(
        "sharing", "Peer sharing", "Do good recipes travel between people and teams?", s,
        [(str(s["shared_across_collections"]), "shared across collections", "shared",
          "Shared across collections", PALETTE["green"]),
         (str(s["improved_by_others"]), "improved by someone other than their author",
          "improved", "Improved by others", PALETTE["amber"]),
         (f"{s['arrived_from_others']:,}", "arrived from others by pull", "arrived",
          "Arrived from others", PALETTE["teal"])],
        shares + spread, more_charts=spread_charts, more_figures=spread_figures)


def _roi(doc: dict[str, Any]) -> str:
    r = doc["roi"]
    total = r["total_minutes"]
    notes = "".join(
        f"<blockquote>“{escape(n['note'])}”<div class=\"note-meta\">— {escape(n['author'])}, "
        f"{escape(n['id'])}, {escape(format_minutes(n['minutes']))} saved, "
        f"{escape(n['date'])}</div></blockquote>" for n in r["best_notes"])
    charts = [svg.columns("Time saved (minutes)", r["per_period"], "minutes", PALETTE["green"])]
    if r["by_recipe"]:
        charts.append(svg.bars("Time saved per recipe",
                            [(x["id"], x["minutes"], f"{format_minutes(x['minutes'])} · "
                              f"{x['wins']} win{'s' if x['wins'] != 1 else ''}")
                             for x in r["by_recipe"][:10]], PALETTE["green"]))
    if r["most_rendered"]:
        charts.append(svg.bars("Most rendered recipes",
                            [(x["id"], x["renders"], f"{x['renders']:,} renders")
                             for x in r["most_rendered"]], PALETTE["blue"]))
    compression, stories = _compression_parts(r)
    return _section(
        "roi", "Concrete ROI", "How much time did recipes save, and which ones?",
        [_figure(format_minutes(total), f"saved ({total:g} minutes)", r["trend"].get("minutes"),
                 format_minutes),
         _figure(str(r["wins"]), "wins recorded", r["trend"].get("wins")), *compression],
        charts, stories + (f"<h3>Best notes</h3>{notes}" if notes else ""))
