"""The portfolio chart: valid SVG, one point per account in its quadrant's colour, names escaped, thresholds drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.reports.quadrant_chart import Point, quadrant_chart

SVG = "{http://www.w3.org/2000/svg}"
LABELS = {"star": "明星", "cash_cow": "现金牛", "question_mark": "孩童", "dog": "瘦狗"}


def draw(points, share_line=0.25):
    svg = quadrant_chart(
        "portfolio-chart",
        "客户组合",
        points,
        share_line=share_line,
        growth_line=0.1,
        labels=LABELS,
        x_title="收入占比",
        y_title="增长",
        new_text="新客户",
        empty_text="没有客户",
    )
    return ET.fromstring(str(svg))


def test_each_account_is_a_point_in_its_quadrant_with_its_figures_on_the_tooltip():
    root = draw(
        [
            Point("<b>华信</b>", 0.6, 0.5, "star"),
            Point("远航", 0.05, None, "question_mark"),
            Point("老客户", 0.3, -0.4, "cash_cow"),
            Point("小客户", 0.05, 9.0, "question_mark"),  # beyond +500%: drawn at the edge
        ]
    )
    circles = root.findall(f"{SVG}circle")
    assert [c.get("class") for c in circles] == [
        "chart-point chart-quadrant-star",
        "chart-point chart-quadrant-question_mark",
        "chart-point chart-quadrant-cash_cow",
        "chart-point chart-quadrant-question_mark",
    ]
    tips = [c.find(f"{SVG}title").text for c in circles]
    assert tips[0] == "<b>华信</b>: 60.0% · +50.0%" and tips[1] == "远航: 5.0% · 新客户"
    assert float(circles[3].get("cy")) == float(circles[1].get("cy"))  # both on the top edge
    assert float(circles[2].get("cy")) > float(circles[0].get("cy"))  # shrinking sits lower
    assert len(root.findall(f"{SVG}line[@class='chart-grid chart-threshold']")) == 2
    assert root.find(f"{SVG}desc").text == "孩童: 2; 明星: 1; 瘦狗: 0; 现金牛: 1"


def test_no_accounts_says_so():
    root = draw([])
    assert root.find(f"{SVG}desc").text == "没有客户" and not root.findall(f"{SVG}circle")
