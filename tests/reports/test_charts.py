"""The report charts: what a team lead sees in them, and that any label renders as harmless, well-formed SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from markupsafe import Markup

from pipeline.reports.charts import (
    BAR_PLOT_W,
    FUNNEL_PLOT_W,
    Bar,
    FunnelStep,
    Series,
    bar_chart,
    compact_number,
    funnel_chart,
    line_chart,
    nice_max,
)

SVG = "{http://www.w3.org/2000/svg}"
NO_DATA = "没有数据"
EVIL = '<script>alert("x")</script> & Co\'s'


def parse(chart: Markup) -> ET.Element:
    assert isinstance(chart, Markup)
    return ET.fromstring(str(chart))


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def elements(root: ET.Element, tag: str, css_class: str | None = None) -> list[ET.Element]:
    return [e for e in root.iter(SVG + tag) if css_class is None or css_class in classes(e)]


def texts(root: ET.Element, css_class: str | None = None) -> list[str]:
    return ["".join(e.itertext()) for e in elements(root, "text", css_class)]


def widths(root: ET.Element) -> list[float]:
    return [float(r.get("width", "nan")) for r in elements(root, "rect", "chart-bar")]


def funnel(*counts: int, label: str = "阶段") -> Markup:
    steps = [FunnelStep(f"{label} {i}", n, f"¥{n * 1000:,}") for i, n in enumerate(counts)]
    return funnel_chart("funnel", "漏斗", steps, empty_text=NO_DATA)


def test_funnel_bars_are_proportional_to_counts_and_the_largest_fills_the_plot() -> None:
    root = parse(funnel(100, 50, 25))
    assert widths(root) == pytest.approx([FUNNEL_PLOT_W, FUNNEL_PLOT_W / 2, FUNNEL_PLOT_W / 4])
    centres = {float(r.get("x", "nan")) + float(r.get("width", "nan")) / 2 for r in elements(root, "rect", "chart-bar")}
    assert len(centres) == 1  # centred: the funnel narrows symmetrically


def test_funnel_shows_label_count_amount_and_note() -> None:
    steps = [FunnelStep("评估", 13, "¥1,234,567", "→ 62%"), FunnelStep("赢单", 8, "¥800,000")]
    root = parse(funnel_chart("funnel", "漏斗", steps, empty_text=NO_DATA))
    assert texts(root, "chart-label") == ["评估", "赢单"]
    assert texts(root, "chart-value") == ["13 · ¥1,234,567", "8 · ¥800,000"]
    assert texts(root, "chart-note") == ["→ 62%"]
    assert "评估: 13 · ¥1,234,567 → 62%" in "".join(root.find(SVG + "desc").itertext())


def test_a_stage_without_deals_is_still_visible_as_an_outline() -> None:
    root = parse(funnel(10, 0))
    empty = elements(root, "rect", "chart-bar-empty")
    assert len(empty) == 1 and float(empty[0].get("width", "0")) > 0
    assert texts(root, "chart-value")[1] == "0 · ¥0"
    assert elements(parse(funnel(0, 0)), "rect", "chart-bar-empty")  # all zero: no division by zero


def test_bar_widths_follow_values_against_the_largest_or_a_given_maximum() -> None:
    bars = [Bar("A", 100, "100"), Bar("B", 50, "50")]
    against_largest = bar_chart("b", "t", bars, value_suffix="", empty_text=NO_DATA)
    against_200 = bar_chart("b", "t", bars, max_value=200, value_suffix="", empty_text=NO_DATA)
    assert widths(parse(against_largest)) == pytest.approx([BAR_PLOT_W, BAR_PLOT_W / 2])
    assert widths(parse(against_200)) == pytest.approx([BAR_PLOT_W / 2, BAR_PLOT_W / 4])


def test_percentages_are_drawn_against_100_percent() -> None:
    root = parse(bar_chart("conv", "转化率", [Bar("电话", 25, "25% (n=12)")], empty_text=NO_DATA))
    assert widths(root) == pytest.approx([BAR_PLOT_W / 4])
    assert texts(root, "chart-value") == ["25% (n=12)"]


def test_a_row_without_data_shows_a_dash_and_no_bar() -> None:
    bars = [Bar("有数据", 40, "40% (n=10)"), Bar("无数据", None, "ignored")]
    root = parse(bar_chart("conv", "转化率", bars, empty_text=NO_DATA))
    assert texts(root, "chart-value") == ["40% (n=10)", "—"]
    assert len(elements(root, "rect", "chart-bar")) == 1
    assert len(elements(root, "rect", "chart-track-none")) == 1


def test_a_small_sample_is_drawn_muted() -> None:
    bars = [Bar("大样本", 60, "60% (n=40)"), Bar("小样本", 60, "60% (n=3)", muted=True)]
    root = parse(bar_chart("conv", "转化率", bars, empty_text=NO_DATA))
    assert [("chart-bar-muted" in classes(r)) for r in elements(root, "rect", "chart-bar")] == [False, True]


def weeks(*values: float | None, other: list[float | None] | None = None) -> Markup:
    labels = [f"W{47 + i}" for i in range(len(values))]
    series = [Series("合计", "chart-line-total", list(values))]
    if other is not None:
        series.append(Series("加权", "chart-line-weighted", other))
    return line_chart("weekly", "每周", labels, series, empty_text=NO_DATA)


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in polyline.get("points", "").split())]


def test_a_line_breaks_where_a_week_has_no_data() -> None:
    root = parse(weeks(1, 2, None, 4, 5, 6))
    assert [len(points(p)) for p in elements(root, "polyline")] == [2, 3]
    assert len(elements(root, "circle")) == 5


def test_higher_values_are_drawn_higher_and_points_tell_the_exact_value() -> None:
    root = parse(weeks(1_234_567, 300_000))
    (line,) = elements(root, "polyline")
    (x1, y1), (x2, y2) = points(line)
    assert x1 < x2 and y1 < y2  # SVG y grows downwards
    tips = ["".join(c.find(SVG + "title").itertext()) for c in elements(root, "circle")]
    assert tips == ["合计 · W47: 1,234,567", "合计 · W48: 300,000"]


@pytest.mark.parametrize(
    ("value", "top"), [(870, 1000), (0.3, 0.5), (1000, 1000), (1001, 2000), (1.5, 2), (0.07, 0.1), (0, 1)]
)
def test_the_axis_ends_on_a_round_number(value: float, top: float) -> None:
    assert nice_max(value) == pytest.approx(top)


def test_the_axis_has_a_few_compact_tick_labels_and_a_legend() -> None:
    root = parse(weeks(870, 10, other=[100, 200]))
    ticks = texts(root, "chart-tick")
    assert ticks[:6] == ["0", "200", "400", "600", "800", "1k"]
    assert len(elements(root, "line", "chart-grid")) == 5
    assert texts(root, "chart-legend") == ["合计", "加权"]
    assert [compact_number(v) for v in (1_200_000, 350_000, 2_500, 0.5)] == ["1.2M", "350k", "2.5k", "0.5"]


def test_many_weeks_are_labelled_sparsely_with_the_latest_always_shown() -> None:
    values = [float(i) for i in range(52)]
    labels = [f"W{i + 1}" for i in range(52)]
    root = parse(line_chart("year", "全年", labels, [Series("合计", "chart-line-total", values)], empty_text=NO_DATA))
    shown = [t for t in texts(root, "chart-tick") if t.startswith("W")]
    assert 4 <= len(shown) <= 13 and shown[-1] == "W52"


def test_labels_titles_and_classes_are_escaped_and_read_back_unchanged() -> None:
    sneaky_class = 'x" onload="alert(1)'
    charts = [
        funnel_chart("f", EVIL, [FunnelStep(EVIL, 1, EVIL, EVIL)], empty_text=NO_DATA),
        bar_chart("b", EVIL, [Bar(EVIL, 5, EVIL)], empty_text=NO_DATA),
        line_chart("l", EVIL, [EVIL], [Series(EVIL, sneaky_class, [1])], empty_text=NO_DATA),
        funnel_chart("e", EVIL, [], empty_text=EVIL),
    ]
    for chart in charts:
        assert "<script" not in chart
        root = parse(chart)
        assert "".join(root.find(SVG + "title").itertext()) == EVIL
        assert not [e for e in root.iter() if "onload" in e.attrib]
    funnel_root, bar_root, line_root, empty_root = (parse(chart) for chart in charts)
    assert texts(funnel_root, "chart-label") == texts(funnel_root, "chart-note") == [EVIL]
    assert texts(funnel_root, "chart-value") == [f"1 · {EVIL}"]
    assert texts(bar_root, "chart-label") == texts(bar_root, "chart-value") == [EVIL]
    assert texts(line_root, "chart-legend") == [EVIL] and EVIL in texts(line_root, "chart-tick")
    assert elements(line_root, "polyline")[0].get("class") == f"chart-line {sneaky_class}"
    assert texts(empty_root) == [EVIL]


def test_a_caller_markup_label_is_escaped_too_and_control_characters_do_not_break_the_svg() -> None:
    root = parse(bar_chart("b", "t", [Bar(Markup("<b>粗</b>"), 5, "a\x00b\x1f")], empty_text=NO_DATA))
    assert texts(root, "chart-label") == ["<b>粗</b>"]
    assert texts(root, "chart-value") == ["ab"]


def all_charts() -> list[Markup]:
    return [
        funnel(4, 2, 0),
        bar_chart("conversion", "转化率", [Bar("A", 10, "10%"), Bar("B", None, "")], empty_text=NO_DATA),
        weeks(1, None, 3),
        bar_chart("empty-bars", "转化率", [], empty_text=NO_DATA),
    ]


def test_each_chart_is_an_accessible_scalable_image() -> None:
    for chart in all_charts():
        root = parse(chart)
        assert root.get("role") == "img" and root.get("width") == "100%"
        assert len(root.get("viewBox", "").split()) == 4
        title, desc = root.find(SVG + "title"), root.find(SVG + "desc")
        assert title is not None and desc is not None and "".join(desc.itertext())
        assert root.get("aria-labelledby") == title.get("id")
        assert root.get("aria-describedby") == desc.get("id")


def test_ids_are_unique_on_a_page_with_several_charts_and_must_be_plain_keys() -> None:
    ids = [e.get("id") for chart in all_charts() for e in parse(chart).iter() if e.get("id")]
    assert len(ids) == len(set(ids)) > 0
    with pytest.raises(ValueError):
        funnel_chart('x" onclick="y', "t", [], empty_text=NO_DATA)


def test_no_inline_style_or_script_anywhere() -> None:
    for chart in all_charts():
        root = parse(chart)
        assert all("style" not in e.attrib for e in root.iter())
        assert not [e for e in root.iter() if e.tag in (SVG + "style", SVG + "script", SVG + "foreignObject")]


@pytest.mark.parametrize(
    "chart",
    [
        funnel_chart("a", "漏斗", [], empty_text=NO_DATA),
        bar_chart("b", "转化率", [Bar("A", None, "")], empty_text=NO_DATA),
        line_chart("c", "每周", ["W1", "W2"], [Series("合计", "chart-line-total", [None, None])], empty_text=NO_DATA),
        line_chart("d", "每周", [], [], empty_text=NO_DATA),
        bar_chart("e", "转化率", [Bar("A", float("nan"), "")], empty_text=NO_DATA),
    ],
)
def test_empty_input_says_so(chart: Markup) -> None:
    root = parse(chart)
    assert texts(root) == [NO_DATA]
    assert not elements(root, "rect") and not elements(root, "polyline")


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=15))
def test_funnel_widths_are_monotonic_in_counts_and_stay_inside_the_plot(counts: list[int]) -> None:
    drawn = widths(parse(funnel(*counts)))
    assert all(0 < w <= FUNNEL_PLOT_W for w in drawn)
    ordered = [w for _, w in sorted(zip(counts, drawn, strict=True))]
    assert ordered == sorted(ordered)
    if max(counts) > 0:
        assert max(drawn) == pytest.approx(FUNNEL_PLOT_W)


@given(st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False) | st.none(), min_size=1, max_size=15))
def test_bar_widths_are_monotonic_in_values_and_stay_inside_the_plot(values: list[float | None]) -> None:
    bars = [Bar(f"r{i}", v, "x") for i, v in enumerate(values)]
    root = parse(bar_chart("b", "t", bars, value_suffix="", empty_text=NO_DATA))
    known = [v for v in values if v is not None]
    drawn = widths(root)
    assert len(drawn) == len(known)
    assert all(0 < w <= BAR_PLOT_W for w in drawn)
    ordered = [w for _, w in sorted(zip(known, drawn, strict=True))]
    assert ordered == sorted(ordered)


@example("", [5e-324])  # the ends of float's range: no division by zero, no infinite axis
@example("", [1.0000000010000002e308])
@given(st.text(), st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.none(), max_size=8))
def test_any_label_and_values_give_well_formed_svg(label: str, values: list[float | None]) -> None:
    x_labels = [label] * len(values)
    for chart in (
        funnel_chart("f", label, [FunnelStep(label, len(values), label, label)], empty_text=label),
        bar_chart("b", label, [Bar(label, v, label) for v in values], empty_text=label),
        line_chart("l", label, x_labels, [Series(label, "chart-line-total", values)], empty_text=label),
    ):
        parse(chart)
