"""Writes of the community, one module per part; each use case is one transaction."""
