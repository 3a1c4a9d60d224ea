"""User text to safe HTML, once at save (the HTML is stored beside the source).

markdown-it-py renders CommonMark with raw HTML off (a ``<script>`` in a post comes out
as text); nh3 (an allow-list sanitizer, the Rust ammonia library) then keeps only the
tags and attributes below, so even a renderer bug cannot let markup through, and gives
every link ``rel="nofollow ugc"``: links written by users earn no search ranking.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_renderer.enable(["table", "strikethrough"])

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str) -> str:
    """The HTML to store for ``source``: rendered, then cleaned by the allow-list."""
    html = _renderer.render(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc",
    )
