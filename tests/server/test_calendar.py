"""The working-day calendar: Chinese make-up working days, company entries, unknown years, year end."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from server.extensions import db
from server.jobs.calendar import (
    CalendarNotEntered,
    WorkingCalendar,
    add_working_days,
    is_working_day,
    package_years,
    set_year,
)

SH = ZoneInfo("Asia/Shanghai")

# What the State Council announced for 2027 is not in holidays==0.109; these rows stand in for
# an admin's entry (New Year's Day on Friday 1 January).
ENTRY_2027 = [(dt.date(2027, 1, 1), False, "元旦")]


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def test_package_years_stop_at_the_last_announced_year():
    assert 2026 in package_years() and 2001 in package_years()
    assert 2027 not in package_years()


def test_chinese_make_up_working_days(make_company):
    company = make_company()
    # Sunday 4 January 2026 was worked to make 2 January a day off (调休).
    assert dt.date(2026, 1, 4).weekday() == 6 and is_working_day(company.id, dt.date(2026, 1, 4))
    assert not is_working_day(company.id, dt.date(2026, 1, 2))  # a Friday off
    assert is_working_day(company.id, dt.date(2026, 2, 14))  # Saturday worked for the Spring Festival
    assert not is_working_day(company.id, dt.date(2026, 2, 15))  # an ordinary Sunday
    assert not is_working_day(company.id, dt.date(2026, 10, 6))  # National Day week, a Tuesday
    # One working day after New Year's Eve 2025 is that Sunday, not Monday 5 January.
    deadline = add_working_days(company.id, local(2025, 12, 31, 10), 1)
    assert deadline == local(2026, 1, 4, 23, 59, 59)


def test_an_unknown_year_is_not_guessed(make_company):
    company = make_company()
    with pytest.raises(CalendarNotEntered) as caught:
        is_working_day(company.id, dt.date(2027, 3, 3))
    assert caught.value.year == 2027 and caught.value.status == 409
    assert "calendar for 2027 not entered" in caught.value.message


def test_year_end_2026_to_2027_complaint_deadline(make_company):
    company = make_company()
    opened = local(2026, 12, 28, 10)  # a Monday
    with pytest.raises(CalendarNotEntered):
        add_working_days(company.id, opened, 5)
    set_year(company.id, 2027, ENTRY_2027)
    db.session.commit()
    # 29, 30, 31 December, then (1 January off, a weekend) 4 and 5 January.
    assert add_working_days(company.id, opened, 5) == local(2027, 1, 5, 23, 59, 59)
    assert add_working_days(company.id, opened, 3) == local(2026, 12, 31, 23, 59, 59)


def test_the_local_day_decides_not_the_utc_day(make_company):
    company = make_company()
    set_year(company.id, 2027, ENTRY_2027)
    # 17:30 UTC on Monday 28 December is already 01:30 on Tuesday in Shanghai: counting starts there.
    start = dt.datetime(2026, 12, 28, 17, 30, tzinfo=dt.UTC)
    assert add_working_days(company.id, start, 1) == local(2026, 12, 30, 23, 59, 59)


def test_company_rows_override_the_package(make_company):
    company = make_company()
    other = make_company()
    set_year(company.id, 2026, [(dt.date(2026, 12, 31), False, "公司调休"), (dt.date(2026, 12, 26), True, "加班")])
    db.session.commit()
    assert not is_working_day(company.id, dt.date(2026, 12, 31))
    assert is_working_day(company.id, dt.date(2026, 12, 26))  # a Saturday
    assert is_working_day(other.id, dt.date(2026, 12, 31))  # another company is untouched
    # Rows entered for 2026 do not make 2027 known.
    with pytest.raises(CalendarNotEntered):
        is_working_day(company.id, dt.date(2027, 1, 4))


def test_working_days_left_counts_both_ways(make_company):
    company = make_company()
    cal = WorkingCalendar(company.id)
    now = local(2026, 2, 12, 9)  # Thursday before the Spring Festival
    assert cal.working_days_left(now, local(2026, 2, 14, 23, 59, 59)) == 2  # Fri 13 + Sat 14 (worked)
    assert cal.working_days_left(now, local(2026, 2, 24, 23, 59, 59)) == 3  # 13, 14, then 24
    assert cal.working_days_left(local(2026, 2, 16, 9), local(2026, 2, 12, 23, 59, 59)) == -2


def test_calendar_api_enter_a_year(client, jobs_world):
    w = jobs_world
    resp = client.get("/api/v1/calendar/2027", headers=w.dispatcher)
    assert resp.status_code == 200 and resp.get_json()["known"] is False and resp.get_json()["total"] == 0
    resp = client.get("/api/v1/calendar/add-working-days",
                      query_string={"start": "2026-12-28T10:00:00+08:00", "n": 5}, headers=w.dispatcher)
    assert resp.status_code == 409 and resp.get_json()["reason"] == "calendar_not_entered"
    assert resp.get_json()["details"] == {"year": 2027}
    body = {"days": [{"day": "2027-01-01", "working": False, "note": "元旦"},
                     {"day": "2027-02-20", "working": True, "note": "春节调休"}]}
    assert client.put("/api/v1/calendar/2027", json=body, headers=w.dispatcher).status_code == 403
    bad = {"days": [{"day": "2026-01-01", "working": False}, {"day": "2027-01-01", "working": False},
                    {"day": "2027-01-01", "working": True}]}
    resp = client.put("/api/v1/calendar/2027", json=bad, headers=w.admin)
    assert resp.status_code == 422 and set(resp.get_json()["errors"]["json"]["days"]) == {"0", "2"}
    assert client.put("/api/v1/calendar/2027", json={"days": []}, headers=w.admin).status_code == 422
    resp = client.put("/api/v1/calendar/2027", json=body, headers=w.admin)
    assert resp.status_code == 200 and resp.get_json()["known"] is True
    assert [d["day"] for d in resp.get_json()["items"]] == ["2027-01-01", "2027-02-20"]
    resp = client.get("/api/v1/calendar/add-working-days",
                      query_string={"start": "2026-12-28T10:00:00+08:00", "n": 5}, headers=w.dispatcher)
    assert resp.status_code == 200
    assert dt.datetime.fromisoformat(resp.get_json()["deadline"]) == local(2027, 1, 5, 23, 59, 59)
    # The other company has not entered 2027.
    assert client.get("/api/v1/calendar/2027", headers=w.other_dispatcher).get_json()["known"] is False


def test_calendar_api_shows_the_packages_make_up_days(client, jobs_world):
    resp = client.get("/api/v1/calendar/2026", query_string={"per_page": 200}, headers=jobs_world.dispatcher)
    body = resp.get_json()
    assert body["known"] is True
    days = {d["day"]: d for d in body["items"]}
    assert days["2026-01-04"]["working"] is True and days["2026-01-04"]["source"] == "package"
    assert days["2026-10-06"]["working"] is False
    assert client.get("/api/v1/calendar/1800", headers=jobs_world.dispatcher).status_code == 404
