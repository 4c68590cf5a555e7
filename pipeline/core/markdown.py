"""Notes and comments in Markdown, rendered safely: raw HTML is shown as text and only safe links survive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Flask
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

# Schemes a link in a note may use; markdown-it's own validator already refuses javascript:, vbscript:, file:
# and data: (but images), this list narrows it to what a sales team links to.
SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")


def _safe_link(url: str) -> bool:
    """Accept web, mail and phone links and relative ones; refuse every other scheme."""
    lowered = url.strip().lower()
    head = lowered.split("/", 1)[0]
    return ":" not in head or lowered.startswith(SAFE_SCHEMES)


def _link_open(renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    """Open links to other sites without handing them our page or our search ranking."""
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


def _parser() -> MarkdownIt:
    """CommonMark with tables and strikethrough; raw HTML off, images off (no tracking pixels in a note)."""
    md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])
    md.disable("image")
    default_validate = md.validateLink
    md.validateLink = lambda url: default_validate(url) and _safe_link(url)  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


_MD = _parser()


def render_markdown(text: Any) -> Markup:
    """A note's Markdown as HTML that is safe to put in a page (markdown-it escapes everything it does not build)."""
    if text is None or str(text).strip() == "":
        return Markup("")
    return Markup(_MD.render(str(text)))  # the renderer escaped all user text


def init_app(app: Flask) -> None:
    """Offer `markdown` to every template: {{ account.notes|markdown }}."""
    app.add_template_filter(render_markdown, "markdown")
