"""/api/v1/notifications (the outbox, R2) and /api/v1/outages (planned outage notices, R13)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, requires
from server.extensions import db
from server.notifications import service
from server.notifications.schemas import (
    NotificationArgsSchema,
    NotificationSchema,
    OutageArgsSchema,
    OutageNoticeSchema,
)
from server.pagination import page_of, paginate

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1", description="Customer notifications and outage notices"
)

OFFICE = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)


@blp.route("/notifications", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(NotificationArgsSchema, location="query")
@blp.response(200, page_of(NotificationSchema))
def list_notifications(args: dict):
    """The outbox, newest first: what customers were told, and what could not be delivered."""
    return paginate(service.notifications_query(company_id(), args), args)


@blp.route("/outages")
class Outages(MethodView):
    """Planned outages of a district."""

    @requires(*OFFICE, Role.TECHNICIAN)
    @blp.arguments(OutageArgsSchema, location="query")
    @blp.response(200, page_of(OutageNoticeSchema))
    def get(self, args: dict):
        """Outage notices, soonest first."""
        return paginate(service.outages_query(company_id(), args), args)

    @requires(Role.DISPATCHER)
    @blp.arguments(OutageNoticeSchema)
    @blp.response(201, OutageNoticeSchema)
    def post(self, body: dict):
        """Announce an outage: every customer with premises in the district gets a message (``notified``)."""
        notice, count = service.create_outage_notice(company_id(), **body)
        db.session.commit()
        notice.notified = count
        return notice
