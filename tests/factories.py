"""Plain factory functions for test data; call them inside an app context (the ``ctx`` fixture)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from server.auth.models import Role, User
from server.customers.models import Customer, CustomerCategory, Meter, Premises
from server.db import utcnow
from server.extensions import db
from server.jobs.models import Job, JobType
from server.org.models import Company
from server.people.models import Certification, Technician
from sync.domain.jobs import JobStatus

_seq = itertools.count(1)


def make_household(
    company: Company,
    *,
    category: CustomerCategory = CustomerCategory.RESIDENTIAL,
    name: str = "张伟",
    special_care: bool = False,
    lat: float = 31.23,
    lon: float = 121.47,
    calibration_due_on: dt.date | None = None,
) -> Customer:
    """A customer with one premises and one meter; committed."""
    n = next(_seq)
    customer = Customer(
        company_id=company.id, account_no=f"A{n:07d}", name=name, category=category, phone=f"1380000{n:04d}",
        special_care=special_care, special_care_reason="独居老人" if special_care else "",
    )
    db.session.add(customer)
    db.session.flush()
    premises = Premises(
        company_id=company.id, customer_id=customer.id, address=f"上海市浦东新区测试路{n}号", district="浦东新区",
        lat=lat, lon=lon,
    )
    db.session.add(premises)
    db.session.flush()
    db.session.add(
        Meter(
            company_id=company.id, premises_id=premises.id, serial=f"M{n:08d}",
            calibration_due_on=calibration_due_on or dt.date.today() + dt.timedelta(days=365),
        )
    )
    db.session.commit()
    return customer


def make_technician(
    company: Company,
    *,
    user: User | None = None,
    name: str = "李师傅",
    certifications: tuple[str, ...] = ("gas_safety",),
    expires_on: dt.date | None = None,
    skills: tuple[str, ...] = ("inspection", "repair", "meter"),
) -> Technician:
    """A technician (linked to ``user`` when given) holding valid certifications; committed."""
    n = next(_seq)
    tech = Technician(
        company_id=company.id, user_id=user.id if user else None, staff_no=f"T{n:05d}", name=name,
        skills=list(skills), start_lat=31.23, start_lon=121.47,
    )
    db.session.add(tech)
    db.session.flush()
    for kind in certifications:
        db.session.add(
            Certification(
                company_id=company.id, technician_id=tech.id, kind=kind, number=f"C{n:05d}",
                issued_on=dt.date.today() - dt.timedelta(days=365),
                expires_on=expires_on or dt.date.today() + dt.timedelta(days=365),
            )
        )
    db.session.commit()
    return tech


def make_technician_user(company: Company, username: str, **kwargs) -> tuple[User, Technician]:
    """A technician with a login (password ``tests.conftest.PASSWORD``)."""
    from server.auth.service import hash_password
    from tests.conftest import PASSWORD

    user = User(
        company_id=company.id, username=username, display_name=kwargs.get("name", username),
        role=Role.TECHNICIAN, password_hash=hash_password(PASSWORD),
    )
    db.session.add(user)
    db.session.flush()
    return user, make_technician(company, user=user, **kwargs)


def make_job(
    company: Company,
    customer: Customer,
    *,
    technician: Technician | None = None,
    job_type: JobType = JobType.SAFETY_INSPECTION,
    status: JobStatus | None = None,
    window_start: dt.datetime | None = None,
    hours: float = 2,
    chargeable: bool = False,
) -> Job:
    """A job at the customer's first premises; scheduled with a window when one is given; committed."""
    n = next(_seq)
    start = window_start
    job = Job(
        company_id=company.id, ref=f"T-{uuid.uuid4().hex[:6]}-{n}", job_type=job_type, customer_id=customer.id,
        premises_id=customer.premises[0].id, technician_id=technician.id if technician else None,
        window_start=start, window_end=start + dt.timedelta(hours=hours) if start else None,
        status=status or (JobStatus.DISPATCHED if technician and start else JobStatus.NEW), chargeable=chargeable,
    )
    db.session.add(job)
    db.session.commit()
    return job


def in_hours(hours: float) -> dt.datetime:
    """Now plus ``hours`` (UTC, aware)."""
    return utcnow() + dt.timedelta(hours=hours)
