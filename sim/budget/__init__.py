"""Budget allocation (placeholder while building)."""
