"""/api/v1/audit: the audit trail by entity, and per household (R19)."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from server.audit import service
from server.audit.schemas import AuditArgsSchema, AuditEntrySchema
from server.auth.models import Role
from server.auth.service import company_id, get_owned, requires
from server.customers.models import Customer
from server.pagination import PageArgsSchema, page_of, paginate

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The audit trail")

AUDITORS = (Role.ADMIN, Role.DISPATCHER, Role.CUSTOMER_SERVICE)


@blp.route("", methods=["GET"])
@requires(*AUDITORS)
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, page_of(AuditEntrySchema))
def list_audit(args: dict):
    """Audit entries of the company, newest first (``?entity=job&entity_id=…`` for one row's history)."""
    return paginate(service.audit_query(company_id(), args), args)


@blp.route("/households/<uuid:customer_id>", methods=["GET"])
@requires(*AUDITORS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(AuditEntrySchema))
def household_audit(args: dict, customer_id: uuid.UUID):
    """Every change to one household's file (customer, premises, meters, jobs, visit facts…), newest first."""
    customer = get_owned(Customer, customer_id, "customer")
    return paginate(service.household_audit_query(customer), args)
