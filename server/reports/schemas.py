"""Wire shapes of the reports package: service report metadata, KPI arguments and results, the month close."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

MAX_PERIOD_DAYS = 400


class ServiceReportSchema(ma.Schema):
    """The latest generated service report of a visit, and whether the visit's data changed since (R18)."""

    job_id = ma.fields.UUID()
    job_ref = ma.fields.String()
    sha256 = ma.fields.String(metadata={"description": "SHA-256 of the PDF bytes last generated"})
    size = ma.fields.Integer()
    generated_at = ma.fields.AwareDateTime()
    generator_version = ma.fields.String()
    data_sha256 = ma.fields.String(metadata={"description": "fingerprint of the visit data the PDF was made from"})
    current_data_sha256 = ma.fields.String()
    stale = ma.fields.Boolean(metadata={"description": "true when the visit's data changed since the report was made"})
    generator_outdated = ma.fields.Boolean()
    versions = ma.fields.Integer(metadata={"description": "how many different reports were generated for the visit"})


class KpiArgsSchema(ma.Schema):
    """The period (company-local dates, inclusive) and the optional technician or centre."""

    # ``from`` is a Python keyword: the attribute is ``date_from``, the query parameter ``from``.
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    technician_id = ma.fields.UUID()
    service_centre_id = ma.fields.UUID()

    @ma.validates_schema
    def _period(self, data: dict, **_: object) -> None:
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            raise ma.ValidationError("must not be before 'from'", "to")
        if first and last and (last - first).days >= MAX_PERIOD_DAYS:
            raise ma.ValidationError(f"a period may be at most {MAX_PERIOD_DAYS} days", "to")


class ChartArgsSchema(KpiArgsSchema):
    """KPI arguments plus the chart's language."""

    lang = ma.fields.String(load_default="zh", validate=validate.OneOf(["zh", "en"]))


class RateSchema(ma.Schema):
    """A share: how many of how many (``rate`` is null when nothing was measured)."""

    numerator = ma.fields.Integer()
    denominator = ma.fields.Integer()
    rate = ma.fields.Float(allow_none=True)


class OnTimeSchema(RateSchema):
    """R1: visits arriving by the end of the agreed window (clock-corrected arrival)."""

    not_arrived = ma.fields.Integer(metadata={"description": "window over, nobody arrived, not cancelled"})


class NoticeSchema(RateSchema):
    """R2: changed, cancelled or late visits whose customer was told at least 2 h ahead."""

    changes = ma.fields.Integer()
    changes_with_notice = ma.fields.Integer()
    late_visits = ma.fields.Integer()
    late_visits_with_notice = ma.fields.Integer()
    late_visits_told_before_arrival = ma.fields.Integer()


class SlaSchema(ma.Schema):
    """R8 (respond and fix clocks) or R10 (answer clock): met, breached and still running."""

    met = ma.fields.Integer()
    breached = ma.fields.Integer()
    running = ma.fields.Integer()
    rate = ma.fields.Float(allow_none=True)


class RepairSlaSchema(ma.Schema):
    """R8: both repair clocks."""

    respond = ma.fields.Nested(SlaSchema)
    fix = ma.fields.Nested(SlaSchema)


class HazardAgeSchema(ma.Schema):
    """R16: hazards still open at the end of the period, by age in days."""

    open = ma.fields.Integer()
    overdue = ma.fields.Integer()
    median_age_days = ma.fields.Float(allow_none=True)
    max_age_days = ma.fields.Float(allow_none=True)


class SatisfactionSchema(ma.Schema):
    """R6: satisfaction (1–5) from follow-up calls made in the period."""

    responses = ma.fields.Integer()
    mean = ma.fields.Float(allow_none=True)
    distribution = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class KpiCoverageSchema(ma.Schema):
    """R7: inspection coverage of one customer category."""

    category = ma.fields.String()
    customers = ma.fields.Integer()
    in_date = ma.fields.Integer()
    overdue = ma.fields.Integer()
    never_inspected = ma.fields.Integer()
    open_jobs = ma.fields.Integer()
    coverage_pct = ma.fields.Float(allow_none=True)


class KpiFiguresSchema(ma.Schema):
    """The per-visit KPIs of the centre or of one technician."""

    visits_completed = ma.fields.Integer()
    on_time = ma.fields.Nested(OnTimeSchema)
    notice = ma.fields.Nested(NoticeSchema)
    repair_sla = ma.fields.Nested(RepairSlaSchema)
    approval_before_work = ma.fields.Nested(RateSchema)
    open_hazards = ma.fields.Nested(HazardAgeSchema)
    satisfaction = ma.fields.Nested(SatisfactionSchema)


class TechnicianKpiSchema(KpiFiguresSchema):
    """One technician's KPIs."""

    technician_id = ma.fields.UUID(allow_none=True)
    technician_name = ma.fields.String()
    staff_no = ma.fields.String()


class KpiReportSchema(ma.Schema):
    """KPIs over a period: the total, each technician, and the company-wide ones (R10 complaints, R7 coverage)."""

    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    timezone = ma.fields.String()
    technician_id = ma.fields.UUID(allow_none=True)
    service_centre_id = ma.fields.UUID(allow_none=True)
    total = ma.fields.Nested(KpiFiguresSchema)
    technicians = ma.fields.List(ma.fields.Nested(TechnicianKpiSchema))
    complaint_sla = ma.fields.Nested(SlaSchema, metadata={"description": "company-wide: complaints have no technician"})
    inspection_coverage = ma.fields.List(ma.fields.Nested(KpiCoverageSchema),
                                         metadata={"description": "company-wide, as at the end of the period"})


class MonthArgsSchema(ma.Schema):
    """The month to close, ``YYYY-MM`` (this month when omitted)."""

    month = ma.fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="use YYYY-MM"))


class DiscrepancySchema(ma.Schema):
    """Money that does not reconcile with an approved quote (R17)."""

    kind = ma.fields.String(metadata={"description": "no_quote | other_job_quote | not_approved | amount_differs | "
                                                     "not_collected"})
    day = ma.fields.Date()
    job_id = ma.fields.UUID()
    job_ref = ma.fields.String()
    technician_id = ma.fields.UUID(allow_none=True)
    collected_cents = ma.fields.Integer()
    approved_cents = ma.fields.Integer(allow_none=True)
    message = ma.fields.String()


class MonthDaySchema(ma.Schema):
    """One day of the month close."""

    day = ma.fields.Date()
    collections = ma.fields.Integer()
    total_cents = ma.fields.Integer()
    discrepancies = ma.fields.Integer()


class MonthTechnicianSchema(ma.Schema):
    """One technician's month: totals and the amount of each day they collected."""

    technician_id = ma.fields.UUID(allow_none=True)
    technician_name = ma.fields.String()
    staff_no = ma.fields.String()
    collections = ma.fields.Integer()
    total_cents = ma.fields.Integer()
    by_day = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    discrepancies = ma.fields.Integer()


class MonthCloseSchema(ma.Schema):
    """The month reconciliation (月对账): day totals, technician totals, every discrepancy."""

    month = ma.fields.String()
    total_cents = ma.fields.Integer()
    collections = ma.fields.Integer()
    reconciled = ma.fields.Boolean()
    days = ma.fields.List(ma.fields.Nested(MonthDaySchema))
    technicians = ma.fields.List(ma.fields.Nested(MonthTechnicianSchema))
    discrepancies = ma.fields.List(ma.fields.Nested(DiscrepancySchema))
