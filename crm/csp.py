"""The pages that need more than the site-wide Content-Security-Policy (CONTENT_SECURITY_POLICY
in crm/settings/base.py), each widened only as far as it must be, and why."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from django.template.response import SimpleTemplateResponse
from rest_framework import renderers

# The API docs (crm/urls.py) widen img-src with data: for the icons Swagger UI's stylesheet
# draws as data: images; their script is a file of its own (drf-spectacular's "split" view
# serves it from ?script), so script-src stays 'self'.


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, whose templates put a few style="" attributes on the page (a
    float, a width). style-src-attr lets attributes through and nothing else: <style>
    blocks and every script stay as strict as elsewhere."""

    def get_context(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(*args, **kwargs)
        # The colours of highlighted code in descriptions come as a <style> block; without
        # them code shows plain, in the page's own monospace style.
        context["code_style"] = None
        return context

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> Any:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src-attr": ["'unsafe-inline'"]}
        return super().render(data, accepted_media_type, renderer_context)


def allow_inline_script(response: SimpleTemplateResponse, script_id: str) -> None:
    """Allow one inline <script id=...> of a third-party template by its hash, once the page
    is rendered: the browser runs that exact text and nothing else inline, so a script
    injected into the page is still refused. Used where copying the template to move its
    script into a file would mean keeping a fork of someone else's code."""
    pattern = re.compile(rf'<script id="{re.escape(script_id)}">(.*?)</script>', re.DOTALL)

    def add_hash(rendered: SimpleTemplateResponse) -> None:
        found = pattern.search(rendered.content.decode())
        if found:
            digest = hashlib.sha256(found.group(1).encode()).digest()
            source = f"'sha256-{base64.b64encode(digest).decode()}'"
            rendered._csp_update = {"script-src": [source]}  # type: ignore[attr-defined]

    response.add_post_render_callback(add_hash)
