"""/api/v1/jobs/<id>/report(.pdf) (R18), /api/v1/kpis(.csv), /api/v1/kpis/charts/<name>.svg and
/api/v1/daily-close/month (R17)."""

from __future__ import annotations

import uuid

from flask import Response
from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, current_user, get_owned, requires
from server.errors import ApiError
from server.extensions import db
from server.jobs.models import Job
from server.org.models import ServiceCentre
from server.people.models import Technician
from server.reports import charts, kpis, service
from server.reports.export import kpi_csv
from server.reports.schemas import (
    ChartArgsSchema,
    KpiArgsSchema,
    KpiReportSchema,
    MonthArgsSchema,
    MonthCloseSchema,
    ServiceReportSchema,
)
from server.visits.daily_close import month_close, parse_month

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Service reports (R18), KPIs with charts and CSV, the month close (R17)")

OFFICE = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)


@blp.route("/jobs/<uuid:job_id>/report.pdf", methods=["GET"])
@requires(*OFFICE)
@blp.response(200, content_type="application/pdf", description="the service report PDF")
def service_report_pdf(job_id: uuid.UUID):
    """The customer's service report of a completed visit (409 ``visit_not_completed`` before that).

    Made from the synced data as it stands; its SHA-256 is recorded (``X-Report-SHA256``, ETag).
    """
    job = get_owned(Job, job_id, "job")
    made = service.generate_service_report(job, user_id=current_user().id)
    sha = made.record.sha256
    db.session.commit()
    return Response(made.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="service-report-{job.ref}.pdf"',
        "ETag": f'"{sha}"', "X-Report-SHA256": sha, "Cache-Control": "no-store",
    })


@blp.route("/jobs/<uuid:job_id>/report", methods=["GET"])
@requires(*OFFICE)
@blp.response(200, ServiceReportSchema)
def service_report_status(job_id: uuid.UUID):
    """The latest generated report's SHA-256 and whether it is stale (the visit's data changed since)."""
    return service.report_status(get_owned(Job, job_id, "job"))


def _period(args: dict) -> kpis.Period:
    if args.get("technician_id"):
        get_owned(Technician, args["technician_id"], "technician")
    if args.get("service_centre_id"):
        get_owned(ServiceCentre, args["service_centre_id"], "service centre")
    return kpis.period_for(company_id(), args)


@blp.route("/kpis", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(KpiArgsSchema, location="query")
@blp.response(200, KpiReportSchema)
def get_kpis(args: dict):
    """KPIs over a period of company-local days (default: this month so far), for the centre and each
    technician: R1 on time, R2 notice, R8 repair clocks, R3 approval before work, R16 open hazards,
    R6 satisfaction; company-wide R10 complaint clock and R7 inspection coverage."""
    return kpis.kpi_report(company_id(), _period(args))


@blp.route("/kpis.csv", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(KpiArgsSchema, location="query")
@blp.response(200, content_type="text/csv", description="one row per technician and a total row")
def get_kpis_csv(args: dict):
    """The same KPIs as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese names)."""
    period = _period(args)
    text = kpi_csv(kpis.kpi_report(company_id(), period))
    name = f"kpis-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(text.encode("utf-8-sig"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/kpis/charts/<name>.svg", methods=["GET"])
@requires(*OFFICE)
@blp.arguments(ChartArgsSchema, location="query")
@blp.response(200, content_type="image/svg+xml", description="a server-rendered SVG chart")
def get_kpi_chart(args: dict, name: str):
    """A KPI chart as SVG: ``on_time``, ``notice``, ``repair_sla``, ``approval``, ``satisfaction``, ``coverage``,
    ``hazards``, ``complaints``."""
    if name not in charts.CHARTS:
        raise ApiError(404, "not_found", f"chart {name} not found; charts: {', '.join(sorted(charts.CHARTS))}")
    lang = args.pop("lang")
    report = kpis.kpi_report(company_id(), _period(args))
    return Response(charts.CHARTS[name](report, lang), mimetype="image/svg+xml")


@blp.route("/daily-close/month", methods=["GET"])
@requires(Role.DISPATCHER)
@blp.arguments(MonthArgsSchema, location="query")
@blp.response(200, MonthCloseSchema)
def get_month_close(args: dict):
    """The month reconciliation (月对账, R17): per-day and per-technician totals and every discrepancy."""
    return month_close(company_id(), parse_month(company_id(), args.get("month")))
