"""Server-rendered SVG charts for the report pages: no JavaScript, every text escaped, colours from style.css.

Each function returns one `<svg>` as Markup, ready for a template. The caller passes every visible string
(translated), so nothing here needs the catalogs. Layout numbers are SVG user units; the `viewBox` scales them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640  # of every chart's viewBox
LABEL_W = 140  # the column of row labels at the left of the funnel and the bar chart
NOTE_W = 90  # the funnel's notes at the right ("→ 62%")
TEXT_W = 130  # the bar chart's texts at the right ("62% (n=13)")
GAP = 8
MIN_BAR = 4.0  # a zero (or tiny) bar stays visible
FUNNEL_PLOT_W = WIDTH - LABEL_W - NOTE_W
BAR_PLOT_W = WIDTH - LABEL_W - TEXT_W
ROW, BAR_H = 34, 24
LEFT, RIGHT, PLOT_TOP, PLOT_H = 56, 24, 32, 180  # the line chart's plot area; the legend sits above it
MAX_X_LABELS = 12

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # would make the SVG unparsable


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """One stage of the funnel: how many deals are in it and their money, already formatted."""

    label: str
    count: int
    amount_text: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar; value None means no data, muted a sample too small to trust."""

    label: str
    value: float | None
    text: str
    muted: bool = False


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a line chart; css_class picks its colour in style.css, a None value leaves a gap."""

    name: str
    css_class: str
    values: Sequence[float | None]


def _trim(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def compact_number(value: float) -> str:
    """A tick label short enough for an axis: 1.2M, 350k, 0.5."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return _trim(value / size, 1) + suffix
    return _trim(value, 2)


def exact_number(value: float) -> str:
    """A value as a tooltip states it: 1,234,567 or 0.25."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def nice_max(value: float) -> float:
    """The top of an axis: the value rounded up to 1, 2 or 5 × 10ⁿ, so the gridlines fall on round numbers."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    if not 0 < power < 1e307:  # at the ends of float's range there is no rounder number to go to
        return value
    return power * next(m for m in (1, 2, 5, 10) if value / power <= m * (1 + 1e-9))


def _intervals(top: float) -> int:
    """Gridline intervals for a nice top: 4 for 2×10ⁿ (steps of 0.5), else 5."""
    power = 10.0 ** math.floor(math.log10(top))
    return 4 if power > 0 and round(top / power) == 2 else 5


def _text(value: object) -> Markup:
    return escape(_NOT_XML.sub("", str(value)))  # str() first: a caller's Markup is escaped too


def _tag(name: str, *children: Markup, text: object = None, **attrs: object) -> Markup:
    """One element; attribute values and text are escaped, children are elements built here."""
    head = name
    for key, value in attrs.items():
        if value is not None:
            shown = _trim(value, 2) if isinstance(value, float | int) else _text(value)
            head += f' {key.rstrip("_").replace("_", "-")}="{shown}"'
    body = Markup("").join(children) + (_text(text) if text is not None else "")
    return Markup(f"<{head}>{body}</{name}>" if body else f"<{head}/>")


def _text_width(text: object) -> float:
    """A rough width of a text at 13px (wide CJK characters, narrower Latin ones), to lay out without a browser."""
    return sum(13.0 if ord(char) >= 0x2E80 else 7.5 for char in str(text))


def _svg(id: str, title: object, desc: object, height: float, marks: Sequence[Markup]) -> Markup:
    """The chart's frame: an accessible name and summary, ids derived from the chart's key, a scalable viewBox."""
    if not _ID.match(id):
        raise ValueError(f"a chart id is a plain key such as 'funnel-amounts', not {id!r}")
    return _tag(
        "svg",
        _tag("title", text=title, id=f"{id}-title"),
        _tag("desc", text=desc, id=f"{id}-desc"),
        *marks,
        xmlns="http://www.w3.org/2000/svg",
        id=id,
        class_="chart",
        role="img",
        aria_labelledby=f"{id}-title",
        aria_describedby=f"{id}-desc",
        viewBox=f"0 0 {WIDTH} {_trim(height, 2)}",
        width="100%",
    )


def _empty(id: str, title: object, empty_text: object) -> Markup:
    return _svg(id, title, empty_text, 48, [_say(empty_text, "chart-empty", WIDTH / 2, 24, "middle")])


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _bar_width(value: float, top: float, full: float) -> float:
    """Proportional to value/top, at least MIN_BAR so the row shows, never beyond the plot."""
    share = min(max(value / top, 0.0), 1.0) if top > 0 else 0.0
    return max(full * share, MIN_BAR)


def _say(text: object, css_class: str, x: float, y: float, anchor: str | None = None) -> Markup:
    """A text vertically centred on y."""
    return _tag("text", text=text, class_=css_class, x=x, y=y, dy="0.35em", text_anchor=anchor)


def funnel_chart(id: str, title: str, steps: Sequence[FunnelStep], *, empty_text: str) -> Markup:
    """Deals and money per stage as centred bars, widest for the fullest stage, so the narrowing shows at a glance."""
    if not steps:
        return _empty(id, title, empty_text)
    counts = [max(step.count, 0) for step in steps]
    top = max(counts)
    centre = LABEL_W + FUNNEL_PLOT_W / 2
    marks: list[Markup] = []
    for i, (step, count) in enumerate(zip(steps, counts, strict=True)):
        mid = i * ROW + ROW / 2
        width = _bar_width(count, top, FUNNEL_PLOT_W)
        marks += [
            _say(step.label, "chart-label", 0, mid),
            _tag(
                "rect",
                class_="chart-bar" if count else "chart-bar chart-bar-empty",
                x=centre - width / 2,
                y=mid - BAR_H / 2,
                width=width,
                height=BAR_H,
            ),
        ]
        value = f"{count} · {step.amount_text}"
        if _text_width(value) + 2 * GAP <= width:  # white on the bar when it fits, else just right of it
            marks.append(_say(value, "chart-value chart-value-inside", centre, mid, "middle"))
        else:
            marks.append(_say(value, "chart-value", centre + width / 2 + GAP / 2, mid))
        if step.note:
            marks.append(_say(step.note, "chart-note", WIDTH - NOTE_W + GAP, mid))
    desc = "; ".join(f"{s.label}: {c} · {s.amount_text} {s.note}".rstrip() for s, c in zip(steps, counts, strict=True))
    return _svg(id, title, desc, len(steps) * ROW, marks)


