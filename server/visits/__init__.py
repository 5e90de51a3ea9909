"""Facts captured on site: hazards, quotes, signatures, cleanup, visit events, fees, readings, notes."""
