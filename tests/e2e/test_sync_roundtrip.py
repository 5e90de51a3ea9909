"""The round trip with real parts: the server on loopback, the tablet's SQLite store, the requests
transport and sync-core's engine. Runs on SQLite, and on PostgreSQL when FIELDSYNC_TEST_DATABASE_URL
is set: a technician's day is pulled, edits pushed, a dispatcher's change merged, a conflict
recorded and visible at /api/v1/conflicts."""

from __future__ import annotations

import datetime as dt
import hashlib

import requests

from mobile.store import DeviceStore
from mobile.transport import HttpTransport, login
from server.auth.models import Role
from server.extensions import db
from server.jobs.models import Job
from server.visits.models import Note, Signature, VisitEvent
from sync.engine import SyncEngine
from sync.records import Op
from tests.conftest import PASSWORD
from tests.factories import in_hours, make_household, make_job, make_technician_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))


def test_a_day_round_trips_through_the_real_server(live_server, make_company, make_user, blobstore, tmp_path):
    company = make_company("e2e-co")
    user, tech = make_technician_user(company, "e2e-tech")
    customer = make_household(company, name="孙丽")
    customer.id_number = "310101198001010000"
    db.session.commit()
    job = make_job(company, customer, technician=tech, window_start=in_hours(1))
    later = make_job(company, make_household(company), technician=tech, window_start=in_hours(3))
    make_user(company, Role.DISPATCHER, "e2e-disp")

    token = login(live_server, "e2e-tech", PASSWORD, "e2e-tablet")["access_token"]
    store = DeviceStore(tmp_path / "tablet.sqlite")
    engine = SyncEngine(store, HttpTransport(live_server, token, "e2e-tablet"), page_size=3)

    # Morning: the day arrives, in pages.
    report = engine.sync()
    assert report.complete, report.error
    assert report.pages > 1
    assert {j["id"] for j in store.all("job")} == {str(job.id), str(later.id)}
    assert store.get("customer", str(customer.id))["name"] == "孙丽"
    assert "id_number" not in store.get("customer", str(customer.id))

    # On the way and on site, offline: status steps, a note, an arrival, a signed cleanup.
    seen = store.get("job", str(job.id))
    store.update("job", str(job.id), {"status": "en_route"})
    store.update("job", str(job.id), {"route_order": 5})
    store.create("note", {"job_id": str(job.id), "text": "门口有狗", "author_name": "李师傅",
                          "written_at": dt.datetime.now(dt.UTC).isoformat()})
    store.create("visit_event", {"job_id": str(job.id), "kind": "arrived",
                                 "at": dt.datetime.now(dt.UTC).isoformat()})
    sha = hashlib.sha256(PNG).hexdigest()
    store.write("signature", "8b0c4b3e-1c7f-4a6e-9d51-0f6a8a6c2f11",
                {"job_id": str(job.id), "purpose": "cleanup", "content_hash": "d" * 64, "signer_name": "孙丽",
                 "image_sha256": sha, "signed_at": dt.datetime.now(dt.UTC).isoformat()},
                op=Op.CREATE, blobs=[(PNG, "image/png")])

    # Meanwhile the dispatcher changes the job's description and its place in the route.
    office = db.session.get(Job, job.id)
    office.description = "客户要求先检查热水器"
    office.route_order = 9
    db.session.commit()

    report = engine.sync()
    assert report.complete, report.error
    assert not report.parked, [(r.reason, r.message) for r in report.parked]
    assert report.count("conflict") == 1 and report.conflicts[0].field == "route_order"
    mine = store.get("job", str(job.id))
    assert mine["status"] == "en_route"  # the device's step, merged with ...
    assert mine["description"] == "客户要求先检查热水器"  # ... the office's newer field
    assert mine["route_order"] == 9 and seen["route_order"] != 9  # dispatch wins a plan field
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == "en_route"
    assert db.session.query(Note).filter_by(job_id=job.id).one().text == "门口有狗"
    assert db.session.query(VisitEvent).one().clock_offset_s is not None
    assert db.session.query(Signature).one().image_sha256 == sha
    assert blobstore.get(str(company.id), sha) == PNG

    # A dispatcher sees the conflict and who made it.
    disp = requests.post(f"{live_server}/api/v1/auth/login", json={"username": "e2e-disp", "password": PASSWORD},
                         timeout=10).json()["access_token"]
    page = requests.get(f"{live_server}/api/v1/conflicts", headers={"Authorization": f"Bearer {disp}"},
                        timeout=10).json()
    assert page["total"] == 1
    conflict = page["items"][0]
    assert (conflict["field"], conflict["server_value"], conflict["device_value"]) == ("route_order", 9, 5)
    assert conflict["device_id"] == "e2e-tablet" and conflict["job_id"] == str(job.id)

    # Quiet: a further sync changes nothing and the tablet equals the server (G3).
    report = engine.sync()
    assert report.complete and report.pulled_rows == 0 and store.pending_count() == 0
    other = login(live_server, "e2e-tech", PASSWORD, "e2e-check")["access_token"]
    fresh = requests.post(f"{live_server}/api/v1/sync/pull", json={"protocol_version": 1, "limit": 2000},
                          headers={"Authorization": f"Bearer {other}"}, timeout=10).json()
    assert not fresh["has_more"] and len(fresh["rows"]) > 10
    for row in fresh["rows"]:
        local = store.get(row["collection"], row["id"])
        assert local is not None, row
        assert {k: local.get(k) for k in row["data"]} == row["data"], row["collection"]
    store.close()


