"""Server-side SVG: indicator line charts and the municipality grid coloured by status.

Both are accessible: role="img" with a <title> and <desc>, series and statuses told apart by
line pattern, marker shape, fill pattern and a text symbol (never by colour alone), and the
pages beside them hold the same numbers as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from models import ImplementationState
from workflow.web.i18n import pick

# Colour-blind safe colours (Okabe-Ito), each paired with a dash pattern and a marker.
SERIES_STYLES = (
    ("#0072B2", "", "circle"),
    ("#D55E00", "6 3", "square"),
    ("#009E73", "2 3", "triangle"),
    ("#CC79A7", "8 3 2 3", "diamond"),
    ("#000000", "1 2", "circle"),
)
STATUS_STYLES: dict[ImplementationState, tuple[str, str, str]] = {
    # fill colour, pattern id (or ""), symbol
    ImplementationState.IMPLEMENTED: ("#1b7837", "", "✓"),
    ImplementationState.IN_PROGRESS: ("#f1a340", "skraa", "…"),
    ImplementationState.NOT_STARTED: ("#ffffff", "", "○"),
    ImplementationState.NOT_RELEVANT: ("#bdbdbd", "kryds", "–"),
}


@dataclass(frozen=True)
class ChartSeries:
    """A named line of (year, value) points."""

    label: str
    points: Sequence[tuple[int, Decimal | float]]


def _fmt(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high == low:
        high, low = high + 1, low - 1
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} '
            f'{x + 5:.1f},{y + 4:.1f}" fill="{colour}"/>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} '
            f'{x - 5:.1f},{y:.1f}" fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[ChartSeries],
    unit: str = "",
    width: int = 640,
    height: int = 320,
) -> Markup:
    """Draw series over the years as an accessible SVG line chart."""
    left, right, top, bottom = 64, 170, 20, 40
    years = sorted({year for s in series for year, _ in s.points})
    values = [float(v) for s in series for _, v in s.points]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-titel {chart_id}-beskrivelse">'
        f'<title id="{chart_id}-titel">{escape(title)}</title>'
        f'<desc id="{chart_id}-beskrivelse">{escape(description)}</desc>'
    )
    if not years:
        return Markup(
            head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">'
            "Ingen værdier endnu</text></svg>"
        )
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]

    def x_of(year: int) -> float:
        if len(years) == 1:
            return left + plot_w / 2
        return left + plot_w * years.index(year) / (len(years) - 1)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - low) / (high - low))

    parts = [head, '<g font-size="12" fill="#222">']
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>'
        )
    for year in years:
        parts.append(
            f'<text x="{x_of(year):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{year}</text>'
        )
    if unit:
        parts.append(f'<text x="4" y="{top + 4}" font-size="11">{escape(unit)}</text>')
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#222"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#222"/>'
    )
    for index, line in enumerate(series):
        colour, dash, shape = SERIES_STYLES[index % len(SERIES_STYLES)]
        points = [(x_of(year), y_of(float(value))) for year, value in line.points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
        )
        parts.extend(_marker(shape, x, y, colour) for x, y in points)
        legend_y = top + 10 + index * 22
        legend_x = left + plot_w + 16
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 28}" y1="{legend_y}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
            + _marker(shape, legend_x + 14, legend_y, colour)
            + f'<text x="{legend_x + 34}" y="{legend_y + 4}">{escape(line.label[:22])}</text>'
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class GridCell:
    """A unit in the grid: its name, status (None: not in the initiative's scope), a link."""

    label: str
    status: ImplementationState | None
    href: str = ""


@dataclass(frozen=True)
class GridGroup:
    """A planning area and its units."""

    name: str
    cells: Sequence[GridCell]


STATUS_WORDS = {
    ImplementationState.IMPLEMENTED: "Implementeret",
    ImplementationState.IN_PROGRESS: "I gang",
    ImplementationState.NOT_STARTED: "Ikke startet",
    ImplementationState.NOT_RELEVANT: "Ikke relevant",
}
STATUS_WORDS_EN = {
    ImplementationState.IMPLEMENTED: "Implemented",
    ImplementationState.IN_PROGRESS: "In progress",
    ImplementationState.NOT_STARTED: "Not started",
    ImplementationState.NOT_RELEVANT: "Not relevant",
}


def status_word(status: ImplementationState | None) -> str:
    """A unit's status in the reader's language; "not covered" for a unit outside the case."""
    if status is None:
        return pick("Ikke omfattet", "Not covered")
    return pick(STATUS_WORDS[status], STATUS_WORDS_EN[status])


def _patterns(prefix: str) -> str:
    """The hatched fills, with ids of the chart's own: a page shows several charts, and an id
    may be used once per page."""
    return (
        f'<defs><pattern id="{prefix}-skraa" width="8" height="8" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#f1a340"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#7a4a00" stroke-width="3"/></pattern>'
        f'<pattern id="{prefix}-kryds" width="8" height="8" patternUnits="userSpaceOnUse">'
        '<rect width="8" height="8" fill="#bdbdbd"/>'
        '<path d="M0,0 L8,8 M8,0 L0,8" stroke="#555" stroke-width="1"/></pattern></defs>'
    )


def _fill(status: ImplementationState | None, prefix: str) -> tuple[str, str]:
    if status is None:
        return "#f4f4f4", ""
    colour, pattern, symbol = STATUS_STYLES[status]
    return (f"url(#{prefix}-{pattern})" if pattern else colour), symbol


def status_grid(chart_id: str, title: str, description: str, groups: Sequence[GridGroup]) -> Markup:
    """Draw units as tiles grouped by planning area, filled by status with a symbol each."""
    tile_w, tile_h, gap, per_row = 132, 40, 6, 3
    group_gap, heading = 18, 24
    width = per_row * (tile_w + gap) * 2 + group_gap + 20
    x0_of = [10, 10 + per_row * (tile_w + gap) + group_gap]
    column_y = [10, 10]
    body: list[str] = []
    for group in groups:
        column = 0 if column_y[0] <= column_y[1] else 1
        x0, y = x0_of[column], column_y[column]
        body.append(
            f'<text x="{x0}" y="{y + 16}" font-weight="bold" font-size="14">'
            f"{escape(group.name)}</text>"
        )
        y += heading
        for index, cell in enumerate(group.cells):
            x = x0 + (index % per_row) * (tile_w + gap)
            ty = y + (index // per_row) * (tile_h + gap)
            fill, symbol = _fill(cell.status, chart_id)
            word = status_word(cell.status)
            name = cell.label.removesuffix(" Kommune")
            tile = (
                f"<title>{escape(cell.label)}: {escape(word)}</title>"
                f'<rect x="{x}" y="{ty}" width="{tile_w}" height="{tile_h}" fill="{fill}" '
                f'stroke="#333" stroke-dasharray="{"4 3" if cell.status is None else ""}"/>'
                f'<rect x="{x + 2}" y="{ty + 2}" width="22" height="{tile_h - 4}" fill="#fff"/>'
                f'<text x="{x + 13}" y="{ty + 25}" text-anchor="middle" font-size="16">'
                f"{symbol}</text>"
                f'<rect x="{x + 26}" y="{ty + 8}" width="{tile_w - 30}" height="22" fill="#fff" '
                f'opacity="0.85"/>'
                f'<text x="{x + 30}" y="{ty + 24}" font-size="12">{escape(name[:17])}</text>'
            )
            if cell.href:
                tile = f'<a href="{escape(cell.href)}">{tile}</a>'
            body.append(f"<g>{tile}</g>")
        rows = (len(group.cells) + per_row - 1) // per_row
        column_y[column] = y + rows * (tile_h + gap) + group_gap
    height = max(column_y) + 10
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="status-grid" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-titel {chart_id}-beskrivelse">'
        f'<title id="{chart_id}-titel">{escape(title)}</title>'
        f'<desc id="{chart_id}-beskrivelse">{escape(description)}</desc>{_patterns(chart_id)}'
    )
    return Markup(head + "".join(body) + "</svg>")


LEGEND_ID = "statusforklaring"


def status_legend() -> Markup:
    """A small SVG legend for the grid: the fill and the symbol of each status, in words."""
    items = [*STATUS_STYLES, None]
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="legend" '
        f'viewBox="0 0 {len(items) * 150} 30" width="100%" aria-hidden="true">'
        + _patterns(LEGEND_ID)
    ]
    for index, status in enumerate(items):
        fill, symbol = _fill(status, LEGEND_ID)
        word = status_word(status)
        x = 4 + index * 150
        parts.append(
            f'<rect x="{x}" y="4" width="22" height="22" fill="{fill}" stroke="#333"/>'
            f'<text x="{x + 11}" y="21" text-anchor="middle" font-size="14">{symbol}</text>'
            f'<text x="{x + 28}" y="20" font-size="13">{escape(word)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
