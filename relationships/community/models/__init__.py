"""Community models, one module per part: forums (categories, topics, posts), moderation,
co-creation (ideas, reviews). Re-exported here so Django and callers find them."""
