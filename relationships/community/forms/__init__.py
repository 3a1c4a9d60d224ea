"""Community forms, one module per part."""
