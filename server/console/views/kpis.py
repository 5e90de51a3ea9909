"""KPIs for the centre and each technician (R1, R2, R3, R6, R7, R8, R10, R16): the figures, the
reports package's server-rendered SVG charts inline, and the CSV export — all of one period and filter."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, g, render_template, request
from markupsafe import Markup

from server.auth.models import Role
from server.console import bp
from server.console.actions import load, require_role
from server.console.board_data import technicians
from server.console.frame import refusal
from server.console.i18n import language
from server.console.session import console_login_required
from server.errors import ApiError
from server.extensions import db
from server.jobs.service import owned
from server.org.models import ServiceCentre
from server.people.models import Technician
from server.reports import charts, kpis
from server.reports.export import kpi_csv
from server.reports.schemas import KpiArgsSchema

OFFICE = (Role.DISPATCHER, Role.CUSTOMER_SERVICE)  # as GET /api/v1/kpis
FILTERS = ("from", "to", "technician_id", "service_centre_id")
# The charts in the order the page shows them, each with the rule it measures.
CHART_ORDER = ("on_time", "notice", "repair_sla", "complaints", "coverage", "hazards", "approval", "satisfaction")


def _period() -> kpis.Period:
    """The period and filters of the query string, checked by the API's own schema and ownership rules."""
    args = load(KpiArgsSchema(), {k: request.args.get(k) or None for k in FILTERS})
    if args.get("technician_id"):
        owned(Technician, g.user.company_id, args["technician_id"], "technician")
    if args.get("service_centre_id"):
        owned(ServiceCentre, g.user.company_id, args["service_centre_id"], "service centre")
    return kpis.period_for(g.user.company_id, args)


def _centres() -> list[ServiceCentre]:
    return list(db.session.execute(
        sa.select(ServiceCentre).where(ServiceCentre.company_id == g.user.company_id).order_by(ServiceCentre.name)
    ).scalars())


def _query(period: kpis.Period) -> dict[str, Any]:
    """The filters as query parameters (for the CSV link and the form)."""
    out: dict[str, Any] = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    if period.technician_id:
        out["technician_id"] = str(period.technician_id)
    if period.service_centre_id:
        out["service_centre_id"] = str(period.service_centre_id)
    return out


@bp.route("/kpis")
@console_login_required
@require_role(*OFFICE)
def kpis_page():
    """The period's KPIs: headline figures, one chart per rule, the per-technician table, CSV export."""
    error = None
    try:
        period = _period()
    except ApiError as refused:
        db.session.rollback()
        error = refusal(refused)
        period = kpis.period_for(g.user.company_id, {})
    report = kpis.kpi_report(g.user.company_id, period)
    lang = "zh" if language() == "zh-CN" else "en"
    svgs = {name: Markup(charts.CHARTS[name](report, lang)) for name in CHART_ORDER}
    return render_template(
        "console/kpis.html", report=report, charts=svgs, query=_query(period), error=error,
        technicians=technicians(g.user.company_id), centres=_centres(),
    ), (error["status"] if error else 200)


@bp.route("/kpis.csv")
@console_login_required
@require_role(*OFFICE)
def kpis_csv():
    """The same KPIs as CSV (UTF-8 with BOM, as the API's export)."""
    period = _period()
    text = kpi_csv(kpis.kpi_report(g.user.company_id, period))
    name = f"kpis-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(text.encode("utf-8-sig"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
