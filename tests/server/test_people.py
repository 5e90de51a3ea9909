"""Technicians, certifications and the qualification gate (R5, R14) through the API and the service."""

from __future__ import annotations

import datetime as dt

from server.extensions import db
from server.people.models import Certification
from server.people.service import qualified
from tests.factories import make_technician

TODAY = dt.date.today()


def test_qualified_names_missing_and_expired_certifications(make_company):
    company = make_company()
    tech = make_technician(company, certifications=("gas_safety",), expires_on=TODAY + dt.timedelta(days=3))
    assert qualified(tech, ["gas_safety"], TODAY) == []
    assert qualified(tech, ["gas_safety", "meter_work", "meter_work"], TODAY) == ["meter_work"]
    # Expired on the day of the job: the gate names it although the technician holds it today.
    assert qualified(tech, ["gas_safety"], TODAY + dt.timedelta(days=4)) == ["gas_safety"]
    # Not yet issued on the day.
    assert qualified(tech, ["gas_safety"], TODAY - dt.timedelta(days=400)) == ["gas_safety"]


def test_qualified_counts_a_renewal(make_company):
    company = make_company()
    tech = make_technician(company, certifications=("gas_safety",), expires_on=TODAY - dt.timedelta(days=1))
    assert qualified(tech, ["gas_safety"], TODAY) == ["gas_safety"]
    db.session.add(
        Certification(
            company_id=company.id, technician_id=tech.id, kind="gas_safety", issued_on=TODAY,
            expires_on=TODAY + dt.timedelta(days=365),
        )
    )
    db.session.commit()
    db.session.refresh(tech)
    assert qualified(tech, ["gas_safety"], TODAY) == []
