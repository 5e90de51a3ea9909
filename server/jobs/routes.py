"""/api/v1/jobs: jobs, their status, assignment, route order, appointments and SLA clocks."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, requires
from server.db import utcnow
from server.extensions import db
from server.jobs import appointments, assignment, service, sla
from server.jobs.schemas import (
    AppointmentSchema,
    AssignSchema,
    CancelAppointmentSchema,
    JobClocksSchema,
    JobCreateSchema,
    JobListArgsSchema,
    JobPlanSchema,
    JobSchema,
    PeriodArgsSchema,
    RouteResultSchema,
    RouteSchema,
    StatusChangeSchema,
    WindowSchema,
)
from server.pagination import PageArgsSchema, page_of, paginate

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Jobs, appointments and SLA clocks")

OFFICE = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)


@blp.route("", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(JobListArgsSchema, location="query")
@blp.response(200, page_of(JobSchema))
def list_jobs(args: dict):
    """The company's jobs, filtered (window dates in the company's local time), by window then ref."""
    return paginate(service.jobs_query(company_id(), args), args)


@blp.route("", methods=["POST"])
@requires(*OFFICE)
@blp.arguments(JobCreateSchema)
@blp.response(201, JobSchema)
def create_job(body: dict):
    """Create a job; repairs and emergencies get their R8 clocks."""
    job = service.create_job(company_id(), **body)
    db.session.commit()
    return job


@blp.route("/<uuid:job_id>", methods=["GET"])
@requires(*OFFICE)
@blp.response(200, JobSchema)
def get_job(job_id: uuid.UUID):
    """One job."""
    return service.get_job(company_id(), job_id)


@blp.route("/<uuid:job_id>", methods=["PATCH"])
@requires(Role.DISPATCHER)
@blp.arguments(JobPlanSchema)
@blp.response(200, JobSchema)
def update_job(body: dict, job_id: uuid.UUID):
    """Change plan fields of a job."""
    job = service.update_plan(service.get_job(company_id(), job_id), body)
    db.session.commit()
    return job


@blp.route("/<uuid:job_id>/status", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(StatusChangeSchema)
@blp.response(200, JobSchema)
def change_status(body: dict, job_id: uuid.UUID):
    """Move the job through its state machine (409 ``illegal_transition`` lists ``details.allowed``)."""
    job = service.change_status(service.get_job(company_id(), job_id), body["status"], reason=body["reason"])
    db.session.commit()
    return job


@blp.route("/<uuid:job_id>/assign", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.arguments(AssignSchema)
@blp.response(200, JobSchema)
def assign(body: dict, job_id: uuid.UUID):
    """Assign or reassign a qualified technician (R14) with no conflict of interest (R10)."""
    job = assignment.assign(service.get_job(company_id(), job_id), body["technician_id"])
    db.session.commit()
    return job


@blp.route("/<uuid:job_id>/unassign", methods=["POST"])
@requires(Role.DISPATCHER)
@blp.response(200, JobSchema)
def unassign(job_id: uuid.UUID):
    """Take the job off its technician."""
    job = assignment.unassign(service.get_job(company_id(), job_id))
    db.session.commit()
    return job


@blp.route("/route", methods=["PUT"])
@requires(Role.DISPATCHER)
@blp.arguments(RouteSchema)
@blp.response(200, RouteResultSchema)
def reorder_route(body: dict):
    """Order a technician's day: the listed jobs first, in that order."""
    jobs = assignment.reorder_route(company_id(), body["technician_id"], body["day"], body["job_ids"])
    db.session.commit()
    return {"jobs": jobs}


@blp.route("/<uuid:job_id>/appointment", methods=["POST"])
@requires(*OFFICE)
@blp.arguments(WindowSchema)
@blp.response(200, AppointmentSchema)
def agree_window(body: dict, job_id: uuid.UUID):
    """Agree a window with the customer (R1), or change it (reason needed; notice recorded, R2)."""
    job = service.get_job(company_id(), job_id)
    appointment = appointments.agree_window(
        job, body["window_start"], body["window_end"], agreed_with=body["agreed_with"], reason=body["reason"]
    )
    db.session.commit()
    return appointment


@blp.route("/<uuid:job_id>/appointment/cancel", methods=["POST"])
@requires(*OFFICE)
@blp.arguments(CancelAppointmentSchema)
@blp.response(200, AppointmentSchema)
def cancel_appointment(body: dict, job_id: uuid.UUID):
    """Cancel the agreed window; the customer is notified and the notice recorded (R2)."""
    ended = appointments.cancel_appointment(service.get_job(company_id(), job_id), reason=body["reason"])
    db.session.commit()
    return ended


@blp.route("/<uuid:job_id>/appointments", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(AppointmentSchema))
def list_appointments(args: dict, job_id: uuid.UUID):
    """Every window agreed for the job, newest first."""
    job = service.get_job(company_id(), job_id)
    return paginate(appointments.appointments_query(company_id(), job.id), args)


@blp.route("/short-notice", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PeriodArgsSchema, location="query")
@blp.response(200, page_of(AppointmentSchema))
def short_notice(args: dict):
    """Appointments changed or cancelled less than 2 h before their window (R2 breaches)."""
    return paginate(appointments.short_notice_query(company_id(), args.get("since"), args.get("until")), args)


@blp.route("/clocks", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(JobClocksSchema))
def clocks(args: dict):
    """Open jobs with running SLA clocks, most urgent first, with time left or breached (R8)."""
    now = utcnow()
    page = paginate(sla.open_clocks_query(company_id()), args)
    page["items"] = [{"job": job, "clocks": sla.job_clocks(job, now)} for job in page["items"]]
    return page


@blp.route("/sla-breaches", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(PeriodArgsSchema, location="query")
@blp.response(200, page_of(JobClocksSchema))
def sla_breaches(args: dict):
    """Jobs whose arrival or completion came after its deadline (created in the period)."""
    now = utcnow()
    page = paginate(sla.breaches_query(company_id(), args.get("since"), args.get("until")), args)
    page["items"] = [{"job": job, "clocks": sla.job_clocks(job, now)} for job in page["items"]]
    return page
