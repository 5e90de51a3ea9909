"""Company settings and service centres: the rules for changing them, and the company's local day."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import sqlalchemy as sa

from server.errors import ApiError, field_error
from server.extensions import db
from server.org.models import Company, ServiceCentre

# R7: non-residential customers at least twice a year, residential at least once a year. A company
# (or its local authority) may only be stricter, so these are the longest intervals allowed.
MAX_INSPECTION_INTERVAL_MONTHS = {"residential": 12, "commercial": 6, "industrial": 6, "heating": 6}


def company_today(company: Company, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the company's time zone (working days, deadlines and expiry use it)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(zoneinfo.ZoneInfo(company.timezone)).date()


def today_for(company_id: uuid.UUID) -> dt.date:
    """Today's date in the time zone of the company with this id."""
    return company_today(db.session.get(Company, company_id))


def update_settings(company: Company, changes: dict[str, Any]) -> Company:
    """Apply validated settings changes; raises a 422 naming the field when a rule is broken.

    ``inspection_interval_months`` may name only some categories: the others keep their interval.
    """
    if "timezone" in changes:
        try:
            zoneinfo.ZoneInfo(changes["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise field_error("timezone", f"unknown time zone {changes['timezone']!r}") from None
    if "inspection_interval_months" in changes:
        intervals = changes["inspection_interval_months"]
        errors: dict[str, list[str]] = {}
        for category, months in intervals.items():
            longest = MAX_INSPECTION_INTERVAL_MONTHS.get(category)
            if longest is None:
                errors[category] = [f"unknown category; one of {', '.join(MAX_INSPECTION_INTERVAL_MONTHS)}"]
            elif months > longest:
                errors[category] = [f"R7 allows at most {longest} months between inspections of {category}"]
        if errors:
            raise ApiError(
                422, "validation_error", "invalid inspection intervals",
                errors={"json": {"inspection_interval_months": errors}},
            )
        merged = {**MAX_INSPECTION_INTERVAL_MONTHS, **(company.inspection_interval_months or {}), **intervals}
        changes = {**changes, "inspection_interval_months": merged}
    for key, value in changes.items():
        setattr(company, key, value)
    return company


def inspection_interval(company: Company, category: str) -> int:
    """Months between inspections of a customer category for this company (R7)."""
    intervals = company.inspection_interval_months or {}
    return int(intervals.get(category, MAX_INSPECTION_INTERVAL_MONTHS.get(category, 12)))


def owned_centre(company_id: uuid.UUID, centre_id: uuid.UUID, field: str = "service_centre_id") -> ServiceCentre:
    """A service centre of the company named in a request body, or a 422 naming the field."""
    centre = db.session.execute(
        sa.select(ServiceCentre).where(ServiceCentre.id == centre_id, ServiceCentre.company_id == company_id)
    ).scalar_one_or_none()
    if centre is None:
        raise field_error(field, f"no service centre {centre_id} in this company")
    return centre
