"""/api/v1/planning: optimise a day's routes (preview, commit), ETAs with late warnings, and the
planners that generate inspection (R7), meter (R15) and hazard (R16) jobs."""

from __future__ import annotations

from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, requires
from server.extensions import db
from server.planning import inspections, service
from server.planning.schemas import (
    CommitSchema,
    CommittedSchema,
    CoverageSchema,
    DayArgsSchema,
    EtasSchema,
    GeneratedSchema,
    HorizonSchema,
    OptimiseSchema,
    PlanSchema,
)

blp = Blueprint("planning", __name__, url_prefix="/api/v1/planning", description="Route optimisation and planners")


@blp.route("/optimise", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(OptimiseSchema)
@blp.response(200, PlanSchema)
def optimise(body: dict):
    """Plan a day's routes with the VRP solver: a preview, nothing is written."""
    problem, plan = service.optimise(
        company_id(), body["day"], technician_ids=body["technician_ids"], keep_committed=body["keep_committed"]
    )
    return service.describe(problem, plan)


@blp.route("/commit", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(CommitSchema)
@blp.response(200, CommittedSchema)
def commit(body: dict):
    """Commit routes (as previewed or adjusted): every assignment passes the same gates as by hand."""
    jobs = service.commit(company_id(), body["day"], body["routes"])
    db.session.commit()
    return {"committed": len(jobs)}


@blp.route("/etas", methods=["GET"])
@requires(Role.DISPATCHER)
@blp.arguments(DayArgsSchema, location="query")
@blp.response(200, EtasSchema)
def etas(args: dict):
    """ETAs of the day's routes as they stand; a visit whose ETA breaks its window is flagged late,
    with the time by which the customer must be told (window − 2 h, R2)."""
    return {"stops": service.current_etas(company_id(), args["day"])}


def _generated(jobs: list) -> dict:
    db.session.commit()
    return {"created": len(jobs), "refs": [j.ref for j in jobs]}


@blp.route("/inspections", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(HorizonSchema)
@blp.response(200, GeneratedSchema)
def plan_inspections(body: dict):
    """Generate inspection jobs for every customer coming due within the horizon (R7)."""
    return _generated(inspections.plan_inspections(company_id(), horizon_days=body["horizon_days"]))


@blp.route("/meters", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(HorizonSchema)
@blp.response(200, GeneratedSchema)
def plan_meters(body: dict):
    """Generate meter-work jobs for meters whose verification falls due within the horizon (R15)."""
    return _generated(inspections.plan_meter_work(company_id(), horizon_days=body["horizon_days"]))


@blp.route("/hazards", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.response(200, GeneratedSchema)
def plan_hazards():
    """Generate rectification jobs for open hazards past their deadline (R16)."""
    return _generated(inspections.plan_overdue_hazards(company_id()))


@blp.route("/coverage", methods=["GET"])
@requires(Role.DISPATCHER, Role.CUSTOMER_SERVICE)
@blp.response(200, CoverageSchema)
def coverage():
    """Inspection coverage by customer category (R7)."""
    return {"categories": inspections.coverage(company_id())}
