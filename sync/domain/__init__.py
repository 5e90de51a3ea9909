"""Domain rules both sides must apply identically (the server checks again: G10)."""
