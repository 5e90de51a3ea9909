"""Technicians and their certifications: the qualification gate (R14) and the writes the API makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from server.people.models import Certification, Technician


def valid_kinds(certifications: Iterable[Certification], day: dt.date) -> set[str]:
    """The certification kinds that cover ``day`` (a renewed kind counts once any row covers it)."""
    return {c.kind for c in certifications if c.valid_on(day)}


def qualified(technician: Technician, required_certifications: Iterable[str], day: dt.date) -> list[str]:
    """The required certifications the technician lacks on ``day`` (missing or expired), in the
    order they were asked for, without duplicates; an empty list means the technician may take it (R14).
    """
    held = valid_kinds(technician.certifications, day)
    missing: list[str] = []
    for kind in required_certifications:
        if kind not in held and kind not in missing:
            missing.append(kind)
    return missing
