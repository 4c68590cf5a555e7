"""The portfolio view (波斯顿矩阵) as a server-rendered SVG: accounts placed by share of revenue and growth.

Built from reports/charts.py's pieces (escaped text, an accessible frame); the quadrants' borders are the
thresholds in force, so the chart shows the rule as well as the accounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from pipeline.reports.charts import WIDTH, _empty, _say, _svg, _tag, nice_max

LEFT, RIGHT, TOP, PLOT_H = 56, 16, 16, 300
GROWTH_FLOOR, GROWTH_CEILING = -1.0, 5.0  # −100% … +500%; beyond is drawn at the edge (the tooltip has the value)


@dataclass(frozen=True, slots=True)
class Point:
    """One account: its share of revenue and its growth (fractions of 1); growth None for a new buyer."""

    label: str
    share: float
    growth: float | None
    quadrant: str


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def quadrant_chart(
    id: str,
    title: str,
    points: Sequence[Point],
    *,
    share_line: float | None,
    growth_line: float,
    labels: Mapping[str, str],
    x_title: str,
    y_title: str,
    new_text: str,
    empty_text: str,
) -> Markup:
    """Share across, growth up; a dashed line at each threshold; new buyers at the top edge."""
    if not points:
        return _empty(id, title, empty_text)
    x_top = nice_max(max([p.share for p in points] + [share_line or 0.0]) * 1.1)
    known = [p.growth for p in points if p.growth is not None]
    y_top = min(max([1.0, growth_line, *known]), GROWTH_CEILING)
    plot_w, bottom = WIDTH - LEFT - RIGHT, TOP + PLOT_H

    def x_at(value: float) -> float:
        return LEFT + plot_w * min(max(value, 0.0), x_top) / x_top

    def y_at(value: float) -> float:
        clipped = min(max(value, GROWTH_FLOOR), y_top)
        return bottom - PLOT_H * (clipped - GROWTH_FLOOR) / (y_top - GROWTH_FLOOR)

    marks: list[Markup] = [
        _tag("line", class_="chart-axis", x1=LEFT, x2=WIDTH - RIGHT, y1=bottom, y2=bottom),
        _tag("line", class_="chart-axis", x1=LEFT, x2=LEFT, y1=TOP, y2=bottom),
        _say(x_title, "chart-tick", LEFT + plot_w / 2, bottom + 30, "middle"),
        _say(y_title, "chart-tick", 4, TOP - 6),
    ]
    for k in range(5):
        value = x_top * k / 4
        marks.append(_say(_percent(value), "chart-tick", x_at(value), bottom + 12, "middle"))
    for value in (GROWTH_FLOOR, 0.0, y_top):
        marks.append(_say(_percent(value), "chart-tick", LEFT - 6, y_at(value), "end"))
    mid_x = x_at(share_line) if share_line is not None else LEFT + plot_w
    mid_y = y_at(growth_line)
    if share_line is not None:
        marks.append(_tag("line", class_="chart-grid chart-threshold", x1=mid_x, x2=mid_x, y1=TOP, y2=bottom))
    marks.append(_tag("line", class_="chart-grid chart-threshold", x1=LEFT, x2=WIDTH - RIGHT, y1=mid_y, y2=mid_y))
    corners = {
        "question_mark": (LEFT + 6, TOP + 10, None),
        "star": (WIDTH - RIGHT - 6, TOP + 10, "end"),
        "dog": (LEFT + 6, bottom - 10, None),
        "cash_cow": (WIDTH - RIGHT - 6, bottom - 10, "end"),
    }
    for key, (x, y, anchor) in corners.items():
        marks.append(_say(labels.get(key, key), "chart-legend", x, y, anchor))
    for p in points:
        growth_text = new_text if p.growth is None else f"{p.growth * 100:+.1f}%"
        tip = _tag("title", text=f"{p.label}: {p.share * 100:.1f}% · {growth_text}")
        y = y_at(y_top if p.growth is None else p.growth)
        marks.append(
            _tag("circle", tip, class_=f"chart-point chart-quadrant-{p.quadrant}", cx=x_at(p.share), cy=y, r=4.5)
        )
    counts = {key: sum(1 for p in points if p.quadrant == key) for key in corners}
    desc = "; ".join(f"{labels.get(key, key)}: {n}" for key, n in counts.items())
    return _svg(id, title, desc, bottom + 40, marks)
