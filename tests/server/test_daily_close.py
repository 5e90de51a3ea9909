"""The daily close and the month reconciliation (日清日结月对账, R17): totals per technician per local day,
and every discrepancy against approved quotes, including a completed visit where nothing was collected."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from server.auth.models import Role
from server.extensions import db
from server.visits.models import FeeCollection, Quote
from sync.domain.jobs import JobStatus
from tests.factories import make_household, make_job, make_technician
from tests.fixtures.visits import make_quote

SH = ZoneInfo("Asia/Shanghai")
D = Role.DISPATCHER


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SH)


def _job(company, tech, **kwargs):
    return make_job(company, make_household(company), technician=tech, window_start=at(10, 1, 9), **kwargs)


def _fee(job, quote, cents, when, method="cash"):
    db.session.add(FeeCollection(company_id=job.company_id, job_id=job.id, quote_id=quote.id if quote else None,
                                 technician_id=job.technician_id, amount_cents=cents, method=method,
                                 receipt_no=f"R{cents}", collected_at=when))
    db.session.commit()


def _complete(job, when):
    job.status, job.completed_at = JobStatus.COMPLETED, when
    db.session.commit()


def test_an_approved_visit_with_nothing_collected_is_a_discrepancy(client, office):
    company, headers = office
    tech = make_technician(company, name="钱师傅")
    unpaid = _job(company, tech, chargeable=True)
    make_quote(unpaid)
    _complete(unpaid, at(10, 14, 16))
    unsigned = _job(company, tech, chargeable=True)  # approved on paper, never signed: not money owed
    make_quote(unsigned, signed=False)
    _complete(unsigned, at(10, 14, 17))
    body = client.get("/api/v1/daily-close?day=2025-10-14", headers=headers[D]).get_json()
    assert body["reconciled"] is False and body["total_cents"] == 0
    (line,) = body["technicians"]
    assert line["technician_name"] == "钱师傅" and line["collections"] == 0
    assert line["problems"] == [f"job {unpaid.ref}: completed with an approved quote of ¥95.00; nothing collected"]
    assert client.get("/api/v1/daily-close?day=2025-10-15", headers=headers[D]).get_json()["reconciled"] is True
    # Collected the next day: that day reconciles, the 14th still shows what was owed at its end,
    # and the month (judged at its end) no longer lists it.
    quote = db.session.execute(db.select(Quote).where(Quote.job_id == unpaid.id)).scalar_one()
    _fee(unpaid, quote, 9500, at(10, 15, 9))
    assert client.get("/api/v1/daily-close?day=2025-10-15", headers=headers[D]).get_json()["reconciled"] is True
    assert client.get("/api/v1/daily-close?day=2025-10-14", headers=headers[D]).get_json()["reconciled"] is False
    month = client.get("/api/v1/daily-close/month?month=2025-10", headers=headers[D]).get_json()
    assert month["reconciled"] is True and month["total_cents"] == 9500


def test_month_view_totals_per_local_day_and_technician_with_every_discrepancy(client, office):
    company, headers = office
    qian, sun = make_technician(company, name="钱师傅"), make_technician(company, name="孙师傅")
    in_parts = _job(company, qian, chargeable=True)
    quote, _ = make_quote(in_parts)  # 95.00, paid 50 on the 3rd and 45 on the 4th: reconciled by the month's end
    _fee(in_parts, quote, 5000, at(10, 3, 10), method="wechat")
    _fee(in_parts, quote, 4500, at(10, 4, 10))
    short = _job(company, sun, chargeable=True)
    short_quote, _ = make_quote(short)
    _fee(short, short_quote, 9000, at(10, 31, 23, 30))  # 23:30 local on the 31st: still October
    no_quote = _job(company, sun)
    _fee(no_quote, None, 2000, at(10, 3, 11))
    _fee(no_quote, None, 7000, at(11, 1, 0, 30))  # 00:30 local on 1 November (16:30 UTC on the 31st): November
    unpaid = _job(company, qian, chargeable=True)
    make_quote(unpaid)
    _complete(unpaid, at(10, 20, 15))

    # The day's close judges the part payment at the end of the 3rd: outstanding then.
    day3 = client.get("/api/v1/daily-close?day=2025-10-03", headers=headers[D]).get_json()
    assert "¥45.00 outstanding" in " ".join(p for t in day3["technicians"] for p in t["problems"])

    body = client.get("/api/v1/daily-close/month?month=2025-10", headers=headers[D]).get_json()
    assert body["month"] == "2025-10" and len(body["days"]) == 31
    assert body["total_cents"] == 5000 + 4500 + 9000 + 2000 and body["collections"] == 4
    days = {d["day"]: d for d in body["days"]}
    assert days["2025-10-03"] == {"day": "2025-10-03", "collections": 2, "total_cents": 7000, "discrepancies": 1}
    assert days["2025-10-04"]["total_cents"] == 4500 and days["2025-10-04"]["discrepancies"] == 0
    assert days["2025-10-31"]["total_cents"] == 9000 and days["2025-10-31"]["discrepancies"] == 1
    assert days["2025-10-20"] == {"day": "2025-10-20", "collections": 0, "total_cents": 0, "discrepancies": 1}
    techs = {t["technician_name"]: t for t in body["technicians"]}
    assert techs["钱师傅"]["by_day"] == {"2025-10-03": 5000, "2025-10-04": 4500} and techs["钱师傅"]["discrepancies"] == 1
    assert techs["孙师傅"]["total_cents"] == 11000 and techs["孙师傅"]["discrepancies"] == 2
    kinds = {(d["kind"], d["job_ref"]) for d in body["discrepancies"]}
    assert kinds == {("amount_differs", short.ref), ("no_quote", no_quote.ref), ("not_collected", unpaid.ref)}
    assert body["reconciled"] is False
    short_line = next(d for d in body["discrepancies"] if d["kind"] == "amount_differs")
    assert (short_line["collected_cents"], short_line["approved_cents"], short_line["day"]) == (9000, 9500, "2025-10-31")

    november = client.get("/api/v1/daily-close/month?month=2025-11", headers=headers[D]).get_json()
    assert november["total_cents"] == 7000 and len(november["days"]) == 30


def test_month_view_refuses_bad_months_and_other_roles(client, office):
    _, headers = office
    for bad in ("2025-13", "2025-1", "october"):
        resp = client.get(f"/api/v1/daily-close/month?month={bad}", headers=headers[D])
        assert resp.status_code == 422 and "month" in resp.get_json()["errors"]["query"]
    assert client.get("/api/v1/daily-close/month", headers=headers[D]).status_code == 200  # this month
    assert client.get("/api/v1/daily-close/month", headers=headers[Role.TECHNICIAN]).status_code == 403
