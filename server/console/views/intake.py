"""Job intake from a hotline call (R9): caller, phone, reason, category, the customer found as you
type; repair and emergency calls become jobs whose R8 clocks show at once."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import g, render_template, request
from sqlalchemy.orm import selectinload

from server.auth.models import Role
from server.console import bp
from server.console.actions import load, require_role, run
from server.console.frame import refusal
from server.console.session import console_login_required
from server.customers.models import Customer, Premises
from server.errors import ApiError
from server.extensions import db
from server.jobs import calls, service, sla
from server.jobs.intake_schemas import CallCreateSchema
from server.jobs.models import CallCategory, FaultKind, Priority
from server.jobs.schemas import JobPlanSchema
from server.pagination import like_pattern

INTAKE_ROLES = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)  # as POST /api/v1/calls
SEARCH_LIMIT = 12
# What job a call category becomes (the calls service decides; shown so the operator knows).
JOB_TYPE_OF_CATEGORY = {CallCategory.REPAIR: "repair", CallCategory.EMERGENCY: "emergency"}


def search_customers(company_id: uuid.UUID, text: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Households whose name, account number, phone or address contains ``text`` (taken literally)."""
    text = text.strip()
    if not text:
        return []
    pattern = like_pattern(text)
    at_address = sa.select(Premises.id).where(
        Premises.customer_id == Customer.id, Premises.deleted.is_(False),
        Premises.address.ilike(pattern, escape="\\"),
    ).exists()
    stmt = (
        sa.select(Customer)
        .where(Customer.company_id == company_id, Customer.deleted.is_(False), sa.or_(
            *(col.ilike(pattern, escape="\\") for col in (Customer.name, Customer.account_no, Customer.phone)),
            at_address,
        ))
        .options(selectinload(Customer.premises))
        .order_by(Customer.special_care.desc(), Customer.account_no)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def _form_context(**extra):
    return {
        "categories": list(CallCategory), "fault_kinds": list(FaultKind), "priorities": list(Priority),
        "job_type_of": {c.value: t for c, t in JOB_TYPE_OF_CATEGORY.items()}, "values": request.form, **extra,
    }


@bp.route("/intake")
@console_login_required
def intake():
    """The hotline intake form."""
    return render_template("console/intake.html", **_form_context(values={}))


@bp.route("/customers/search")
@console_login_required
def customer_search():
    """The customers matching what the operator typed, as radio choices (htmx fragment)."""
    found = search_customers(g.user.company_id, request.args.get("q", ""))
    return render_template("console/_customer_results.html", customers=found, q=request.args.get("q", ""),
                           chosen=request.args.get("customer_id", ""))


@bp.route("/intake", methods=["POST"])
@console_login_required
@require_role(*INTAKE_ROLES)
def take_call():
    """Record the call through the calls service; a repair/emergency call creates its job."""
    form = request.form

    def change():
        body = load(CallCreateSchema(), {
            "caller_name": form.get("caller_name", ""), "caller_phone": form.get("caller_phone", ""),
            "category": form.get("category", ""), "reason": form.get("reason", ""),
            "customer_id": form.get("customer_id") or None, "fault_kind": form.get("fault_kind") or None,
        })
        call, job = calls.record_call(g.user.company_id, taken_by_id=g.user.id, **body)
        priority = form.get("priority", "")
        if job is not None and priority and priority != str(job.priority):
            # Changing a job's priority is PATCH /jobs/<id> in the API: dispatchers only.
            if g.user.role not in (Role.DISPATCHER, Role.ADMIN):
                raise ApiError(403, "forbidden_role", "only a dispatcher may set the job's priority")
            service.update_plan(job, load(JobPlanSchema(only=("priority",)), {"priority": priority}))
        return call, job

    result, error = run(change)
    if error:
        chosen = []
        customer = db.session.get(Customer, _uuid(form.get("customer_id"))) if _uuid(form.get("customer_id")) else None
        if customer is not None and customer.company_id == g.user.company_id and not customer.deleted:
            chosen = [customer]
        return render_template("console/intake.html", **_form_context(error=refusal(error), chosen=chosen)), error.status
    call, job = result
    return render_template("console/intake_done.html", call=call, job=job,
                           clocks=sla.job_clocks(job) if job else [])


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        return None
