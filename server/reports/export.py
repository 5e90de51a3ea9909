"""The KPI report as CSV: one row per technician and a total row, then the company-wide figures."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = (
    "technician", "staff_no", "visits_completed",
    "on_time_arrived", "on_time", "on_time_rate", "not_arrived",
    "notice_due", "notice_given", "notice_rate", "window_changes", "window_changes_with_notice", "late_visits",
    "late_visits_with_notice",
    "respond_met", "respond_breached", "respond_running", "respond_rate",
    "fix_met", "fix_breached", "fix_running", "fix_rate",
    "chargeable_started", "approved_before_work", "approval_rate",
    "open_hazards", "overdue_hazards", "median_hazard_age_days", "max_hazard_age_days",
    "satisfaction_responses", "satisfaction_mean", "sat_1", "sat_2", "sat_3", "sat_4", "sat_5",
)


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _row(name: str, staff_no: str, f: dict[str, Any]) -> list[Any]:
    on, notice, sla, ok = f["on_time"], f["notice"], f["repair_sla"], f["approval_before_work"]
    hz, sat = f["open_hazards"], f["satisfaction"]
    return [_blank(v) for v in (
        name, staff_no, f["visits_completed"],
        on["denominator"], on["numerator"], on["rate"], on["not_arrived"],
        notice["denominator"], notice["numerator"], notice["rate"], notice["changes"], notice["changes_with_notice"],
        notice["late_visits"], notice["late_visits_with_notice"],
        sla["respond"]["met"], sla["respond"]["breached"], sla["respond"]["running"], sla["respond"]["rate"],
        sla["fix"]["met"], sla["fix"]["breached"], sla["fix"]["running"], sla["fix"]["rate"],
        ok["denominator"], ok["numerator"], ok["rate"],
        hz["open"], hz["overdue"], hz["median_age_days"], hz["max_age_days"],
        sat["responses"], sat["mean"], *(sat["distribution"][str(k)] for k in range(1, 6)),
    )]


def kpi_csv(report: dict[str, Any]) -> str:
    """The report as CSV text (rates as fractions 0–1; empty where nothing was measured)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"period {report['date_from'].isoformat()}..{report['date_to'].isoformat()}",
                     f"timezone {report['timezone']}"])
    writer.writerow(COLUMNS)
    for tech in report["technicians"]:
        writer.writerow(_row(tech["technician_name"], tech["staff_no"], tech))
    writer.writerow(_row("TOTAL", "", report["total"]))
    writer.writerow([])
    c = report["complaint_sla"]
    writer.writerow(["complaint_sla", "met", "breached", "running", "rate"])
    writer.writerow(["company", c["met"], c["breached"], c["running"], _blank(c["rate"])])
    writer.writerow([])
    writer.writerow(["inspection_category", "customers", "in_date", "overdue", "never_inspected", "open_jobs",
                     "coverage_pct"])
    for row in report["inspection_coverage"]:
        writer.writerow([row["category"], row["customers"], row["in_date"], row["overdue"], row["never_inspected"],
                         row["open_jobs"], _blank(row["coverage_pct"])])
    return out.getvalue()
