"""Charts drawn on the server as HTML (no script, no outside library): horizontal bars with
their numbers written beside them, in the page's own text size at any width (an SVG scaled to
a narrow card shrank its words to a few pixels), read by screen readers as a list."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

COLOURS = ("#0b5cad", "#1e6b34", "#8a4b00", "#b3261e", "#4f5b69", "#6a3d9a")


def bars(title: str, rows: list[tuple[str, float]], unit: str = "") -> Markup:
    """One bar per row, scaled to the largest; an empty chart says so."""
    if not rows:
        return Markup(f'<p class="small">{escape(title)}: 暂无数据</p>')
    top = max(value for _, value in rows) or 1
    items = []
    for n, (label, value) in enumerate(rows):
        bar = (f'<span class="bar" style="width: {max(1.0, 100 * value / top):.1f}%; '
               f'background: {COLOURS[n % len(COLOURS)]}"></span>' if value else "")
        items.append(f'<li><span class="label" title="{escape(label)}">{escape(label)}</span>'
                     f'<span class="track">{bar}</span>'
                     f'<span class="value">{escape(_num(value))}{escape(unit)}</span></li>')
    return Markup(f'<ul class="chart" aria-label="{escape(title)}">{"".join(items)}</ul>')


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
