"""Inspection coverage (R7) for the KPI report, honouring its technician and service-centre filters.

Customers carry no service centre and no technician of their own, so a filtered report counts the
households the technician or centre serves: customers with at least one job (any type, not deleted,
created before the period's end) assigned to that technician, or booked at that centre. Each of them
is judged as ``server.planning.inspections.coverage`` judges every customer of the company: in date
(last safety inspection plus its category's interval not yet passed), overdue, or never inspected.
Without a filter the figures are exactly the planner's company-wide ones.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.extensions import db
from server.jobs.models import Job
from server.planning.inspections import coverage


def served_customers(company_id: uuid.UUID, *, technician_id: uuid.UUID | None,
                     service_centre_id: uuid.UUID | None, before: dt.datetime) -> set[uuid.UUID]:
    """The customers with a job of this technician and/or centre created before ``before``."""
    where = [Job.company_id == company_id, Job.deleted.is_(False), Job.created_at < before]
    if technician_id is not None:
        where.append(Job.technician_id == technician_id)
    if service_centre_id is not None:
        where.append(Job.service_centre_id == service_centre_id)
    return set(db.session.execute(sa.select(Job.customer_id).where(*where).distinct()).scalars())


def filtered_coverage(company_id: uuid.UUID, *, now: dt.datetime, technician_id: uuid.UUID | None = None,
                      service_centre_id: uuid.UUID | None = None) -> list[dict]:
    """Per category: customers, in date, overdue, never inspected, open inspection jobs, coverage %."""
    if technician_id is None and service_centre_id is None:
        return coverage(company_id, now=now)
    scope = served_customers(company_id, technician_id=technician_id, service_centre_id=service_centre_id,
                             before=now)
    return coverage(company_id, now=now, customers=scope)
