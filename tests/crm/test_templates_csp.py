"""Templates stay ready for a strict Content-Security-Policy (style-src and script-src
'self', no 'unsafe-inline'): styles live in static/css, scripts in static/js."""

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "templates").rglob("*.html"))
INLINE = {
    "style attribute": re.compile(r"\sstyle\s*="),
    "<style> block": re.compile(r"<style\b"),
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)"),
    "event handler attribute": re.compile(r"\son[a-z]+\s*="),
}


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_has_no_inline_style_or_script(path):
    text = path.read_text()
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{path}: {', '.join(found)}"
