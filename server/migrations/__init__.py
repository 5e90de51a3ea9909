"""Alembic migrations (a package so that wheels ship them)."""
