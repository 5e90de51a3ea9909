"""The audit trail (R19): who changed which row, when, from which device, and what changed."""
