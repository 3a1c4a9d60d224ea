"""`{{ post|post_url }}`: the topic page holding a post, scrolled to it (topic pages hold
posts by number, so a post past the first page needs its page in the link)."""

from __future__ import annotations

from django import template

from ..selectors import post_path

register = template.Library()


@register.filter
def post_url(post) -> str:
    return post_path(post.topic_id, post.number)
