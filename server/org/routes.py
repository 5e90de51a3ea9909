"""/api/v1/service-centres and /api/v1/company/settings."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, get_owned, requires
from server.extensions import db
from server.org.models import Company, ServiceCentre
from server.org.schemas import (
    CompanySettingsSchema,
    ServiceCentreArgsSchema,
    ServiceCentreSchema,
    ServiceCentreUpdateSchema,
)
from server.org.service import update_settings
from server.pagination import like_pattern, page_of, paginate

blp = Blueprint("org", __name__, url_prefix="/api/v1", description="Service centres and company settings")


@blp.route("/service-centres")
class ServiceCentres(MethodView):
    """The company's service centres."""

    @requires()
    @blp.arguments(ServiceCentreArgsSchema, location="query")
    @blp.response(200, page_of(ServiceCentreSchema))
    def get(self, args: dict):
        """List the service centres of the caller's company, by name."""
        stmt = sa.select(ServiceCentre).where(ServiceCentre.company_id == company_id())
        if args.get("q"):
            stmt = stmt.where(ServiceCentre.name.ilike(like_pattern(args["q"]), escape="\\"))
        return paginate(stmt.order_by(ServiceCentre.name, ServiceCentre.id), args)

    @requires(Role.ADMIN)
    @blp.arguments(ServiceCentreSchema)
    @blp.response(201, ServiceCentreSchema)
    def post(self, body: dict):
        """Open a service centre (admin)."""
        centre = ServiceCentre(company_id=company_id(), **body)
        db.session.add(centre)
        db.session.commit()
        return centre


@blp.route("/service-centres/<uuid:centre_id>")
class ServiceCentreById(MethodView):
    """One service centre."""

    @requires()
    @blp.response(200, ServiceCentreSchema)
    def get(self, centre_id: uuid.UUID):
        """A service centre of the caller's company."""
        return get_owned(ServiceCentre, centre_id, "service centre")

    @requires(Role.ADMIN)
    @blp.arguments(ServiceCentreUpdateSchema)
    @blp.response(200, ServiceCentreSchema)
    def patch(self, body: dict, centre_id: uuid.UUID):
        """Change a service centre's name, address or location (admin)."""
        centre = get_owned(ServiceCentre, centre_id, "service centre")
        for key, value in body.items():
            setattr(centre, key, value)
        db.session.commit()
        return centre


@blp.route("/company/settings")
class CompanySettings(MethodView):
    """The caller's company settings."""

    @requires()
    @blp.response(200, CompanySettingsSchema)
    def get(self):
        """Time zone, inspection intervals per customer category (R7) and sync days ahead."""
        return db.session.get(Company, company_id())

    @requires(Role.ADMIN)
    @blp.arguments(CompanySettingsSchema)
    @blp.response(200, CompanySettingsSchema)
    def patch(self, body: dict):
        """Change settings (admin). Inspection intervals may only be as strict as R7 or stricter."""
        company = update_settings(db.session.get(Company, company_id()), body)
        db.session.commit()
        return company
