"""Households: search, the one-household file (R12), the special-care register (R11), meters due for
calibration (R15), open hazards with their deadlines (R16) and the rectification job for one."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from server.auth.models import Role
from server.console import bp
from server.console.actions import require_role, run
from server.console.frame import company, refusal
from server.console.session import console_login_required
from server.console.views.audit import LIMIT as AUDIT_LIMIT
from server.console.views.audit import household_trail
from server.console.views.intake import search_customers
from server.customers import service as customers
from server.customers.models import Customer
from server.db import utcnow
from server.extensions import db
from server.jobs.service import owned
from server.org.service import company_today
from server.visits import service as visits
from server.visits.models import Hazard

READERS = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)  # as GET /api/v1/customers
REGISTER_LIMIT = 50
METERS_LIMIT = 50
HAZARD_LIMIT = 50


def overview(company_id: uuid.UUID) -> dict:
    """The three registers shown under the search box."""
    today = company_today(company())
    care = list(db.session.execute(
        sa.select(Customer)
        .where(Customer.company_id == company_id, Customer.deleted.is_(False), Customer.special_care.is_(True))
        .options(selectinload(Customer.premises), selectinload(Customer.contacts))
        .order_by(Customer.account_no).limit(REGISTER_LIMIT)
    ).scalars())
    meters = list(db.session.execute(
        customers.meters_due_stmt(company_id, today, customers.CALIBRATION_DUE_WINDOW_DAYS, None).limit(METERS_LIMIT)
    ).scalars())
    hazards = list(db.session.execute(
        visits.hazards_query(company_id, {"open": True}).limit(HAZARD_LIMIT)
    ).scalars())
    return {"care": care, "meters": meters, "hazards": hazards, "today": today}


@bp.route("/households")
@console_login_required
@require_role(*READERS)
def households():
    """Search households; below, the special-care register, meters due, and open hazards."""
    q = request.args.get("q", "")
    found = search_customers(g.user.company_id, q, limit=30)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "household-results":
        return render_template("console/_household_results.html", found=found, q=q)
    return render_template("console/households.html", q=q, found=found, now=utcnow(), **overview(g.user.company_id))


@bp.route("/households/<uuid:customer_id>")
@console_login_required
@require_role(*READERS)
def household(customer_id: uuid.UUID):
    """The one-household file: premises, meters, appliances, contacts, visits, hazards, signatures."""
    customer = owned(Customer, g.user.company_id, customer_id, "customer")
    file = customers.household_file(customer)
    trail, trail_total = household_trail(customer)
    return render_template(
        "console/household.html", file=file, customer=file.customer, history=file.history,
        today=company_today(company()), now=utcnow(),
        id_view=customers.id_number_view(g.user.role), mask=customers.mask,
        status_of=customers.calibration_status, error=None, trail=trail, trail_total=trail_total, limit=AUDIT_LIMIT,
    )


@bp.route("/hazards/<uuid:hazard_id>/rectify", methods=["POST"])
@console_login_required
@require_role(Role.DISPATCHER)
def rectify(hazard_id: uuid.UUID):
    """Create the hazard's rectification job (R16) through the visits service."""
    def change():
        hazard = owned(Hazard, g.user.company_id, hazard_id, "hazard")
        return visits.create_rectification_job(hazard)

    job, error = run(change)
    if error:
        return render_template("console/households.html", q="", found=[], now=utcnow(), error=refusal(error),
                               **overview(g.user.company_id)), error.status
    flash(job.ref, "ok")
    return redirect(url_for("console.board", job=str(job.id)), code=303)

