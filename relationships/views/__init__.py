"""Staff pages on relationships, one module per subject; relationships.urls routes to them."""