def bar_chart(
    id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    max_value: float | None = None,
    value_suffix: str = "%",
    empty_text: str,
) -> Markup:
    """One horizontal bar per row over a light track; rows without data show an outline and "—"."""
    values = [_finite(bar.value) for bar in bars]
    known = [v for v in values if v is not None]
    if not known:
        return _empty(id, title, empty_text)
    top = max_value or max(*known, 100.0 if value_suffix == "%" else 0.0)
    marks: list[Markup] = []
    for i, (bar, value) in enumerate(zip(bars, values, strict=True)):
        y = i * ROW + (ROW - BAR_H) / 2
        mid = i * ROW + ROW / 2
        track = "chart-track" if value is not None else "chart-track chart-track-none"
        marks += [
            _say(bar.label, "chart-label", 0, mid),
            _tag("rect", class_=track, x=LABEL_W, y=y, width=BAR_PLOT_W, height=BAR_H),
        ]
        if value is not None:
            width = _bar_width(value, top, BAR_PLOT_W)
            kind = "chart-bar-muted" if bar.muted else "chart-bar-empty" if value <= 0 else ""
            tip = _tag("title", text=f"{bar.label}: {exact_number(value)}{value_suffix}")
            bar_class = f"chart-bar {kind}".strip()
            marks.append(_tag("rect", tip, class_=bar_class, x=LABEL_W, y=y, width=width, height=BAR_H))
        text = bar.text if value is not None else "—"
        marks.append(_say(text, "chart-value", LABEL_W + BAR_PLOT_W + GAP, mid))
    desc = "; ".join(f"{bar.label}: {bar.text if v is not None else '—'}" for bar, v in zip(bars, values, strict=True))
    return _svg(id, title, desc, len(bars) * ROW, marks)


def _runs(values: Sequence[float | None]) -> Iterator[list[tuple[int, float]]]:
    """Consecutive known values with their positions: the pieces of a line broken where data is missing."""
    run: list[tuple[int, float]] = []
    for i, value in enumerate(values):
        if value is None:
            if run:
                yield run
            run = []
        else:
            run.append((i, value))
    if run:
        yield run


def line_chart(
    id: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    format_tick: Callable[[float], str] = compact_number,
    format_value: Callable[[float], str] = exact_number,
    empty_text: str,
) -> Markup:
    """Lines from zero to a round top, a few gridlines, a legend, and the exact value on each point's tooltip."""
    columns = len(x_labels)
    lines = [[_finite(v) for v, _ in zip(s.values, x_labels, strict=False)] for s in series]
    known = [v for values in lines for v in values if v is not None]
    if not known:
        return _empty(id, title, empty_text)
    top = nice_max(max(known))
    plot_w, bottom = WIDTH - LEFT - RIGHT, PLOT_TOP + PLOT_H

    def x_at(i: int) -> float:
        return LEFT + plot_w * i / (columns - 1) if columns > 1 else LEFT + plot_w / 2

    def y_at(value: float) -> float:
        return bottom - PLOT_H * min(max(value, 0.0), top) / top

    marks: list[Markup] = []
    intervals = _intervals(top)
    for k in range(intervals + 1):
        y = bottom - PLOT_H * k / intervals
        grid = "chart-axis" if k == 0 else "chart-grid"
        marks.append(_tag("line", class_=grid, x1=LEFT, x2=WIDTH - RIGHT, y1=y, y2=y))
        marks.append(_say(format_tick(top * k / intervals), "chart-tick", LEFT - 6, y, "end"))
    step = math.ceil(columns / MAX_X_LABELS)
    for i, label in enumerate(x_labels):
        if (columns - 1 - i) % step == 0:  # thinned from the right, so the latest column is always labelled
            marks.append(_say(label, "chart-tick", x_at(i), bottom + 14, "middle"))
    legend_x = float(LEFT)
    for s, values in zip(series, lines, strict=True):
        marks += [
            _tag("line", class_=f"chart-line {s.css_class}", x1=legend_x, x2=legend_x + 20, y1=12, y2=12),
            _say(s.name, "chart-legend", legend_x + 26, 12),
        ]
        legend_x += 26 + _text_width(s.name) + 24
        for run in _runs(values):
            points = " ".join(f"{_trim(x_at(i), 2)},{_trim(y_at(v), 2)}" for i, v in run)
            marks.append(_tag("polyline", class_=f"chart-line {s.css_class}", points=points, fill="none"))
            for i, v in run:
                tip = _tag("title", text=f"{s.name} · {x_labels[i]}: {format_value(v)}")
                marks.append(_tag("circle", tip, class_=f"chart-point {s.css_class}", cx=x_at(i), cy=y_at(v), r=3.5))
    summaries = []
    for s, values in zip(series, lines, strict=True):
        seen = [(x_labels[i], format_value(v)) for i, v in enumerate(values) if v is not None]
        if seen:
            summaries.append(f"{s.name}: " + " → ".join(f"{x} {v}" for x, v in dict.fromkeys([seen[0], seen[-1]])))
    return _svg(id, title, "; ".join(summaries), bottom + 28, marks)
