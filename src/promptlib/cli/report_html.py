"""`promptlib report --html FILE`: one self-contained page, charts drawn as inline SVG.

No scripts, no external fonts, styles or images: the file can be mailed, attached or pasted into
a wiki and looks the same offline. Every string that came from a repository (notes, names, ids)
is HTML-escaped: a pulled win file is untrusted input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

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
        _adoption(doc), _sharing(doc), _roi(doc),
        '<p class="foot">Made by <code>promptlib report</code> from git history, '
        "<code>wins/</code>, <code>usage/</code> and the local usage log.</p>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


# --- sections -------------------------------------------------------------------------------------


def _figure(value: str, label: str, trend: dict[str, Any] | None,
            fmt: Callable[[float], str] = lambda v: f"{v:,g}") -> str:
    change = ""
    if trend:
        delta = trend["change"]
        cls, arrow = ("up", "▲") if delta > 0 else ("down", "▼") if delta < 0 else ("same", "=")
        shown = fmt(abs(delta)) if delta else "no change"
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
             figures: Sequence[tuple[str, str, str, str, str]], extra: str) -> str:
    """A section of counts: per figure (value shown, label, per-period key, chart title, colour),
    a figure with its trend and a column chart of that key per period."""
    return _section(
        key, title, question,
        [_figure(value, label, section["trend"].get(k)) for value, label, k, _, _ in figures],
        [_columns(chart, section["per_period"], k, color) for _, _, k, chart, color in figures],
        extra)


def _adoption(doc: dict[str, Any]) -> str:
    a = doc["adoption"]
    published = [name for name, on in a["publishing"].items() if on]
    source = (f'<p class="meta">Renders come from the usage/ files published by '
              f'{escape(", ".join(published) or "no collection yet")} and your own usage log.'
              "</p>")
    return _counted(
        "adoption", "Voluntary adoption",
        "How many people reach for recipes, and add to them, without being told to?", a,
        [(str(a["renderers"]), "people rendering", "renderers", "People rendering",
          PALETTE["blue"]),
         (f"{a['renders']:,}", "renders", "renders", "Renders", PALETTE["teal"]),
         (str(a["contributors"]), "people contributing recipes", "contributors",
          "People contributing recipes", PALETTE["purple"])],
        source)


def _sharing(doc: dict[str, Any]) -> str:
    s = doc["sharing"]
    shares = ""
    if s["shares"]:
        items = "".join(f"<tr><td>{escape(x['id'])}</td><td>← {escape(x['shared_from'])}</td>"
                        f"<td>{escape(x['date'])}</td></tr>" for x in s["shares"][-10:])
        shares = f"<h3>Latest shares</h3><table>{items}</table>"
    return _counted(
        "sharing", "Peer sharing", "Do good recipes travel between people and teams?", s,
        [(str(s["shared_across_collections"]), "shared across collections", "shared",
          "Shared across collections", PALETTE["green"]),
         (str(s["improved_by_others"]), "improved by someone other than their author",
          "improved", "Improved by others", PALETTE["amber"]),
         (f"{s['arrived_from_others']:,}", "arrived from others by pull", "arrived",
          "Arrived from others", PALETTE["teal"])],
        shares)


def _roi(doc: dict[str, Any]) -> str:
    r = doc["roi"]
    total = r["total_minutes"]
    notes = "".join(
        f"<blockquote>“{escape(n['note'])}”<div class=\"note-meta\">— {escape(n['author'])}, "
        f"{escape(n['id'])}, {escape(format_minutes(n['minutes']))} saved, "
        f"{escape(n['date'])}</div></blockquote>" for n in r["best_notes"])
    charts = [_columns("Time saved (minutes)", r["per_period"], "minutes", PALETTE["green"])]
    if r["by_recipe"]:
        charts.append(_bars("Time saved per recipe",
                            [(x["id"], x["minutes"], f"{format_minutes(x['minutes'])} · "
                              f"{x['wins']} win{'s' if x['wins'] != 1 else ''}")
                             for x in r["by_recipe"][:10]], PALETTE["green"]))
    if r["most_rendered"]:
        charts.append(_bars("Most rendered recipes",
                            [(x["id"], x["renders"], f"{x['renders']:,} renders")
                             for x in r["most_rendered"]], PALETTE["blue"]))
    return _section(
        "roi", "Concrete ROI", "How much time did recipes save, and which ones?",
        [_figure(format_minutes(total), f"saved ({total:g} minutes)", r["trend"].get("minutes"),
                 format_minutes),
         _figure(str(r["wins"]), "wins recorded", r["trend"].get("wins"))],
        charts, f"<h3>Best notes</h3>{notes}" if notes else "")


# --- charts ---------------------------------------------------------------------------------------


def _columns(title: str, rows: Sequence[dict[str, Any]], key: str, color: str) -> str:
    """A column chart: one bar per period, its value above it, every few periods labelled."""
    width, height, left, bottom, top = 520, 200, 34, 34, 14
    n = max(1, len(rows))
    values = [float(r[key]) for r in rows]
    largest = _nice_max(max(values, default=0))
    plot_w, plot_h = width - left - 8, height - top - bottom
    step = plot_w / n
    bar_w = max(1.0, step * 0.72)
    every = max(1, math.ceil(n / 10))
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg" font-size="11" fill="#3c4456">']
    if largest:
        for i in range(3):
            y = top + plot_h * i / 2
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" '
                       f'stroke="#e4e7ed"/><text x="{left - 4}" y="{y + 4:.1f}" '
                       f'text-anchor="end">{_short(largest * (2 - i) / 2)}</text>')
    else:
        out.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
                   'text-anchor="middle" fill="#8a93a3">none in this window</text>')
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        x = left + i * step + (step - bar_w) / 2
        h = plot_h * value / largest if largest else 0
        y = top + plot_h - h
        label = escape(str(row["period"]))
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                   f'fill="{color}" rx="2"><title>{label}: {_short(value)}</title></rect>')
        if value and n <= 16:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" '
                       f'text-anchor="middle">{_short(value)}</text>')
        if i % every == 0:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 15}" '
                       f'text-anchor="middle">{label}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
               'stroke="#8a93a3"/></svg>')
    return f'<div class="chart"><h3>{escape(title)}</h3>{"".join(out)}</div>'


def _bars(title: str, rows: Sequence[tuple[str, float, str]], color: str) -> str:
    """A horizontal bar chart: a label, a bar and the value written after it, per row."""
    width, row_h, label_w = 520, 24, 190
    height = row_h * len(rows) + 6
    largest = max((value for _, value, _ in rows), default=0) or 1
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg" font-size="12" fill="#1d2330">']
    for i, (label, value, text) in enumerate(rows):
        y = 3 + i * row_h
        w = (width - label_w - 120) * value / largest
        short = label if len(label) <= 28 else label[:27] + "…"
        out.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">'
                   f'<title>{escape(label)}</title>{escape(short)}</text>'
                   f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 2):.1f}" height="{row_h - 7}" '
                   f'fill="{color}" rx="2"/><text x="{label_w + max(w, 2) + 6:.1f}" '
                   f'y="{y + 16}" fill="#3c4456">{escape(text)}</text>')
    out.append("</svg>")
    return f'<div class="chart"><h3>{escape(title)}</h3>{"".join(out)}</div>'


def _nice_max(value: float) -> float:
    """The axis top: up to an even number while small (so the middle line is a whole number
    too), else up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 0
    if value <= 10:
        return float(math.ceil(value / 2) * 2)
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if value <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _short(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"
