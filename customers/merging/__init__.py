"""Merging two records of one customer: the services (preview, merge) and the API. The
admin's page is customers.views.merge; other apps take part through customers.hooks."""

from .services import MergePreview, customer_merge, customer_merge_preview

__all__ = ["MergePreview", "customer_merge", "customer_merge_preview"]
