"""/api/v1/calendar: the company's working-day calendar (see server.jobs.calendar)."""

from __future__ import annotations

from flask_smorest import Blueprint

from server.auth.models import Role
from server.auth.service import company_id, requires
from server.errors import ApiError
from server.extensions import db
from server.jobs import calendar
from server.jobs.intake_schemas import (
    AddWorkingDaysArgsSchema,
    CalendarYearInSchema,
    CalendarYearSchema,
    DeadlineSchema,
)
from server.pagination import PageArgsSchema

blp = Blueprint("calendar", __name__, url_prefix="/api/v1/calendar", description="Working-day calendar")

YEARS = (2000, 2100)


def _check_year(year: int) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise ApiError(404, "not_found", f"year {year} is outside {YEARS[0]}–{YEARS[1]}")


@blp.route("/<int:year>", methods=["GET"])
@requires(Role.DISPATCHER, Role.CUSTOMER_SERVICE)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CalendarYearSchema)
def get_year(args: dict, year: int):
    """The year's holidays and make-up working days (company entries win over the package's);
    ``known`` false means the year must be entered before deadlines can fall in it."""
    _check_year(year)
    known, entries = calendar.year_entries(company_id(), year)
    page, per_page = args["page"], args["per_page"]
    items = entries[(page - 1) * per_page : page * per_page]
    return {"year": year, "known": known, "items": items, "page": page, "per_page": per_page, "total": len(entries)}


@blp.route("/<int:year>", methods=["PUT"])
@requires(Role.ADMIN)
@blp.arguments(CalendarYearInSchema)
@blp.response(200, CalendarYearSchema)
def put_year(body: dict, year: int):
    """Enter the State Council's announced calendar of a year (replaces what was entered for it)."""
    _check_year(year)
    problems: dict[int, dict[str, list[str]]] = {}
    seen: set = set()
    for index, entry in enumerate(body["days"]):
        if entry["day"].year != year:
            problems[index] = {"day": [f"not in {year}"]}
        elif entry["day"] in seen:
            problems[index] = {"day": ["appears twice"]}
        seen.add(entry["day"])
    if problems:
        raise ApiError(422, "validation_error", "days: some days are wrong", errors={"json": {"days": problems}})
    count = calendar.set_year(company_id(), year, [(d["day"], d["working"], d["note"]) for d in body["days"]])
    db.session.commit()
    known, entries = calendar.year_entries(company_id(), year)
    return {"year": year, "known": known, "items": entries, "page": 1, "per_page": max(count, len(entries)),
            "total": len(entries)}


@blp.route("/add-working-days", methods=["GET"])
@requires(Role.DISPATCHER, Role.CUSTOMER_SERVICE)
@blp.arguments(AddWorkingDaysArgsSchema, location="query")
@blp.response(200, DeadlineSchema)
def add_working_days(args: dict):
    """The deadline ``n`` working days after ``start`` (409 ``calendar_not_entered`` for an unknown year)."""
    deadline = calendar.add_working_days(company_id(), args["start"], args["n"])
    return {"start": args["start"], "n": args["n"], "deadline": deadline}
