"""The notification outbox and its sender (R2), outage notices to a district's customers (R13)."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from server.auth.models import Role
from server.customers.models import Premises
from server.db import utcnow
from server.extensions import db
from server.notifications.models import Notification, NotificationStatus, OutageNotice
from server.notifications.service import (
    RecordingSender,
    dispatch_notifications,
    outages_for_districts,
    queue_notification,
)
from tests.factories import make_household

D = Role.DISPATCHER


def test_queued_notifications_are_sent_once(ctx, make_company):
    company = make_company()
    customer = make_household(company)
    note = queue_notification(company.id, kind="running_late", body="师傅预计 15:20 到达", customer=customer)
    db.session.commit()
    assert note.recipient == customer.phone and note.status == NotificationStatus.QUEUED
    sender = RecordingSender()
    assert dispatch_notifications(sender).sent == 1
    assert dispatch_notifications(sender).sent == 0  # nothing left: never sent twice
    db.session.refresh(note)
    assert note.status == NotificationStatus.SENT and note.attempts == 1 and note.sent_at is not None
    assert [(m.recipient, m.body) for m in sender.sent] == [(customer.phone, "师傅预计 15:20 到达")]


def test_a_failing_send_is_retried_with_a_pause_then_given_up(ctx, make_company):
    company = make_company()
    customer = make_household(company)
    note = queue_notification(company.id, kind="rescheduled", body="预约改期", customer=customer)
    db.session.commit()
    sender = RecordingSender(failing={customer.phone})
    t0 = utcnow()
    summary = dispatch_notifications(sender, max_attempts=3, now=t0)
    assert (summary.sent, summary.retrying, summary.failed) == (0, 1, 0)
    db.session.refresh(note)
    assert note.status == NotificationStatus.QUEUED and note.attempts == 1 and "refused" in note.error
    # Too soon for the next attempt: the pause (1 min, then 2) has not passed.
    assert dispatch_notifications(sender, max_attempts=3, now=t0 + dt.timedelta(seconds=30)).retrying == 0
    assert dispatch_notifications(sender, max_attempts=3, now=t0 + dt.timedelta(minutes=1)).retrying == 1
    summary = dispatch_notifications(sender, max_attempts=3, now=t0 + dt.timedelta(minutes=4))
    assert summary.failed == 1
    db.session.refresh(note)
    assert note.status == NotificationStatus.FAILED and note.attempts == 3
    assert dispatch_notifications(RecordingSender(), now=t0 + dt.timedelta(hours=1)).sent == 0  # given up stays so


def test_one_failing_recipient_does_not_block_the_others(ctx, make_company):
    company = make_company()
    bad, good = make_household(company), make_household(company)
    queue_notification(company.id, kind="outage", body="停气", customer=bad)
    queue_notification(company.id, kind="outage", body="停气", customer=good)
    db.session.commit()
    sender = RecordingSender(failing={bad.phone})
    summary = dispatch_notifications(sender)
    assert (summary.sent, summary.retrying) == (1, 1)
    assert [m.recipient for m in sender.sent] == [good.phone]


def test_a_customer_without_a_phone_is_failed_at_once_for_the_office(ctx, make_company):
    company = make_company()
    customer = make_household(company)
    customer.phone = ""
    note = queue_notification(company.id, kind="cancelled", body="预约取消", customer=customer)
    db.session.commit()
    assert note.status == NotificationStatus.FAILED and "no phone" in note.error


def test_list_notifications_filters_and_is_scoped(client, dispatcher, make_company, make_user, login):
    company, _, headers = dispatcher
    customer = make_household(company)
    queue_notification(company.id, kind="running_late", body="晚到", customer=customer)
    queue_notification(company.id, kind="outage", body="停气", customer=customer)
    db.session.commit()
    dispatch_notifications(RecordingSender(), company_id=company.id, limit=1)
    body = client.get("/api/v1/notifications", headers=headers).get_json()
    assert body["total"] == 2
    queued = client.get("/api/v1/notifications?status=queued", headers=headers).get_json()["items"]
    assert len(queued) == 1 and queued[0]["attempts"] == 0
    assert client.get("/api/v1/notifications?kind=outage", headers=headers).get_json()["total"] == 1
    other = make_company("other-co")
    make_user(other, D, "other-disp")
    assert client.get("/api/v1/notifications", headers=login("other-disp")).get_json()["total"] == 0
    make_user(company, Role.TECHNICIAN, "tech-n")
    assert client.get("/api/v1/notifications", headers=login("tech-n")).status_code == 403


def test_an_outage_notifies_every_customer_of_the_district_once(client, dispatcher):
    company, _, headers = dispatcher
    inside = [make_household(company) for _ in range(3)]
    two_homes = inside[0]
    db.session.add(Premises(company_id=company.id, customer_id=two_homes.id, address="第二处住所",
                            district="浦东新区", lat=31.2, lon=121.5))
    outside = make_household(company)
    outside.premises[0].district = "徐汇区"
    db.session.commit()
    start = utcnow() + dt.timedelta(days=2)
    resp = client.post("/api/v1/outages", headers=headers, json={
        "district": "浦东新区", "area_description": "测试路 1–99 号", "reason": "主管网改造",
        "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=6)).isoformat(),
    })
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["notified"] == 3
    sent = db.session.query(Notification).filter_by(kind="outage").all()
    assert sorted(n.customer_id for n in sent) == sorted(c.id for c in inside)  # one each, the outsider none
    assert all("浦东新区" in n.body and "停止供气" in n.body for n in sent)
    listed = client.get("/api/v1/outages?district=浦东新区&current=true", headers=headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["announced_at"]
    # Technicians working in the district see it (the sync scope uses this query).
    assert [o.district for o in outages_for_districts(company.id, {"浦东新区", "徐汇区"})] == ["浦东新区"]
    assert outages_for_districts(company.id, {"徐汇区"}) == []


def test_an_outage_must_be_announced_in_advance_and_be_well_formed(client, dispatcher):
    company, _, headers = dispatcher
    make_household(company)
    now = utcnow()
    cases = [
        ({"starts_at": (now - dt.timedelta(hours=1)).isoformat(), "ends_at": (now + dt.timedelta(hours=2)).isoformat()},
         "starts_at"),
        ({"starts_at": (now + dt.timedelta(hours=3)).isoformat(), "ends_at": (now + dt.timedelta(hours=2)).isoformat()},
         "ends_at"),
        ({"starts_at": "2026-12-01T08:00:00", "ends_at": (now + dt.timedelta(days=9)).isoformat()}, "starts_at"),
    ]
    for times, field in cases:
        resp = client.post("/api/v1/outages", headers=headers, json={"district": "浦东新区", **times})
        assert resp.status_code == 422 and field in resp.get_json()["errors"]["json"], resp.get_json()
    assert db.session.query(OutageNotice).count() == 0 and db.session.query(Notification).count() == 0


def test_send_notifications_command(ctx, make_company, app, monkeypatch):
    company = make_company()
    customer = make_household(company)
    queue_notification(company.id, kind="outage", body="明日停气", customer=customer)
    db.session.commit()
    from server import cli

    monkeypatch.setattr("server.create_app", lambda *a, **k: app)
    result = CliRunner().invoke(cli.main, ["send-notifications"])
    assert result.exit_code == 0, result.output
    assert f"sms → {customer.phone}: 明日停气" in result.output and "sent 1" in result.output
    db.session.expire_all()
    assert db.session.query(Notification).one().status == NotificationStatus.SENT
