"""Reading the audit log: by entity, and everything about one household (R12, R19).

Entries are written by ``server.db`` at every flush. Reading them is scoped to the caller's company;
secrets are redacted when written (``AUDIT_REDACTED``) and again here, and personal identifiers are
masked for everyone but admins, as the customer file masks them.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from server.auth.models import Role
from server.checklists.models import ChecklistAnswer
from server.customers.models import Appliance, Customer, CustomerContact, Meter, Premises
from server.db import AUDIT_REDACTED, AuditEntry
from server.extensions import db
from server.followups.models import FollowUpTask
from server.jobs.models import Appointment, Complaint, Job, ServiceCall
from server.notifications.models import Notification
from server.visits.models import (
    CleanupConfirmation,
    FeeCollection,
    Hazard,
    MeterReading,
    Note,
    Quote,
    Signature,
    VisitEvent,
)

# Personal identifiers: shown in full to admins only (as in the customer file).
MASKED_FOR_OFFICE = frozenset({"id_number"})
# Rows that hang off a job, and rows that name the customer directly.
JOB_CHILDREN = (Appointment, Hazard, Quote, Signature, CleanupConfirmation, VisitEvent, FeeCollection, Note,
                ChecklistAnswer, MeterReading)
CUSTOMER_CHILDREN = (CustomerContact, Premises, Job, Hazard, FollowUpTask, Notification, Complaint, ServiceCall)


def _company_clause(company_id: uuid.UUID) -> sa.ColumnElement[bool]:
    # The company row itself has no company_id; its settings changes belong to its own log.
    return sa.or_(
        AuditEntry.company_id == company_id,
        sa.and_(AuditEntry.entity == "company", AuditEntry.entity_id == str(company_id)),
    )


def audit_query(company_id: uuid.UUID, filters: dict[str, Any]) -> sa.Select:
    """The company's audit entries, newest first; filters: entity, entity_id, actor_id, since, until."""
    stmt = sa.select(AuditEntry).where(_company_clause(company_id))
    if filters.get("entity"):
        stmt = stmt.where(AuditEntry.entity == filters["entity"])
    if filters.get("entity_id"):
        stmt = stmt.where(AuditEntry.entity_id == str(filters["entity_id"]))
    if filters.get("actor_id"):
        stmt = stmt.where(AuditEntry.actor_id == filters["actor_id"])
    if filters.get("since"):
        stmt = stmt.where(AuditEntry.at >= filters["since"])
    if filters.get("until"):
        stmt = stmt.where(AuditEntry.at < filters["until"])
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _ids(stmt: sa.Select) -> list[uuid.UUID]:
    return list(db.session.execute(stmt).scalars())


def household_row_ids(customer: Customer) -> set[str]:
    """The ids of every row of one household's file: the customer, contacts, premises, meters,
    appliances, jobs and what their visits captured, follow-ups, notifications, complaints, calls."""
    ids: set[uuid.UUID] = {customer.id}
    by_model: dict[type, list[uuid.UUID]] = {}
    for model in CUSTOMER_CHILDREN:
        by_model[model] = _ids(sa.select(model.id).where(model.customer_id == customer.id))
        ids.update(by_model[model])
    premises, jobs = by_model[Premises], by_model[Job]
    meters: list[uuid.UUID] = []
    if premises:
        meters = _ids(sa.select(Meter.id).where(Meter.premises_id.in_(premises)))
        ids.update(meters)
        ids.update(_ids(sa.select(Appliance.id).where(Appliance.premises_id.in_(premises))))
    if jobs:
        for model in JOB_CHILDREN:
            ids.update(_ids(sa.select(model.id).where(model.job_id.in_(jobs))))
    if meters:
        ids.update(_ids(sa.select(MeterReading.id).where(MeterReading.meter_id.in_(meters))))
    return {str(i) for i in ids}


def household_audit_query(customer: Customer) -> sa.Select:
    """Every audit entry about one household's rows, newest first."""
    return (
        sa.select(AuditEntry)
        .where(AuditEntry.company_id == customer.company_id, AuditEntry.entity_id.in_(household_row_ids(customer)))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )


def _mask(value: Any) -> Any:
    if not isinstance(value, str) or len(value) <= 4:
        return "***" if value else value
    return "*" * (len(value) - 4) + value[-4:]


def visible_changes(changes: dict[str, Any], role: Role) -> dict[str, Any]:
    """An entry's changes as ``role`` may see them: secrets always hidden, identifiers masked for non-admins."""
    shown: dict[str, Any] = {}
    for key, pair in (changes or {}).items():
        if key in AUDIT_REDACTED:
            shown[key] = ["***", "***"]
        elif key in MASKED_FOR_OFFICE and role != Role.ADMIN and isinstance(pair, list):
            shown[key] = [_mask(v) for v in pair]
        else:
            shown[key] = pair
    return shown
