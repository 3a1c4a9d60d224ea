"""Reads of the community, including who may see what (pages and API use the same)."""
