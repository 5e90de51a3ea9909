"""/api/v1/technicians and their certifications (R5, R14)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, current_user, get_owned, requires
from server.errors import ApiError, not_found
from server.extensions import db
from server.org.service import today_for
from server.pagination import like_pattern, page_of, paginate
from server.people import service
from server.people.models import Certification, Technician
from server.people.schemas import (
    CertificationArgsSchema,
    CertificationSchema,
    RenewalSchema,
    TechnicianArgsSchema,
    TechnicianSchema,
    TechnicianUpdateSchema,
)

blp = Blueprint("people", __name__, url_prefix="/api/v1", description="Technicians and their certifications")

OFFICE = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)
READERS = (*OFFICE, Role.TECHNICIAN)


def _readable_technician(tech_id: uuid.UUID) -> Technician:
    """A technician of the caller's company; a technician may read only their own record."""
    tech = get_owned(Technician, tech_id, "technician")
    user = current_user()
    if user.role == Role.TECHNICIAN and tech.user_id != user.id:
        raise ApiError(403, "forbidden_role", "a technician can read only their own record")
    return tech


def _valid_today_clause(kind: str | None = None) -> sa.ColumnElement[bool]:
    today = today_for(company_id())
    clause = sa.and_(Certification.issued_on <= today, Certification.expires_on >= today)
    return sa.and_(clause, Certification.kind == kind) if kind else clause


@blp.route("/technicians")
class Technicians(MethodView):
    """The company's technicians."""

    @requires(*OFFICE)
    @blp.arguments(TechnicianArgsSchema, location="query")
    @blp.response(200, page_of(TechnicianSchema))
    def get(self, args: dict):
        """List technicians by name; filter by name/staff number/phone, centre, active, skill, valid certification."""
        stmt = sa.select(Technician).where(Technician.company_id == company_id(), Technician.deleted.is_(False))
        if args.get("q"):
            pattern = like_pattern(args["q"])
            stmt = stmt.where(
                sa.or_(*(col.ilike(pattern, escape="\\") for col in (Technician.name, Technician.staff_no,
                                                                     Technician.phone)))
            )
        if args.get("service_centre_id"):
            stmt = stmt.where(Technician.service_centre_id == args["service_centre_id"])
        if "active" in args:
            stmt = stmt.where(Technician.active.is_(args["active"]))
        if args.get("certified"):
            held = sa.select(Certification.id).where(
                Certification.technician_id == Technician.id, _valid_today_clause(args["certified"])
            )
            stmt = stmt.where(held.exists())
        if args.get("skill"):
            # Skills are a short JSON list; filtering in Python keeps SQLite and PostgreSQL alike.
            ids = [t.id for t in db.session.execute(stmt).scalars() if args["skill"] in (t.skills or [])]
            stmt = stmt.where(Technician.id.in_(ids))
        return paginate(stmt.order_by(Technician.name, Technician.staff_no, Technician.id), args)

    @requires(Role.DISPATCHER)
    @blp.arguments(TechnicianSchema)
    @blp.response(201, TechnicianSchema)
    def post(self, body: dict):
        """Add a technician, optionally with certifications and a linked technician login."""
        tech = service.create_technician(company_id(), body)
        db.session.commit()
        return tech


@blp.route("/technicians/me")
class MyTechnician(MethodView):
    """The technician record of the signed-in technician."""

    @requires(Role.TECHNICIAN)
    @blp.response(200, TechnicianSchema)
    def get(self):
        """Name, staff number, shift and certifications of the signed-in technician."""
        tech = db.session.execute(
            sa.select(Technician).where(Technician.user_id == current_user().id, Technician.deleted.is_(False))
        ).scalar_one_or_none()
        if tech is None:
            raise not_found("technician for user", current_user().username)
        return tech


@blp.route("/technicians/<uuid:tech_id>")
class TechnicianById(MethodView):
    """One technician."""

    @requires(*READERS)
    @blp.response(200, TechnicianSchema)
    def get(self, tech_id: uuid.UUID):
        """A technician with certifications (a technician may read only their own)."""
        return _readable_technician(tech_id)

    @requires(Role.DISPATCHER)
    @blp.arguments(TechnicianUpdateSchema)
    @blp.response(200, TechnicianSchema)
    def patch(self, body: dict, tech_id: uuid.UUID):
        """Change a technician's details, skills, shift, start point, centre or linked login."""
        tech = service.update_technician(get_owned(Technician, tech_id, "technician"), body)
        db.session.commit()
        return tech


@blp.route("/technicians/<uuid:tech_id>/certifications")
class TechnicianCertifications(MethodView):
    """A technician's certifications (R14)."""

    @requires(*READERS)
    @blp.arguments(CertificationArgsSchema, location="query")
    @blp.response(200, page_of(CertificationSchema))
    def get(self, args: dict, tech_id: uuid.UUID):
        """Certifications by kind, the latest expiry first; filter by kind or validity today."""
        tech = _readable_technician(tech_id)
        stmt = sa.select(Certification).where(Certification.technician_id == tech.id)
        if args.get("kind"):
            stmt = stmt.where(Certification.kind == args["kind"])
        if "valid_today" in args:
            valid = _valid_today_clause()
            stmt = stmt.where(valid if args["valid_today"] else sa.not_(valid))
        order = (Certification.kind, Certification.expires_on.desc(), Certification.id)
        return paginate(stmt.order_by(*order), args)

    @requires(Role.DISPATCHER)
    @blp.arguments(CertificationSchema)
    @blp.response(201, CertificationSchema)
    def post(self, body: dict, tech_id: uuid.UUID):
        """Record a certification the technician holds."""
        cert = service.add_certification(get_owned(Technician, tech_id, "technician"), body)
        db.session.commit()
        return cert


@blp.route("/certifications/<uuid:cert_id>/renew")
class CertificationRenewal(MethodView):
    """Renew a certification."""

    @requires(Role.DISPATCHER)
    @blp.arguments(RenewalSchema)
    @blp.response(201, CertificationSchema)
    def post(self, body: dict, cert_id: uuid.UUID):
        """Record the renewed certificate as a new row of the same kind; the old one stays as it was."""
        old = get_owned(Certification, cert_id, "certification")
        cert = service.renew_certification(old, body, today_for(company_id()))
        db.session.commit()
        return cert
