"""The console's tablets page: the company's tablets with technician, last contact in local time, clock
offset, open conflicts and status; a dispatcher reports a lost tablet (revoke and erase) after a
confirmation saying what is lost, or revokes one without erasing it; the API's roles, CSRF and tenancy."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.db import AuditEntry
from server.extensions import db
from server.sync.models import Device, SyncConflict
from tests.factories import in_hours, make_household, make_job
from tests.fixtures.sync import mutation

SH = ZoneInfo("Asia/Shanghai")


def text(resp) -> str:
    return resp.get_data(as_text=True)


def row(page: str, device_id: str) -> str:
    """The tablets table row of one device (its HTML)."""
    found = re.search(rf'<tr class="tablet[^"]*" data-device="{re.escape(device_id)}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row for {device_id}"
    return found.group(0)


def status(page: str, device_id: str) -> str:
    return re.search(r'data-status="(\w+)"', row(page, device_id)).group(1)


def _note(job, words: str) -> dict:
    return mutation("note", uuid.uuid4(), "create", job_id=str(job.id), text=words, author_name="李师傅",
                    written_at=dt.datetime.now(dt.UTC).isoformat())


def _device(device_id: str) -> Device:
    db.session.expire_all()
    return db.session.execute(sa.select(Device).where(Device.device_id == device_id)).scalar_one()


def synced_tablet(console, make_tablet, username: str = "tech-lost", name: str = "孙师傅"):
    """A technician's tablet that pushed two notes, its clock 185 s behind the server's."""
    tablet = make_tablet(console.company, username, name=name)
    job = make_job(console.company, make_household(console.company), technician=tablet.technician,
                   window_start=in_hours(1))
    resp = tablet.push([_note(job, "一"), _note(job, "二")],
                       device_time=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=185))
    assert resp.status_code == 200, resp.get_json()
    return tablet, job


def test_the_page_lists_the_companys_tablets_with_last_contact_in_local_time(console, make_tablet, make_company):
    tablet, job = synced_tablet(console, make_tablet)
    fresh = make_tablet(console.company, "tech-new", name="周师傅")  # signed in, never synced
    out = make_tablet(console.company, "tech-out", name="吴师傅")
    assert out.pull(cursor=None).status_code == 200
    assert out.client.post("/api/v1/auth/logout", headers=out.headers).status_code == 204
    foreign = make_tablet(make_company("other-co"), "tech-foreign")
    assert foreign.pull(cursor=None).status_code == 200
    db.session.add(SyncConflict(company_id=console.company.id, collection="job", row_id=str(job.id), field="priority",
                                server_value=1, device_value=2, rule="plan_owned_by_dispatch",
                                device_id=tablet.device_id, job_id=job.id))
    db.session.commit()

    page = text(console.get("/console/devices"))
    assert 'href="/console/devices"' in page and "平板管理" in page  # the nav link
    mine = row(page, tablet.device_id)
    seen = _device(tablet.device_id).last_seen_at.astimezone(SH).strftime("%m-%d %H:%M")
    assert "孙师傅" in mine and seen in mine
    assert re.search(r"慢 3 分 \d+ 秒", mine), mine  # the tablet's clock, 185 s behind
    assert '<a href="/console/conflicts">1</a>' in mine
    assert status(page, tablet.device_id) == "active" and "上报遗失：注销并擦除</button>" in mine
    assert "仅注销，不擦除</button>" in mine
    assert status(page, fresh.device_id) == "active" and "已登录，从未同步" in row(page, fresh.device_id)
    assert "周师傅" in row(page, fresh.device_id)
    # A plain sign-out is not a revocation.
    assert status(page, out.device_id) == "signed_out" and "吴师傅" in row(page, out.device_id)
    assert foreign.device_id not in page
    english = text(console.post("/console/lang", data={"lang": "en", "next": "/console/devices"},
                                follow_redirects=True))
    assert "Tablets" in english and re.search(r"3 min \d+ s behind", row(english, tablet.device_id))


def test_report_lost_confirms_what_is_lost_then_revokes_and_orders_the_erase(console, make_tablet):
    tablet, job = synced_tablet(console, make_tablet)
    seen = _device(tablet.device_id).last_seen_at.astimezone(SH).strftime("%m-%d %H:%M")
    confirm = text(console.get(f"/console/devices/confirm?device={tablet.device_id}&erase=1"))
    # The confirmation says plainly what is lost: whatever was captured after the last contact.
    assert f"该平板最后一次联系服务器是 {seen}。此后在平板上记录的一切" in confirm and "永久丢失" in confirm
    assert 'name="erase" value="1"' in confirm and _device(tablet.device_id).wipe is False  # nothing done yet

    resp = console.post("/console/devices/revoke", data={"device_id": tablet.device_id, "erase": "1"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/console/devices?shown={tablet.device_id}")
    page = text(console.get(resp.headers["Location"]))
    assert f"平板 {tablet.device_id} 已上报遗失：注销 1 个登录" in page
    received = re.search(r'<section class="card" id="received".*?</section>', page, re.S).group(0)
    assert f"服务器最后收到平板 {tablet.device_id} 的内容" in received and seen in received
    assert '<td class="received-count">2</td>' in received and "已接收" in received
    assert f"{seen} 之后在该平板上记录的内容从未到达服务器" in received
    assert status(page, tablet.device_id) == "wipe_ordered" and "<button" not in row(page, tablet.device_id)
    device = _device(tablet.device_id)
    assert device.wipe and device.revoked_at is not None
    # The tablet is told to erase itself at its next contact, and the audit log says who did it.
    resp = tablet.push([_note(job, "三")])
    assert resp.status_code == 401 and resp.get_json()["details"]["wipe"] is True
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "revoke")).scalar_one()
    assert entry.entity_id == str(device.id) and entry.actor_name == "con-disp" and entry.changes["wipe"] == [False, True]


def test_revoke_without_erase_signs_the_tablet_out_and_keeps_its_data(console, make_tablet, login):
    tablet, _ = synced_tablet(console, make_tablet)
    confirm = text(console.get(f"/console/devices/confirm?device={tablet.device_id}&erase=0"))
    assert "数据留在平板上，不会丢失" in confirm and "永久丢失" not in confirm
    resp = console.post("/console/devices/revoke", data={"device_id": tablet.device_id, "erase": "0"},
                        follow_redirects=True)
    page = text(resp)
    assert resp.status_code == 200 and f"平板 {tablet.device_id} 已注销 1 个登录，数据保留在平板上。" in page
    assert "仍在平板上，重新登录后会同步" in page
    assert status(page, tablet.device_id) == "revoked"
    assert _device(tablet.device_id).wipe is False
    resp = tablet.pull(cursor=None)
    assert resp.status_code == 401 and resp.get_json()["details"]["wipe"] is False
    # Handed to another technician (or signed in again): active, and it syncs.
    again = login(tablet.user.username, device_id=tablet.device_id)
    resp = tablet.client.post("/api/v1/sync/pull", json={"protocol_version": 1},
                              headers={**again, "X-Fieldsync-Protocol": "1"})
    assert resp.status_code == 200
    assert status(text(console.get("/console/devices")), tablet.device_id) == "active"


def test_customer_service_sees_the_tablets_but_cannot_revoke(console, console_service, make_tablet):
    tablet, _ = synced_tablet(console, make_tablet)
    page = text(console_service.get("/console/devices"))
    assert status(page, tablet.device_id) == "active"
    assert "上报遗失：注销并擦除</button>" not in page and "仅注销，不擦除</button>" not in page
    assert "/console/devices/confirm" not in page and "<button" not in row(page, tablet.device_id)
    assert console_service.get(f"/console/devices/confirm?device={tablet.device_id}").status_code == 403
    resp = console_service.post("/console/devices/revoke", data={"device_id": tablet.device_id, "erase": "1"})
    assert resp.status_code == 403 and "您的角色不能执行此操作" in text(resp)
    assert _device(tablet.device_id).wipe is False and tablet.pull(cursor=None).status_code == 200


def test_a_revoke_without_the_csrf_token_is_refused(console, make_tablet):
    tablet, _ = synced_tablet(console, make_tablet)
    resp = console.client.post("/console/devices/revoke", data={"device_id": tablet.device_id, "erase": "1"})
    assert resp.status_code == 400 and "表单已过期或来源不明" in text(resp)
    resp = console.client.post("/console/devices/revoke", data={"device_id": tablet.device_id, "erase": "1",
                                                                "csrf_token": "forged"})
    assert resp.status_code == 400
    assert _device(tablet.device_id).wipe is False and tablet.pull(cursor=None).status_code == 200


def test_another_companys_tablet_is_not_found(console, make_tablet, make_company):
    foreign = make_tablet(make_company("other-co"), "tech-foreign")
    assert foreign.pull(cursor=None).status_code == 200
    assert console.get(f"/console/devices/confirm?device={foreign.device_id}").status_code == 404
    resp = console.post("/console/devices/revoke", data={"device_id": foreign.device_id, "erase": "1"})
    assert resp.status_code == 404 and "记录不存在" in text(resp)
    assert console.post("/console/devices/revoke", data={"device_id": "no-such-tablet"}).status_code == 404
    page = text(console.get(f"/console/devices?shown={foreign.device_id}"))
    assert 'id="received"' not in page
    assert _device(foreign.device_id).wipe is False and foreign.pull(cursor=None).status_code == 200


def test_an_admin_may_revoke_as_with_the_api(app, console, make_user, make_tablet):
    from server.auth.models import Role
    from tests.conftest import PASSWORD
    from tests.fixtures.console import Console

    tablet, _ = synced_tablet(console, make_tablet)
    make_user(console.company, Role.ADMIN, "con-admin")
    admin = Console(app.test_client(), console.company, console.user)
    assert admin.sign_in("con-admin", PASSWORD).status_code == 303
    admin.refresh_csrf()
    assert "上报遗失：注销并擦除</button>" in row(text(admin.get("/console/devices")), tablet.device_id)
    resp = admin.post("/console/devices/revoke", data={"device_id": tablet.device_id, "erase": "1"})
    assert resp.status_code == 303 and _device(tablet.device_id).wipe is True
