"""GET /api/v1/health: 200 when the database answers, 503 when it does not."""

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from server.errors import ApiError
from server.extensions import db

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Liveness and database check")


class HealthSchema(ma.Schema):
    """The server and its database are up."""

    status = ma.fields.String(required=True)
    database = ma.fields.String(required=True)
    protocol_version = ma.fields.Integer(required=True)


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
def health():
    """Check the database with a trivial query."""
    from sync import PROTOCOL_VERSION

    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError:
        db.session.rollback()
        raise ApiError(
            503, "database_unavailable", "the database is unreachable", headers={"Retry-After": "2"}
        ) from None
    return {"status": "ok", "database": db.engine.dialect.name, "protocol_version": PROTOCOL_VERSION}
