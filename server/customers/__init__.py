"""Households and businesses: one electronic file per household (一户一档, R12)."""
