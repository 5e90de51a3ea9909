"""Versioned inspection checklist templates and the answers captured on site."""
