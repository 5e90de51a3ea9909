"""Follow-up calls by customer service after visits and complaints (R6)."""