def test_a_page_that_fails_to_apply_while_the_next_is_on_its_way_costs_a_restart_not_a_row(
        live_server, make_company, blobstore, tmp_path):
    """The engine asks for page n+1 while it writes page n. When writing page n fails (the tablet's
    disk, a crash), the server has already served n+1; the next sync must not skip what page n held."""
    company = make_company("prefetch-co")
    _user, tech = make_technician_user(company, "prefetch-tech")
    jobs = {str(make_job(company, make_household(company), technician=tech, window_start=in_hours(1 + i)).id)
            for i in range(9)}
    token = login(live_server, "prefetch-tech", PASSWORD, "prefetch-tablet")["access_token"]
    store = DeviceStore(tmp_path / "tablet.sqlite")
    transport = HttpTransport(live_server, token, "prefetch-tablet")
    sent_ahead: list[str | None] = []
    begin = transport.begin_pull
    transport.begin_pull = lambda cursor, limit: (sent_ahead.append(cursor), begin(cursor, limit))[1]
    apply_page, applied = store.apply_page, []

    def failing_third_page(page):
        if len(applied) == 2:
            raise OSError("disk full")
        applied.append(page.cursor)
        return apply_page(page)

    store.apply_page = failing_third_page
    engine = SyncEngine(store, transport, page_size=4)
    try:
        engine.sync()
        raise AssertionError("the third page's failure should end the sync")
    except OSError:
        pass
    assert len(sent_ahead) == 3  # the fourth page was asked for before the third failed
    assert {j["id"] for j in store.all("job")} < jobs  # two pages on the tablet, not the third

    store.apply_page = apply_page
    report = engine.sync()
    assert report.complete, report.error
    assert {j["id"] for j in store.all("job")} == jobs
    fresh = DeviceStore(tmp_path / "fresh.sqlite")
    fresh_token = login(live_server, "prefetch-tech", PASSWORD, "fresh-tablet")["access_token"]
    assert SyncEngine(fresh, HttpTransport(live_server, fresh_token, "fresh-tablet"), page_size=4).sync().complete
    for collection in ("job", "customer", "premises", "meter"):
        assert sorted(map(str, store.all(collection)), key=str) == sorted(map(str, fresh.all(collection)), key=str)
    transport.close()
