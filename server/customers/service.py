"""The household file (一户一档, R12): writes with their rules, and the file with its history.

Also the meter calibration status (R15) and the personal-data rule for ``id_number`` (R5, R19).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from server.auth.models import Role
from server.customers.models import Appliance, Customer, CustomerContact, Meter, MeterStatus, Premises
from server.errors import field_error
from server.extensions import db
from server.jobs.models import Job, JobType
from server.org.models import Company
from server.org.service import company_today, inspection_interval
from server.visits.models import Hazard, HazardStatus, Signature
from sync.domain.jobs import OPEN_ON_DEVICE, JobStatus

CALIBRATION_DUE_WINDOW_DAYS = 30
HISTORY_JOBS = 50  # the file embeds the latest jobs; /customers/<id>/jobs pages through all of them


# ---------------------------------------------------------------- meters (R15)
def calibration_status(due_on: dt.date, today: dt.date, window_days: int = CALIBRATION_DUE_WINDOW_DAYS) -> str:
    """``overdue`` after the due date, ``due`` within ``window_days`` of it (the due day included), else ``ok``."""
    if due_on < today:
        return "overdue"
    if due_on <= today + dt.timedelta(days=window_days):
        return "due"
    return "ok"


def meters_due_stmt(company_id: uuid.UUID, today: dt.date, within_days: int, district: str | None) -> sa.Select:
    """Meters in service whose verification is overdue or due within ``within_days``, soonest first."""
    stmt = (
        sa.select(Meter)
        .join(Premises, Premises.id == Meter.premises_id)
        .join(Customer, Customer.id == Premises.customer_id)
        .where(
            Meter.company_id == company_id,
            Meter.deleted.is_(False),
            Premises.deleted.is_(False),
            Customer.deleted.is_(False),
            Meter.status != MeterStatus.REMOVED,
            Meter.calibration_due_on <= today + dt.timedelta(days=within_days),
        )
        .options(selectinload(Meter.premises).selectinload(Premises.customer))
        .order_by(Meter.calibration_due_on, Meter.serial, Meter.id)
    )
    if district:
        stmt = stmt.where(Premises.district == district)
    return stmt


# ---------------------------------------------------------------- personal data
def id_number_view(role: Role | None) -> str:
    """How ``id_number`` is shown to a role: ``full`` (admin), ``masked`` (office staff) or ``hidden``."""
    if role == Role.ADMIN:
        return "full"
    if role in (Role.DISPATCHER, Role.CUSTOMER_SERVICE):
        return "masked"
    return "hidden"


def mask(value: str, keep: int = 4) -> str:
    """All but the last ``keep`` characters replaced by ``*`` (all of them when the value is short)."""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


# ---------------------------------------------------------------- writes
def _check_account_no(company_id: uuid.UUID, account_no: str, exclude: uuid.UUID | None = None) -> None:
    stmt = sa.select(Customer.id).where(Customer.company_id == company_id, Customer.account_no == account_no)
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    if db.session.execute(stmt).first() is not None:
        raise field_error("account_no", f"account {account_no!r} already exists", reason="duplicate", status=409)


def _check_special_care(values: dict[str, Any]) -> None:
    """R11: a special-care registration says why (elderly, frail, sick, disabled…)."""
    if values.get("special_care") and not (values.get("special_care_reason") or "").strip():
        raise field_error("special_care_reason", "say why the customer needs special care (R11)")


def _check_serials(company_id: uuid.UUID, serials: list[str], exclude: uuid.UUID | None = None,
                   field_name: str = "serial") -> None:
    """A serial belongs to one meter in service in the company."""
    if len(set(serials)) != len(serials):
        raise field_error(field_name, "the same meter serial is given twice", reason="duplicate", status=409)
    if not serials:
        return
    stmt = sa.select(Meter.serial).where(
        Meter.company_id == company_id, Meter.serial.in_(serials), Meter.status != MeterStatus.REMOVED,
        Meter.deleted.is_(False),
    )
    if exclude is not None:
        stmt = stmt.where(Meter.id != exclude)
    taken = db.session.execute(stmt).scalars().first()
    if taken is not None:
        raise field_error(field_name, f"meter {taken} is already in service", reason="duplicate", status=409)


def _add_premises(customer: Customer, data: dict[str, Any]) -> Premises:
    meters = data.pop("meters", [])
    appliances = data.pop("appliances", [])
    premises = Premises(id=uuid.uuid4(), company_id=customer.company_id, customer_id=customer.id, **data)
    db.session.add(premises)
    for meter in meters:
        db.session.add(Meter(company_id=customer.company_id, premises_id=premises.id, **meter))
    for appliance in appliances:
        db.session.add(Appliance(company_id=customer.company_id, premises_id=premises.id, **appliance))
    return premises


def create_customer(company_id: uuid.UUID, data: dict[str, Any]) -> Customer:
    """A new household with its premises (meters, appliances) and contacts, checked before anything is written."""
    data = dict(data)
    premises = data.pop("premises", [])
    contacts = data.pop("contacts", [])
    _check_special_care(data)
    _check_account_no(company_id, data["account_no"])
    _check_serials(company_id, [m["serial"] for p in premises for m in p.get("meters", [])], field_name="premises")
    customer = Customer(id=uuid.uuid4(), company_id=company_id, **data)
    db.session.add(customer)
    for p in premises:
        _add_premises(customer, dict(p))
    for c in contacts:
        db.session.add(CustomerContact(company_id=company_id, customer_id=customer.id, **c))
    return customer


def update_customer(customer: Customer, changes: dict[str, Any]) -> Customer:
    """Change a household's own fields after checking the merged result."""
    _check_special_care({"special_care": customer.special_care,
                         "special_care_reason": customer.special_care_reason, **changes})
    if "account_no" in changes:
        _check_account_no(customer.company_id, changes["account_no"], exclude=customer.id)
    if changes.get("special_care") is False and "special_care_reason" not in changes:
        changes = {**changes, "special_care_reason": ""}
    for key, value in changes.items():
        setattr(customer, key, value)
    return customer


