"""The charts of `promptlib report --html`, as inline SVG: columns per period, horizontal bars, and
the who-learned-from-whom graph. Every label is HTML-escaped (names and ids come from pulled
repositories); nothing here fetches, scripts or links anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any


def columns(title: str, rows: Sequence[dict[str, Any]], key: str, color: str) -> str:
    """A column chart: one bar per period, its value above it, every few periods labelled."""
    width, height, left, bottom, top = 520, 200, 34, 34, 14
    n = max(1, len(rows))
    values = [float(r[key]) for r in rows]
    largest = nice_max(max(values, default=0))
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
                       f'text-anchor="end">{short(largest * (2 - i) / 2)}</text>')
    else:
        out.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
                   'text-anchor="middle" fill="#8a93a3">none in this window</text>')
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        x = left + i * step + (step - bar_w) / 2
        h = plot_h * value / largest if largest else 0
        y = top + plot_h - h
        label = escape(str(row["period"]))
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                   f'fill="{color}" rx="2"><title>{label}: {short(value)}</title></rect>')
        if value and n <= 16:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" '
                       f'text-anchor="middle">{short(value)}</text>')
        if i % every == 0:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 15}" '
                       f'text-anchor="middle">{label}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
               'stroke="#8a93a3"/></svg>')
    return f'<div class="chart"><h3>{escape(title)}</h3>{"".join(out)}</div>'


def bars(title: str, rows: Sequence[tuple[str, float, str]], color: str) -> str:
    """A horizontal bar chart: a label, a bar and the value written after it, per row."""
    width, row_h, label_w = 520, 24, 190
    height = row_h * len(rows) + 6
    largest = max((value for _, value, _ in rows), default=0) or 1
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg" font-size="12" fill="#1d2330">']
    for i, (label, value, text) in enumerate(rows):
        y = 3 + i * row_h
        w = (width - label_w - 150) * value / largest
        short = label if len(label) <= 28 else label[:27] + "…"
        out.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">'
                   f'<title>{escape(label)}</title>{escape(short)}</text>'
                   f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 2):.1f}" height="{row_h - 7}" '
                   f'fill="{color}" rx="2"/><text x="{label_w + max(w, 2) + 6:.1f}" '
                   f'y="{y + 16}" fill="#3c4456">{escape(text)}</text>')
    out.append("</svg>")
    return f'<div class="chart"><h3>{escape(title)}</h3>{"".join(out)}</div>'


def nice_max(value: float) -> float:
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


def short(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


GRAPH_PEOPLE = 16  # at most this many people drawn; the busiest first


def graph(title: str, edges: Sequence[tuple[str, str, int]], node_color: str) -> str:
    """Who learned from whom: people on a circle, an arrow from the person whose recipe it was
    to the person who took it up, as thick as the transmissions between them."""
    width, height, radius, node_r = 560, 420, 150, 15
    cx, cy = width / 2, height / 2
    degree: dict[str, int] = {}
    for a, b, n in edges:
        degree[a] = degree.get(a, 0) + n
        degree[b] = degree.get(b, 0) + n
    people = sorted(degree, key=lambda p: (-degree[p], p))[:GRAPH_PEOPLE]
    shown = set(people)
    at = {p: (cx + radius * math.cos(-math.pi / 2 + 2 * math.pi * i / max(1, len(people))),
              cy + radius * math.sin(-math.pi / 2 + 2 * math.pi * i / max(1, len(people))))
          for i, p in enumerate(people)}
    pairs = {(a, b) for a, b, _ in edges}
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg" font-size="12" fill="#1d2330">']
    if not people:
        out.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" fill="#8a93a3">'
                   "no transmissions in this window</text>")
    for a, b, n in edges:
        if a in shown and b in shown:
            out.append(_arrow(at[a], at[b], n, (b, a) in pairs, node_r, f"{a} → {b}: {n}"))
    for p in people:
        x, y = at[p]
        lx, ly = x + (x - cx) / radius * 30, y + (y - cy) / radius * 30 + 4
        anchor = "middle" if abs(x - cx) < 1 else "start" if x > cx else "end"
        name = p.partition("@")[0] or p
        name = name if len(name) <= 18 else name[:17] + "…"
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{node_r}" fill="{node_color}">'
                   f'<title>{escape(p)}</title></circle><text x="{lx:.1f}" y="{ly:.1f}" '
                   f'text-anchor="{anchor}"><title>{escape(p)}</title>{escape(name)}</text>')
    if len(degree) > len(people):
        out.append(f'<text x="8" y="{height - 8}" fill="#5b6475">and '
                   f"{len(degree) - len(people)} more people</text>")
    out.append("</svg>")
    return f'<div class="chart"><h3>{escape(title)}</h3>{"".join(out)}</div>'


def _arrow(start: tuple[float, float], end: tuple[float, float], n: int, both_ways: bool,
           node_r: float, label: str) -> str:
    """A line between two people's circles (set apart when they learned from each other)."""
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1) or 1
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    shift = 5 if both_ways else 0  # to the right of the direction of travel
    x1, y1 = x1 + ux * node_r - uy * shift, y1 + uy * node_r + ux * shift
    x2, y2 = x2 - ux * (node_r + 2) - uy * shift, y2 - uy * (node_r + 2) + ux * shift
    # The arrowhead is a triangle of its own (a marker would need `url(#…)`, and the page
    # refers to nothing).
    head, half = 10 + min(n, 6), 5 + min(n, 6) / 2
    bx, by = x2 - ux * head, y2 - uy * head
    tip = (f'<polygon points="{x2:.1f},{y2:.1f} {bx - uy * half:.1f},{by + ux * half:.1f} '
           f'{bx + uy * half:.1f},{by - ux * half:.1f}" fill="#5b6475"/>')
    mid = (f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 4:.1f}" text-anchor="middle" '
           f'fill="#5b6475">{n}</text>' if n > 1 else "")
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="#5b6475" '
            f'stroke-width="{1 + min(n, 6):.1f}"><title>{escape(label)}</title></line>'
            f"{tip}{mid}")
