"""/api/v1/checklists: checklist templates (read by everyone of the company, written by admins)."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, requires
from server.checklists import service
from server.checklists.models import ChecklistTemplate
from server.checklists.schemas import (
    TemplateBodySchema,
    TemplateCreateSchema,
    TemplateListArgsSchema,
    TemplateSchema,
)
from server.extensions import db
from server.jobs.service import get_job, owned
from server.pagination import page_of, paginate

blp = Blueprint("checklists", __name__, url_prefix="/api/v1/checklists", description="Checklist templates")


@blp.route("/templates", methods=["GET"])
@requires()
@blp.arguments(TemplateListArgsSchema, location="query")
@blp.response(200, page_of(TemplateSchema))
def list_templates(args: dict):
    """Active template versions (``all=true`` for old versions too), by code."""
    stmt = service.templates_query(
        company_id(), include_old=args["all"], code=args.get("code"), job_type=args.get("job_type")
    )
    return paginate(stmt, args)


@blp.route("/templates/<uuid:template_id>", methods=["GET"])
@requires()
@blp.response(200, TemplateSchema)
def get_template(template_id: uuid.UUID):
    """One template version."""
    return owned(ChecklistTemplate, company_id(), template_id, "checklist template")


@blp.route("/templates", methods=["POST"])
@requires(Role.ADMIN)
@blp.arguments(TemplateCreateSchema)
@blp.response(201, TemplateSchema)
def create_template(body: dict):
    """Create version 1 of a new checklist code."""
    code = body.pop("code")
    template = service.create_template(company_id(), code, body)
    db.session.commit()
    return template


@blp.route("/templates/<string:code>/versions", methods=["POST"])
@requires(Role.ADMIN)
@blp.arguments(TemplateBodySchema)
@blp.response(201, TemplateSchema)
def publish_version(body: dict, code: str):
    """Publish a new version of a code; it becomes the active one."""
    template = service.publish_version(company_id(), code, body)
    db.session.commit()
    return template


@blp.route("/for-job/<uuid:job_id>", methods=["GET"])
@requires(Role.DISPATCHER, Role.CUSTOMER_SERVICE)
@blp.response(200, TemplateSchema)
def template_for_job(job_id: uuid.UUID):
    """The template a job's technician fills in (by job type and customer category)."""
    return service.template_for_job(get_job(company_id(), job_id))
