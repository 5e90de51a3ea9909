"""Wire shapes of route optimisation and the inspection planner."""

import datetime as dt

import marshmallow as ma
from marshmallow import validate

# A day to plan: far enough from year 1 / 9999 that its local midnight converts to UTC.
PLAN_DAY = validate.Range(min=dt.date(2000, 1, 1), max=dt.date(2100, 12, 31))


class OptimiseSchema(ma.Schema):
    """Which day (company local date) and, optionally, which technicians to plan."""

    day = ma.fields.Date(required=True, validate=PLAN_DAY)
    technician_ids = ma.fields.List(ma.fields.UUID(), load_default=None)
    keep_committed = ma.fields.Boolean(load_default=True)


class StopSchema(ma.Schema):
    """One visit of a planned route."""

    job_id = ma.fields.UUID(required=True)
    ref = ma.fields.String(required=True)
    eta = ma.fields.AwareDateTime(required=True)
    start = ma.fields.AwareDateTime(required=True)
    window_start = ma.fields.AwareDateTime(allow_none=True)
    window_end = ma.fields.AwareDateTime(allow_none=True)
    late = ma.fields.Boolean(required=True)
    notify_by = ma.fields.AwareDateTime(allow_none=True)
    notice_still_possible = ma.fields.Boolean(required=True)
    technician_id = ma.fields.UUID()


class PlannedRouteSchema(ma.Schema):
    """A technician's planned route."""

    technician_id = ma.fields.UUID(required=True)
    technician_name = ma.fields.String(required=True)
    stops = ma.fields.List(ma.fields.Nested(StopSchema), required=True)
    travel_minutes = ma.fields.Integer(required=True)


class UnplacedSchema(ma.Schema):
    """A job the solver could not place, and why."""

    job_id = ma.fields.UUID(required=True)
    ref = ma.fields.String(required=True)
    reason = ma.fields.String(
        required=True,
        metadata={"description": "no_qualified_technician | window_outside_shifts | no_room_in_routes | "
                                 "committed_technician_unavailable"},
    )


class PlanSchema(ma.Schema):
    """A plan preview: nothing is written until it is committed."""

    day = ma.fields.Date(required=True)
    routes = ma.fields.List(ma.fields.Nested(PlannedRouteSchema), required=True)
    unassigned = ma.fields.List(ma.fields.Nested(UnplacedSchema), required=True)
    travel_minutes = ma.fields.Integer(required=True)
    solve_ms = ma.fields.Float(required=True)


class CommitRouteSchema(ma.Schema):
    """A route to commit, as previewed or as the dispatcher adjusted it."""

    technician_id = ma.fields.UUID(required=True)
    job_ids = ma.fields.List(ma.fields.UUID(), required=True, validate=validate.Length(max=100))
    etas = ma.fields.List(ma.fields.AwareDateTime(), load_default=None, metadata={
        "description": "each job's ETA, stored as its planned_eta: the arrival time (a previewed stop's eta, "
                       "not its start after waiting for the window)"})


class CommitSchema(ma.Schema):
    """Commit routes for a day."""

    day = ma.fields.Date(required=True, validate=PLAN_DAY)
    routes = ma.fields.List(ma.fields.Nested(CommitRouteSchema), required=True, validate=validate.Length(min=1))


class CommittedSchema(ma.Schema):
    """How many jobs a commit placed."""

    committed = ma.fields.Integer(required=True)


class DayArgsSchema(ma.Schema):
    """?day=YYYY-MM-DD"""

    day = ma.fields.Date(required=True, validate=PLAN_DAY)


class EtasSchema(ma.Schema):
    """ETAs of the routes as they stand, with late warnings (R2)."""

    stops = ma.fields.List(ma.fields.Nested(StopSchema), required=True)


class HorizonSchema(ma.Schema):
    """How many days ahead to generate jobs for."""

    horizon_days = ma.fields.Integer(load_default=30, validate=validate.Range(min=0, max=365))


class GeneratedSchema(ma.Schema):
    """The jobs a planner created."""

    created = ma.fields.Integer(required=True)
    refs = ma.fields.List(ma.fields.String(), required=True)


class CoverageRowSchema(ma.Schema):
    """Inspection coverage of one customer category (R7)."""

    category = ma.fields.String(required=True)
    customers = ma.fields.Integer(required=True)
    in_date = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)
    never_inspected = ma.fields.Integer(required=True)
    open_jobs = ma.fields.Integer(required=True)
    coverage_pct = ma.fields.Float(allow_none=True)


class CoverageSchema(ma.Schema):
    """Inspection coverage by category."""

    categories = ma.fields.List(ma.fields.Nested(CoverageRowSchema), required=True)
