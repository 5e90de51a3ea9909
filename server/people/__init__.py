"""Technicians, their skills and certifications (R14)."""
