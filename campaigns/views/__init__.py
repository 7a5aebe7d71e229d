"""Pages of sender IDs, content templates, the compliance desk and blocked templates (one module per topic)."""