def add_premises(customer: Customer, data: dict[str, Any]) -> Premises:
    """Another address of the household, with its meters and appliances."""
    _check_serials(customer.company_id, [m["serial"] for m in data.get("meters", [])], field_name="meters")
    return _add_premises(customer, dict(data))


def add_meter(premises: Premises, data: dict[str, Any]) -> Meter:
    """A meter installed at the premises (R15)."""
    _check_serials(premises.company_id, [data["serial"]])
    meter = Meter(company_id=premises.company_id, premises_id=premises.id, **data)
    db.session.add(meter)
    return meter


def update_meter(meter: Meter, changes: dict[str, Any]) -> Meter:
    """Change a meter (a new due date after verification, a fault, a removal)."""
    status = changes.get("status", meter.status)
    # A serial must stay unique among meters in service, also when a removed meter is put back.
    if ("serial" in changes or "status" in changes) and status != MeterStatus.REMOVED:
        _check_serials(meter.company_id, [changes.get("serial", meter.serial)], exclude=meter.id)
    for key, value in changes.items():
        setattr(meter, key, value)
    return meter


def apply(row: Any, changes: dict[str, Any]) -> Any:
    """Set validated fields on a row (premises, appliance, contact: no rules across fields)."""
    for key, value in changes.items():
        setattr(row, key, value)
    return row


def tombstone(row: Any) -> None:
    """Mark a synced row deleted (it is never removed: the tombstone travels to tablets)."""
    row.deleted = True


# ---------------------------------------------------------------- reading the file
@dataclass
class InspectionRecord:
    """A completed safety inspection at the household and how many hazards it found."""

    job: Job
    hazards_found: int


@dataclass
class Inspections:
    """The household's completed safety inspections and when the next one is due (R7)."""

    records: list[InspectionRecord] = field(default_factory=list)
    last_completed_at: dt.datetime | None = None
    next_due_on: dt.date | None = None
    interval_months: int = 12


