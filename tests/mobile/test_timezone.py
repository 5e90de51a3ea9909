"""The company's time zone comes from the server at sign-in and every window on the tablet uses it."""

from __future__ import annotations

import datetime as dt

import requests

from mobile.demo import load_demo
from mobile.session import Session
from mobile.store import DeviceStore
from mobile.viewmodels.base import DEFAULT_TZ, company_zone
from mobile.viewmodels.job import JobDetailViewModel
from mobile.viewmodels.route import RouteViewModel
from server.extensions import db
from server.org.models import Company
from tests.conftest import PASSWORD

DAY = dt.date(2026, 11, 27)


def _store(tmp_path, zone: str | None) -> DeviceStore:
    store = DeviceStore(tmp_path / f"{zone or 'none'}.sqlite".replace("/", "_"))
    load_demo(store, jobs=3, day=DAY)  # windows from 08:30 Shanghai time (00:30 UTC)
    store.set_meta(timezone=zone)
    return store


def test_windows_and_dates_follow_the_company_zone(tmp_path):
    noon_utc = dt.datetime(2026, 11, 27, 4, 0, tzinfo=dt.UTC)
    shanghai = RouteViewModel(_store(tmp_path, "Asia/Shanghai"), clock=lambda: noon_utc).load()
    urumqi_store = _store(tmp_path, "Asia/Urumqi")  # UTC+6: two hours behind Shanghai
    urumqi = RouteViewModel(urumqi_store, clock=lambda: noon_utc).load()
    assert shanghai[0].window == "08:30–10:30" and urumqi[0].window == "06:30–08:30"
    # The SLA countdown is the same instant whatever the zone.
    assert [c.sla_minutes for c in shanghai] == [c.sla_minutes for c in urumqi]
    job = JobDetailViewModel(urumqi_store, clock=lambda: noon_utc)
    assert job.hm("2026-11-27T00:30:00+00:00") == "06:30"
    assert job.day_hm("2026-11-26T19:00:00+00:00") == "2026-11-27 01:00"


def test_an_unknown_or_missing_zone_falls_back_to_the_default():
    assert company_zone(None).key == DEFAULT_TZ
    assert company_zone("Mars/Olympus_Mons").key == DEFAULT_TZ
    assert company_zone("Europe/Berlin").key == "Europe/Berlin"


def test_sign_in_stores_the_zone_the_server_sends(live_server, field_day, tmp_path):
    company = db.session.get(Company, field_day["company_id"])
    company.timezone = "Asia/Urumqi"
    db.session.commit()
    from mobile.transport import login

    store = DeviceStore(tmp_path / "device.sqlite")
    session = Session(store)
    answer = login(live_server, field_day["username"], PASSWORD, session.device_id)
    assert answer["user"]["timezone"] == "Asia/Urumqi"
    session.remember_login(live_server, answer["access_token"], answer["user"])
    assert store.get_meta("timezone") == "Asia/Urumqi"
    me = requests.get(f"{live_server}/api/v1/auth/me", headers={"Authorization": f"Bearer {answer['access_token']}"},
                      timeout=10)
    assert me.status_code == 200 and me.json()["timezone"] == "Asia/Urumqi"
    assert RouteViewModel(store).tz.key == "Asia/Urumqi"
    # A sign-in answer without a zone (an older server) keeps the zone already known.
    session.remember_login(live_server, answer["access_token"], {k: v for k, v in answer["user"].items()
                                                                 if k != "timezone"})
    assert store.get_meta("timezone") == "Asia/Urumqi"
    store.close()
