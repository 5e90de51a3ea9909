"""Technicians and their certifications: the qualification gate (R14) and the writes the API makes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from server.auth.models import Role, User
from server.errors import field_error
from server.extensions import db
from server.org.service import owned_centre
from server.people.models import Certification, Technician

# The model's default shift (local time), used to check a new technician's shift when only one end is given.
TECHNICIAN_DEFAULT_SHIFT = (dt.time(8, 30), dt.time(17, 30))


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


def _check_unique_staff_no(company_id: uuid.UUID, staff_no: str, exclude: uuid.UUID | None = None) -> None:
    stmt = sa.select(Technician.id).where(Technician.company_id == company_id, Technician.staff_no == staff_no)
    if exclude is not None:
        stmt = stmt.where(Technician.id != exclude)
    if db.session.execute(stmt).first() is not None:
        raise field_error("staff_no", f"staff number {staff_no!r} is already used", reason="duplicate", status=409)


def _check_user(company_id: uuid.UUID, user_id: uuid.UUID, exclude: uuid.UUID | None = None) -> None:
    """The linked login must be a technician of this company and not linked to someone else."""
    user = db.session.get(User, user_id)
    if user is None or user.company_id != company_id:
        raise field_error("user_id", f"no user {user_id} in this company")
    if user.role != Role.TECHNICIAN:
        raise field_error("user_id", f"user {user.username} has the role {user.role.value}, not technician")
    stmt = sa.select(Technician.id).where(Technician.user_id == user_id)
    if exclude is not None:
        stmt = stmt.where(Technician.id != exclude)
    if db.session.execute(stmt).first() is not None:
        raise field_error("user_id", f"user {user.username} is already linked to a technician",
                          reason="duplicate", status=409)


def _check_shape(values: dict[str, Any]) -> None:
    """Rules across fields: a shift ends after it starts; a start point has both coordinates."""
    start, end = values.get("shift_start"), values.get("shift_end")
    if start is not None and end is not None and end <= start:
        raise field_error("shift_end", "the shift must end after it starts (same day, local time)")
    if (values.get("start_lat") is None) != (values.get("start_lon") is None):
        missing = "start_lon" if values.get("start_lon") is None else "start_lat"
        raise field_error(missing, "give both start_lat and start_lon, or neither")


def create_technician(company_id: uuid.UUID, data: dict[str, Any]) -> Technician:
    """Add a technician (with initial certifications) after checking every rule; nothing is written on a refusal."""
    data = {k: v for k, v in data.items() if v is not None or k in ("start_lat", "start_lon")}
    certifications = data.pop("certifications", [])
    _check_shape({"shift_start": TECHNICIAN_DEFAULT_SHIFT[0], "shift_end": TECHNICIAN_DEFAULT_SHIFT[1], **data})
    _check_unique_staff_no(company_id, data["staff_no"])
    if data.get("user_id"):
        _check_user(company_id, data["user_id"])
    if data.get("service_centre_id"):
        owned_centre(company_id, data["service_centre_id"])
    data["skills"] = list(dict.fromkeys(data.get("skills", [])))
    tech = Technician(company_id=company_id, **data)
    db.session.add(tech)
    db.session.flush()
    for cert in certifications:
        db.session.add(Certification(company_id=company_id, technician_id=tech.id, **cert))
    return tech


def update_technician(tech: Technician, changes: dict[str, Any]) -> Technician:
    """Change a technician's fields after checking the merged result against every rule."""
    merged = {
        "shift_start": tech.shift_start, "shift_end": tech.shift_end,
        "start_lat": tech.start_lat, "start_lon": tech.start_lon, **changes,
    }
    _check_shape(merged)
    if "staff_no" in changes:
        _check_unique_staff_no(tech.company_id, changes["staff_no"], exclude=tech.id)
    if changes.get("user_id"):
        _check_user(tech.company_id, changes["user_id"], exclude=tech.id)
    if changes.get("service_centre_id"):
        owned_centre(tech.company_id, changes["service_centre_id"])
    if "skills" in changes:
        changes = {**changes, "skills": list(dict.fromkeys(changes["skills"]))}
    for key, value in changes.items():
        setattr(tech, key, value)
    return tech


def add_certification(tech: Technician, data: dict[str, Any]) -> Certification:
    """Record a certification the technician passed (R14)."""
    cert = Certification(company_id=tech.company_id, technician_id=tech.id, **data)
    db.session.add(cert)
    return cert


def renew_certification(old: Certification, data: dict[str, Any], today: dt.date) -> Certification:
    """A renewal: a new certificate row of the same kind; the old one stays on record as it was."""
    issued_on = data.get("issued_on", today)
    expires_on = data["expires_on"]
    if expires_on <= old.expires_on:
        raise field_error("expires_on", f"a renewal must expire after the current expiry {old.expires_on}")
    if expires_on < issued_on:
        raise field_error("expires_on", "must not be before issued_on")
    cert = Certification(
        company_id=old.company_id, technician_id=old.technician_id, kind=old.kind,
        number=data.get("number", old.number), issued_on=issued_on, expires_on=expires_on,
    )
    db.session.add(cert)
    return cert