@dataclass
class History:
    """What happened at the household: jobs, open hazards, signatures, inspections."""

    jobs: list[Job]
    jobs_total: int
    open_hazards: list[Hazard]
    signatures: list[Signature]
    inspections: Inspections


@dataclass
class HouseholdFile:
    """The whole household file: the customer with premises, meters, appliances, contacts, and history."""

    customer: Customer
    history: History


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def jobs_stmt(customer: Customer) -> sa.Select:
    """The household's jobs, the most recent first (by window, else by creation)."""
    return (
        sa.select(Job)
        .where(Job.customer_id == customer.id, Job.company_id == customer.company_id, Job.deleted.is_(False))
        .options(selectinload(Job.technician))
        .order_by(sa.func.coalesce(Job.window_start, Job.created_at).desc(), Job.created_at.desc(), Job.id)
    )


def household_file(customer: Customer) -> HouseholdFile:
    """Load the household file with its history (a handful of queries, not one per row)."""
    customer = db.session.execute(
        sa.select(Customer).where(Customer.id == customer.id).options(
            selectinload(Customer.premises).selectinload(Premises.meters),
            selectinload(Customer.premises).selectinload(Premises.appliances),
            selectinload(Customer.contacts),
        )
    ).scalar_one()
    company = db.session.get(Company, customer.company_id)
    jobs = list(db.session.execute(jobs_stmt(customer).limit(HISTORY_JOBS)).scalars())
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(jobs_stmt(customer).order_by(None).subquery())
    ).scalar_one()
    hazards = list(db.session.execute(
        sa.select(Hazard).where(
            Hazard.customer_id == customer.id, Hazard.deleted.is_(False),
            Hazard.status.in_([HazardStatus.OPEN, HazardStatus.RECTIFICATION_SCHEDULED]),
        ).order_by(Hazard.rectify_by, Hazard.id)
    ).scalars())
    signatures = list(db.session.execute(
        sa.select(Signature).join(Job, Job.id == Signature.job_id)
        .where(Job.customer_id == customer.id, Signature.deleted.is_(False))
        .order_by(Signature.signed_at.desc(), Signature.id)
    ).scalars())
    return HouseholdFile(customer, History(jobs, total, hazards, signatures, _inspections(customer, company)))


def _inspections(customer: Customer, company: Company) -> Inspections:
    done = list(db.session.execute(
        sa.select(Job).where(
            Job.customer_id == customer.id, Job.deleted.is_(False), Job.job_type == JobType.SAFETY_INSPECTION,
            Job.completed_at.is_not(None), Job.status.in_([JobStatus.COMPLETED, JobStatus.CLOSED]),
        ).options(selectinload(Job.technician)).order_by(Job.completed_at.desc(), Job.id)
    ).scalars())
    counts = dict(db.session.execute(
        sa.select(Hazard.job_id, sa.func.count()).where(
            Hazard.job_id.in_([j.id for j in done]), Hazard.deleted.is_(False)
        ).group_by(Hazard.job_id)
    ).all()) if done else {}
    months = inspection_interval(company, customer.category.value)
    last = done[0].completed_at if done else None
    next_due = add_months(company_today(company, last), months) if last else None
    records = [InspectionRecord(job, counts.get(job.id, 0)) for job in done]
    return Inspections(records, last, next_due, months)


def technician_may_read(customer: Customer, user_id: uuid.UUID) -> bool:
    """Whether a technician has an open job at this household (what the sync puts on their tablet)."""
    from server.people.models import Technician

    stmt = (
        sa.select(Job.id).join(Technician, Technician.id == Job.technician_id)
        .where(Job.customer_id == customer.id, Technician.user_id == user_id, Job.deleted.is_(False),
               Job.status.in_(list(OPEN_ON_DEVICE)))
    )
    return db.session.execute(stmt.limit(1)).first() is not None
