"""Posts are Markdown with raw HTML off, cleaned by an allow-list: no user text reaches a
page as markup, and links carry rel="nofollow ugc"."""

from html.parser import HTMLParser

import pytest

from relationships.community.markdown import render_markdown


def test_markdown_becomes_html():
    html = render_markdown("**Tip:** restart the *router*.\n\n- one\n- two")
    assert "<strong>Tip:</strong>" in html
    assert "<em>router</em>" in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="https://x.test" onclick="alert(1)">x</a>',
        "<iframe src=https://x.test></iframe>",
    ],
)
def test_no_markup_from_the_user_gets_through(source):
    tags = elements(render_markdown(source))
    # Only a paragraph (and a harmless link at most) comes out; the rest is text.
    assert {tag for tag, _ in tags} <= {"p", "a"}
    for _, attrs in tags:
        assert all(not name.startswith("on") for name, _ in attrs)
        assert all("javascript" not in (value or "") for _, value in attrs)


def elements(html: str) -> list[tuple[str, list]]:
    found: list[tuple[str, list]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_links_are_nofollow_ugc():
    html = render_markdown("See [the guide](https://example.com/guide).")
    assert 'href="https://example.com/guide"' in html
    assert 'rel="nofollow ugc"' in html
