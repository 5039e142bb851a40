"""Today against the draft as an accessible server-side SVG bar chart.

role="img" with <title> and <desc>; the two series differ by fill pattern and a label at
each bar's end, never by colour alone, and the page shows the same numbers as a table.
"""

from __future__ import annotations

from collections.abc import Sequence

from babel import numbers
from markupsafe import Markup, escape

TODAY_COLOUR = "#0072B2"
DRAFT_COLOUR = "#D55E00"


def paired_bars(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, float | None, float | None]],
    legend: tuple[str, str],
    locale: str = "da",
    width: int = 640,
) -> Markup:
    """Draw a pair of horizontal bars (today, draft) per labelled row."""
    left, right, top, bar, gap = 110, 70, 36, 12, 14
    height = top + max(1, len(rows)) * (2 * bar + gap) + 10
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-titel {chart_id}-beskrivelse">'
        f'<title id="{chart_id}-titel">{escape(title)}</title>'
        f'<desc id="{chart_id}-beskrivelse">{escape(description)}</desc>'
        f'<defs><pattern id="{chart_id}-skraa" width="6" height="6" '
        f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#fff"/>'
        f'<rect width="3" height="6" fill="{DRAFT_COLOUR}"/></pattern></defs>'
    )
    values = [v for _, a, b in rows for v in (a, b) if v is not None]
    if not values:
        return Markup(
            head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">–</text></svg>'
        )
    highest = max(values) or 1.0
    plot = width - left - right
    fills = (TODAY_COLOUR, f"url(#{chart_id}-skraa)")
    parts = [head, '<g font-size="12" fill="#222">']
    for index, name in enumerate(legend):
        x = left + index * 150
        parts.append(
            f'<rect x="{x}" y="8" width="16" height="12" fill="{fills[index]}" '
            f'stroke="{DRAFT_COLOUR if index else TODAY_COLOUR}"/>'
            f'<text x="{x + 22}" y="18">{escape(name)}</text>'
        )
    for row, (label, today, draft) in enumerate(rows):
        y = top + row * (2 * bar + gap)
        parts.append(
            f'<text x="{left - 6}" y="{y + bar + 4}" text-anchor="end">{escape(label[:16])}</text>'
        )
        for side, value in enumerate((today, draft)):
            if value is None:
                continue
            length = max(1.0, plot * value / highest)
            by = y + side * bar
            parts.append(
                f'<rect x="{left}" y="{by}" width="{length:.1f}" height="{bar - 1}" '
                f'fill="{fills[side]}" stroke="{DRAFT_COLOUR if side else TODAY_COLOUR}"/>'
                f'<text x="{left + length + 4:.1f}" y="{by + bar - 2}">'
                f"{escape(numbers.format_decimal(value, '#,##0.#', locale=locale))}</text>"
            )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top - 4}" y2="{height - 8}" stroke="#222"/></g></svg>'
    )
    return Markup("".join(parts))
