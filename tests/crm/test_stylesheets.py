"""Every stylesheet closes what it opens: one missing brace after a media query puts every rule
below it inside that query, so desktop pages silently lose them."""

import re
from pathlib import Path

import pytest

SHEETS = sorted((Path(__file__).resolve().parents[2] / "static" / "css").glob("*.css"))


@pytest.mark.parametrize("path", SHEETS, ids=lambda p: p.name)
def test_braces_balance(path):
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{path.name}:{number}: a closing brace too many"
        if line.startswith(("@media", ".", "#")) and not line.startswith("  "):
            # A rule or block at the left margin starts at the top level.
            assert depth - line.count("{") + line.count("}") == 0, (
                f"{path.name}:{number}: still inside a block opened above: {line[:60]}"
            )
    assert depth == 0, f"{path.name}: {depth} block(s) never closed"
