"""Charts drawn on the server as SVG (no script, no outside library): horizontal bars with
their numbers written beside them, and a text alternative for screen readers."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

ROW = 28
LABEL_WIDTH = 170
BAR_WIDTH = 380
COLOURS = ("#0b5cad", "#1e6b34", "#8a4b00", "#b3261e", "#4f5b69", "#6a3d9a")


def bars(title: str, rows: list[tuple[str, float]], unit: str = "") -> Markup:
    """One bar per row, scaled to the largest; an empty chart says so."""
    if not rows:
        return Markup(f'<p class="small">{escape(title)}: 暂无数据</p>')
    top = max(value for _, value in rows) or 1
    height = ROW * len(rows) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 90
    summary = "; ".join(f"{label} {_num(value)}{unit}" for label, value in rows)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" aria-label="{escape(title)}: {escape(summary)}">']
    for n, (label, value) in enumerate(rows):
        y = n * ROW + 4
        length = max(2, round(BAR_WIDTH * value / top)) if value else 0
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end" font-size="14">'
            f'{escape(_short(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 8}" rx="3" '
            f'fill="{COLOURS[n % len(COLOURS)]}"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 17}" font-size="14">'
            f'{escape(_num(value))}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _short(label: str) -> str:
    return label if len(label) <= 11 else label[:10] + "…"
