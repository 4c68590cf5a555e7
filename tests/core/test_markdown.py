"""Notes are Markdown: what people format shows formatted, and nothing hostile reaches the page."""

from __future__ import annotations

import re

import pytest

from pipeline.core.markdown import render_markdown


def test_everyday_markdown_is_formatted() -> None:
    html = render_markdown(
        "**重要**：每月回访\n\n- 生日 3 月 8 日\n- 喜欢喝茶\n\n[官网](https://example.com/a?b=1&c=2)"
    )
    assert "<strong>重要</strong>" in html
    assert "<li>生日 3 月 8 日</li>" in html and "<li>喜欢喝茶</li>" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">官网</a>' in html


def test_a_single_line_break_is_kept_as_people_type_notes() -> None:
    assert render_markdown("第一行\n第二行") == "<p>第一行<br />\n第二行</p>\n"


def test_empty_notes_render_nothing() -> None:
    assert render_markdown("") == "" and render_markdown(None) == "" and render_markdown("  \n") == ""


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="https://ok.example" onclick="alert(1)">点</a>',
        "<iframe src=https://evil.example></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<svg onload=alert(1)>",
    ],
)
def test_raw_html_is_shown_as_text_never_as_markup(hostile: str) -> None:
    html = render_markdown(f"客户说：{hostile}")
    assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<svg" not in html
    assert "<div" not in html
    assert not re.search(r"<[a-z]+[^>]*\son\w+=", html)  # no element carries an event handler
    assert "&lt;" in html  # the text is still there, escaped, for the reader to see


@pytest.mark.parametrize(
    "link",
    [
        "[点我](javascript:alert(1))",
        "[点我](JaVaScRiPt:alert(1))",
        "[点我](  javascript:alert(1))",
        "[点我](java&#x09;script:alert(1))",
        "[点我](vbscript:msgbox(1))",
        "[点我](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[点我](file:///etc/passwd)",
        "<javascript:alert(1)>",
        "[点我][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_links_with_dangerous_schemes_are_not_links(link: str) -> None:
    html = render_markdown(link)
    assert "<a " not in html
    assert 'href="javascript' not in html.lower()


def test_images_are_not_loaded_from_notes() -> None:
    html = render_markdown("![x](https://tracker.example/pixel.png)")
    assert "<img" not in html


def test_html_entities_stay_text() -> None:
    html = render_markdown("A &amp; B &lt;script&gt; &#60;b&#62; 5 < 6 > 4")
    assert "<script" not in html and "<b>" not in html
    assert "A &amp; B &lt;script&gt;" in html
    assert "&lt;b&gt;" in html  # &#60;b&#62; is decoded by Markdown, then escaped again on the way out


def test_mail_and_phone_links_are_kept() -> None:
    html = render_markdown("[邮件](mailto:li@example.com) [电话](tel:+8613800000000)")
    assert 'href="mailto:li@example.com"' in html and 'href="tel:+8613800000000"' in html
