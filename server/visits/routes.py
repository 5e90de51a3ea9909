"""/api/v1/jobs/<id>/{hazards,quotes,signatures,cleanup,visit-events,fees,meter-readings,notes} and
/api/v1/hazards: what visits captured, for the office (R1–R4, R15–R17)."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, current_user, get_owned, requires
from server.extensions import db
from server.jobs.models import Job
from server.jobs.schemas import JobSchema
from server.org.service import today_for
from server.pagination import PageArgsSchema, page_of, paginate
from server.visits import service
from server.visits.daily_close import daily_close
from server.visits.models import (
    CleanupConfirmation,
    FeeCollection,
    Hazard,
    MeterReading,
    Note,
    Quote,
    Signature,
    VisitEvent,
)
from server.visits.schemas import (
    CleanupSchema,
    ConfirmFixedSchema,
    DailyCloseArgsSchema,
    DailyCloseSchema,
    FeeSchema,
    HazardArgsSchema,
    HazardSchema,
    MeterReadingSchema,
    NoteSchema,
    QuoteSchema,
    RectificationJobSchema,
    SignatureSchema,
    VisitEventSchema,
)

blp = Blueprint("visits", __name__, url_prefix="/api/v1", description="What visits captured: hazards, quotes, signatures…")

OFFICE = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)


def _job_list(model: type, job_id: uuid.UUID, args: dict) -> dict:
    job = get_owned(Job, job_id, "job")
    return paginate(service.job_rows_query(model, job), args)


@blp.route("/jobs/<uuid:job_id>/hazards", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(HazardSchema))
def job_hazards(args: dict, job_id: uuid.UUID):
    """Hazards found on this visit (R16)."""
    return _job_list(Hazard, job_id, args)


@blp.route("/jobs/<uuid:job_id>/quotes", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(QuoteSchema))
def job_quotes(args: dict, job_id: uuid.UUID):
    """Quotes of this visit; ``approval_valid`` is false once a signed quote's content changed (R3)."""
    page = _job_list(Quote, job_id, args)
    service.annotate_quotes(page["items"])
    return page


@blp.route("/jobs/<uuid:job_id>/signatures", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(SignatureSchema))
def job_signatures(args: dict, job_id: uuid.UUID):
    """Signatures taken on this visit: purpose, signed hash, signer and the image's blob hash."""
    return _job_list(Signature, job_id, args)


@blp.route("/jobs/<uuid:job_id>/cleanup", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(CleanupSchema))
def job_cleanup(args: dict, job_id: uuid.UUID):
    """Cleanup confirmations of this visit (R4)."""
    return _job_list(CleanupConfirmation, job_id, args)


@blp.route("/jobs/<uuid:job_id>/visit-events", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(VisitEventSchema))
def job_visit_events(args: dict, job_id: uuid.UUID):
    """En route, running late, arrived, departed: claimed time, receive time, offset, corrected time (R1, R2)."""
    return _job_list(VisitEvent, job_id, args)


@blp.route("/jobs/<uuid:job_id>/fees", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(FeeSchema))
def job_fees(args: dict, job_id: uuid.UUID):
    """Money collected on this visit (R17)."""
    return _job_list(FeeCollection, job_id, args)


@blp.route("/jobs/<uuid:job_id>/meter-readings", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(MeterReadingSchema))
def job_meter_readings(args: dict, job_id: uuid.UUID):
    """Meter readings and changes recorded on this visit (R15)."""
    return _job_list(MeterReading, job_id, args)


@blp.route("/jobs/<uuid:job_id>/notes")
class JobNotes(MethodView):
    """Notes on a job from both sides, attributed."""

    @requires(*OFFICE)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(NoteSchema))
    def get(self, args: dict, job_id: uuid.UUID):
        """Office and device notes, oldest first."""
        return _job_list(Note, job_id, args)

    @requires(*OFFICE)
    @blp.arguments(NoteSchema)
    @blp.response(201, NoteSchema)
    def post(self, body: dict, job_id: uuid.UUID):
        """Add an office note (it reaches the technician's tablet with the next sync)."""
        job = get_owned(Job, job_id, "job")
        note = service.add_office_note(job, current_user(), body["text"])
        db.session.commit()
        return note


@blp.route("/hazards", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(HazardArgsSchema, location="query")
@blp.response(200, page_of(HazardSchema))
def list_hazards(args: dict):
    """The company's hazards, most urgent deadline first; filter by open, overdue, severity, district (R16)."""
    return paginate(service.hazards_query(company_id(), args), args)


@blp.route("/hazards/<uuid:hazard_id>", methods=["GET"])
@requires(*OFFICE)
@blp.response(200, HazardSchema)
def get_hazard(hazard_id: uuid.UUID):
    """One hazard."""
    return get_owned(Hazard, hazard_id, "hazard")


@blp.route("/hazards/<uuid:hazard_id>/rectification-job", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(RectificationJobSchema)
@blp.response(201, JobSchema)
def create_rectification_job(body: dict, hazard_id: uuid.UUID):
    """Make a hazard-rectification job at the hazard's premises; the hazard becomes rectification_scheduled."""
    hazard = get_owned(Hazard, hazard_id, "hazard")
    job = service.create_rectification_job(hazard, **body)
    db.session.commit()
    return job


@blp.route("/hazards/<uuid:hazard_id>/confirm-fixed", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(ConfirmFixedSchema)
@blp.response(200, HazardSchema)
def confirm_fixed(body: dict, hazard_id: uuid.UUID):
    """Record that a later visit to the premises confirmed the hazard fixed (the tablet does this by sync)."""
    hazard = get_owned(Hazard, hazard_id, "hazard")
    job = get_owned(Job, body["job_id"], "job")
    service.confirm_hazard_fixed(hazard, job)
    db.session.commit()
    return hazard


@blp.route("/daily-close", methods=["GET"])
@requires(Role.DISPATCHER)
@blp.arguments(DailyCloseArgsSchema, location="query")
@blp.response(200, DailyCloseSchema)
def get_daily_close(args: dict):
    """Fees collected on a company-local day, per technician, reconciled with approved quotes (R17)."""
    return daily_close(company_id(), args.get("day") or today_for(company_id()))
