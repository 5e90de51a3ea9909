"""POST /api/v1/sync/push: exactly-once (G2), order (G5), scope (G7), late changes kept (G8), every rule
checked again on the server (G10), and a rejected mutation never sinks the batch."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.extensions import db
from server.jobs.models import Job
from server.sync.models import AppliedMutation, Device, SyncConflict
from server.visits.models import Note, VisitEvent
from sync.domain.jobs import JobStatus
from tests.factories import in_hours, make_household, make_job, make_technician
from tests.fixtures.sync import mutation
from tests.fixtures.visits import make_cleanup, make_quote


def _job(tablet, **kwargs) -> Job:
    customer = make_household(tablet.company)
    return make_job(tablet.company, customer, technician=tablet.technician, window_start=in_hours(1), **kwargs)


def _note(job: Job, text: str = "到了", **extra) -> dict:
    return mutation("note", uuid.uuid4(), "create", job_id=str(job.id), text=text, author_name="李师傅",
                    written_at=dt.datetime.now(dt.UTC).isoformat(), **extra)


def test_created_rows_are_stored_once_however_often_the_batch_is_sent(tablet):
    job = _job(tablet)
    batch = [_note(job, "一"), _note(job, "二")]
    first = tablet.push(batch)
    assert first.status_code == 200, first.get_json()
    results = first.get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert all(r["version"] and r["row"]["data"]["source"] == "device" for r in results)
    again = tablet.push(batch).get_json()["results"]
    assert [(r["status"], r["version"]) for r in again] == [(r["status"], r["version"]) for r in results]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppliedMutation)) == 2
    # The same id with another content is refused, not applied.
    reused = dict(batch[0], fields={**batch[0]["fields"], "text": "改了"})
    r = tablet.push([reused]).get_json()["results"][0]
    assert r["status"] == "rejected" and r["reason"] == "mutation_id_reused"
    assert db.session.scalar(sa.select(Note.text).where(Note.id == uuid.UUID(batch[0]["row_id"]))) == "一"


def test_a_bad_mutation_is_answered_alone_and_the_rest_applies_in_order(tablet):
    job = _job(tablet)
    note_id = uuid.uuid4()
    batch = [
        mutation("note", note_id, "create", job_id=str(job.id), text="先", author_name="李",
                 written_at=dt.datetime.now(dt.UTC).isoformat()),
        mutation("visit_event", uuid.uuid4(), "create", job_id=str(job.id), kind="arrived", at="not a time"),
        mutation("job", job.id, base_version=None, status="en_route"),  # an update without base_version
    ]
    resp = tablet.push(batch)
    assert resp.status_code == 422  # the whole request is malformed: nothing written
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
    batch[2] = dict(batch[2], base_version=job.version)
    results = tablet.push(batch).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"], results
    assert results[1]["reason"] == "invalid_value" and "at" in results[1]["message"]
    assert db.session.scalar(sa.select(Note.text).where(Note.id == note_id)) == "先"
    assert db.session.get(Job, job.id).status == JobStatus.EN_ROUTE


def test_forged_ids_and_office_fields_are_rejected_each_with_its_reason(tablet, make_company):
    job = _job(tablet)
    other_tech = make_technician(tablet.company, name="周师傅")
    theirs = make_job(tablet.company, make_household(tablet.company), technician=other_tech, window_start=in_hours(1))
    other_company = make_company("sync-other")
    foreign = make_job(other_company, make_household(other_company), window_start=in_hours(1))
    v = db.session.get(Job, job.id).version
    results = tablet.push([
        mutation("job", theirs.id, base_version=theirs.version, status="en_route"),
        _note(theirs),
        _note(foreign),
        mutation("job", job.id, base_version=v, technician_id=str(other_tech.id)),
        mutation("job", job.id, base_version=v, window_start=in_hours(5).isoformat()),
        mutation("job", job.id, base_version=v, status="closed"),
        mutation("visit_event", uuid.uuid4(), "create", job_id=str(job.id), kind="arrived",
                 at=dt.datetime.now(dt.UTC).isoformat(), technician_id=str(other_tech.id)),
        mutation("job", job.id, base_version=v, status="en_route"),
    ]).get_json()["results"]
    reasons = [r["reason"] for r in results]
    assert reasons[:7] == ["out_of_scope", "out_of_scope", "out_of_scope", "field_not_writable",
                           "field_not_writable", "illegal_transition", "invalid_value"]
    assert results[7]["status"] == "applied"
    assert db.session.get(Job, theirs.id).status == JobStatus.DISPATCHED
    assert db.session.get(Job, job.id).technician_id == tablet.technician.id


def _walk(tablet, job: Job, *statuses: str) -> list[dict]:
    out = []
    for status in statuses:
        v = db.session.get(Job, job.id).version
        db.session.expire_all()
        r = tablet.push([mutation("job", job.id, base_version=v, status=status)]).get_json()["results"][0]
        out.append(r)
    return out


def test_approval_before_chargeable_work_and_cleanup_before_completion(tablet):
    job = _job(tablet, chargeable=True)
    on_site, start = _walk(tablet, job, "on_site", "in_progress")
    assert on_site["status"] == "applied"
    assert start["status"] == "rejected" and start["reason"] == "approval_required"
    make_quote(db.session.get(Job, job.id))
    start, done = _walk(tablet, job, "in_progress", "completed")
    assert start["status"] == "applied"
    assert done["status"] == "rejected" and done["reason"] == "cleanup_required"
    make_cleanup(db.session.get(Job, job.id))
    (done,) = _walk(tablet, job, "completed")
    assert done["status"] == "applied"
    assert db.session.get(Job, job.id).status == JobStatus.COMPLETED


def test_a_stale_plan_edit_loses_to_dispatch_and_the_conflict_is_kept(tablet, dispatcher):
    job = _job(tablet)
    base = db.session.get(Job, job.id)
    base_version, base_order = base.version, base.route_order
    base.route_order = 7  # the dispatcher reorders meanwhile
    db.session.commit()
    r = tablet.push([mutation("job", job.id, base_version=base_version, route_order=2)]).get_json()["results"][0]
    assert r["status"] == "conflict" and r["reason"] == "plan_dispatch_wins"
    assert r["row"]["data"]["route_order"] == 7 and base_order != 7
    conflict = db.session.execute(sa.select(SyncConflict)).scalar_one()
    assert (conflict.field, conflict.server_value, conflict.device_value) == ("route_order", 7, 2)
    assert conflict.device_id == tablet.device_id and conflict.job_id == job.id


def test_a_late_change_to_a_job_reassigned_away_is_kept_as_a_conflict(tablet):
    job = _job(tablet)
    tablet.pull_all()
    other = make_technician(tablet.company, name="周师傅")
    db.session.get(Job, job.id).technician_id = other.id
    db.session.commit()
    r = tablet.push([_note(job, "客户不在家")]).get_json()["results"][0]
    assert r["status"] == "conflict" and r["reason"] == "reassigned_late_change"
    assert db.session.scalar(sa.select(Note.text)) == "客户不在家"
    conflict = db.session.execute(sa.select(SyncConflict)).scalar_one()
    assert conflict.rule == "reassigned_late_change" and conflict.assignee_role == "dispatcher"


def test_clock_offset_is_measured_and_corrects_visit_times(tablet):
    job = _job(tablet)
    slow = dt.timedelta(minutes=7)  # the tablet's clock is 7 minutes behind
    device_now = dt.datetime.now(dt.UTC) - slow
    arrived = device_now - dt.timedelta(minutes=1)
    local = dt.timezone(dt.timedelta(hours=8))  # the tablet writes Beijing time
    r = tablet.push([mutation("visit_event", uuid.uuid4(), "create", job_id=str(job.id), kind="arrived",
                              at=arrived.astimezone(local).isoformat())],
                    device_time=device_now).get_json()["results"][0]
    assert r["status"] == "applied"
    event = db.session.execute(sa.select(VisitEvent)).scalar_one()
    assert abs(event.clock_offset_s - slow.total_seconds()) < 5
    # The answer's row reads exactly as a later pull will send it (times in UTC, whatever the device sent).
    pulled = {(x["collection"], x["id"]): x for x in tablet.pull(cursor=None).get_json()["rows"]}
    assert pulled[("visit_event", r["row"]["id"])]["data"] == r["row"]["data"]
    assert abs((event.corrected_at - (arrived + slow)).total_seconds()) < 5
    assert event.received_at is not None
    device = db.session.execute(sa.select(Device)).scalar_one()
    assert abs(device.clock_offset_s - slow.total_seconds()) < 5


def test_an_old_protocol_gets_426_and_a_revoked_tablet_401_with_wipe(tablet, make_user, login, client):
    job = _job(tablet)
    resp = tablet.client.post("/api/v1/sync/push", headers=tablet.headers, json={
        "protocol_version": 99, "device_id": tablet.device_id, "device_time": dt.datetime.now(dt.UTC).isoformat(),
        "mutations": [_note(job)]})
    assert resp.status_code == 426
    body = resp.get_json()
    assert body["reason"] == "protocol_unsupported" and body["details"]["supported_versions"] == [1]
    pulled = tablet.pull(protocol_version=2)
    assert pulled.status_code == 426 and pulled.get_json()["reason"] == "protocol_unsupported"
    header = tablet.client.post("/api/v1/sync/pull", json={"protocol_version": 1},
                                headers={**tablet.headers, "X-Fieldsync-Protocol": "3"})
    assert header.status_code == 426
    disagree = tablet.client.post("/api/v1/sync/pull", json={"protocol_version": 2},
                                  headers={**tablet.headers, "X-Fieldsync-Protocol": "1"})
    assert disagree.status_code == 426 and disagree.headers["X-Fieldsync-Supported-Protocols"] == "1"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
    make_user(tablet.company, "dispatcher", "disp-sync")
    resp = client.post("/api/v1/auth/revoke-device", json={"device_id": tablet.device_id},
                       headers=login("disp-sync"))
    assert resp.status_code == 200 and resp.get_json()["revoked"] == 1
    resp = tablet.push([_note(job)])
    assert resp.status_code == 401
    assert resp.get_json()["reason"] == "device_revoked" and resp.get_json()["details"]["wipe"] is True


def test_an_id_taken_by_another_company_is_refused_alone(tablet, make_company):
    other = make_company("sync-x")
    their_job = make_job(other, make_household(other), window_start=in_hours(1))
    theirs = Note(company_id=other.id, job_id=their_job.id, author_name="x", source="office", text="秘密",
                  written_at=in_hours(0))
    db.session.add(theirs)
    db.session.commit()
    job = _job(tablet)
    clash = _note(job)
    clash["row_id"] = str(theirs.id)
    results = tablet.push([clash, _note(job, "正常")]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert results[0]["reason"] == "row_exists" and "秘密" not in str(results[0])
    db.session.expire_all()
    assert db.session.get(Note, theirs.id).text == "秘密"


def test_a_token_without_a_device_cannot_sync(tablet, login):
    headers = login(tablet.user.username)
    resp = tablet.client.post("/api/v1/sync/pull", json={"protocol_version": 1}, headers=headers)
    assert resp.status_code == 403 and resp.get_json()["reason"] == "device_token_required"


def test_a_cleanup_and_the_signature_it_names_apply_in_one_batch(tablet):
    # The cleanup screen saves both at once; PostgreSQL checks the foreign key at each insert, so the
    # signature must be written first whatever order the ORM would choose (a 500 before the fix).
    job = _job(tablet)
    _walk(tablet, job, "on_site", "in_progress")
    signature_id, now = uuid.uuid4(), dt.datetime.now(dt.UTC).isoformat()
    cleanup = mutation("cleanup_confirmation", uuid.uuid4(), "create", job_id=str(job.id),
                       checklist={"waste_removed": True}, customer_confirmed=True, method="signature",
                       signature_id=str(signature_id), confirmed_at=now)
    signature = mutation("signature", signature_id, "create", job_id=str(job.id), purpose="cleanup",
                         content_hash="0" * 64, signer_name="张伟", signed_at=now)
    resp = tablet.push([signature, cleanup])
    assert resp.status_code == 200, resp.get_json()
    assert [r["status"] for r in resp.get_json()["results"]] == ["applied", "applied"]
    (done,) = _walk(tablet, job, "completed")
    assert done["status"] == "applied"



def test_every_pushed_change_is_audited_once_with_who_what_and_which_device(tablet):
    """The push writes rows in bulk (server.db.write_synced_rows), not through the ORM: the audit log
    must still name the technician and the device for each change, with the values before and after."""
    from server.db import AuditEntry

    job = _job(tablet, status=JobStatus.DISPATCHED)
    other = make_job(tablet.company, make_household(tablet.company), technician=make_technician(tablet.company),
                     window_start=in_hours(1))
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0
    note = _note(job, "检查完毕")
    batch = [mutation("job", job.id, base_version=job.version, status="en_route"), note,
             mutation("job", other.id, base_version=other.version, status="en_route")]  # out of scope
    results = tablet.push(batch).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    entries = db.session.execute(sa.select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)).scalars().all()
    assert sorted((e.entity, e.entity_id, e.action) for e in entries) == sorted(
        [("job", str(job.id), "update"), ("note", note["row_id"], "create")])
    for e in entries:
        assert (e.actor_id, e.actor_name, e.device_id, e.company_id) == (
            tablet.user.id, tablet.user.username, tablet.device_id, tablet.company.id)
        assert e.at is not None
    update = next(e for e in entries if e.entity == "job")
    assert update.changes == {"status": ["dispatched", "en_route"]}
    # A replay, and a change to the value the row already has, are not changes: no entry, no new version.
    version = results[0]["version"]
    tablet.push(batch)
    same = mutation("job", job.id, base_version=version, status="en_route")
    again = tablet.push([same]).get_json()["results"][0]
    assert again["status"] in ("applied", "merged") and again["version"] == version
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.id > before)) == 2


def test_a_visit_completed_on_the_tablet_owes_the_customer_one_follow_up_call(tablet):
    """R6: whoever completes a visit, customer service gets a call to make — the tablet's completion
    arrives by push (bulk writer, not the ORM), and a replayed or repeated completion makes no second one."""
    from server.followups.models import FollowUpTask

    job = _job(tablet)
    _walk(tablet, job, "on_site", "in_progress")
    make_cleanup(db.session.get(Job, job.id))
    db.session.commit()
    before = dt.datetime.now(dt.UTC)
    (done,) = _walk(tablet, job, "completed")
    assert done["status"] == "applied", done
    db.session.expire_all()
    tasks = db.session.scalars(sa.select(FollowUpTask).where(FollowUpTask.job_id == job.id)).all()
    assert len(tasks) == 1 and tasks[0].customer_id == job.customer_id
    assert tasks[0].due_at > before  # the next working day, counted from when it was received
    (again,) = _walk(tablet, job, "completed")  # a second completion (another tablet's, say) changes nothing
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUpTask)
                             .where(FollowUpTask.job_id == job.id)) == 1


def test_a_hazard_promised_later_than_r16_allows_is_kept_with_the_rules_deadline(tablet):
    """G10 for R16: the tablet's deadline may be stricter than the rule's, never later; a later one is
    replaced by the rule's and the hazard is still recorded (a safety fact is never refused)."""
    from server.visits.models import Hazard
    from sync.domain.hazards import CRITICAL_RECTIFY_WITHIN, MINOR_RECTIFY_WITHIN

    job = _job(tablet)
    found = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def hazard(severity: str, rectify_by: dt.datetime) -> dict:
        return mutation("hazard", uuid.uuid4(), "create", job_id=str(job.id), customer_id=str(job.customer_id),
                        premises_id=str(job.premises_id), severity=severity, description="软管老化",
                        found_at=found.isoformat(), rectify_by=rectify_by.isoformat())

    late = hazard("critical", found + dt.timedelta(days=30))
    strict = hazard("minor", found + dt.timedelta(days=1))
    before = hazard("minor", found - dt.timedelta(hours=1))
    resp = tablet.push([late, strict, before]).get_json()["results"]
    assert [r["status"] for r in resp] == ["merged", "applied", "merged"], resp
    assert resp[0]["reason"] == "hazard_deadline_set" and "R16" in resp[0]["message"]
    db.session.expire_all()
    stored = {str(h.id): h.rectify_by for h in db.session.scalars(sa.select(Hazard)).all()}
    assert stored[late["row_id"]] == found + CRITICAL_RECTIFY_WITHIN
    assert stored[strict["row_id"]] == found + dt.timedelta(days=1)  # a stricter promise stands
    assert stored[before["row_id"]] == found + MINOR_RECTIFY_WITHIN
    assert dt.datetime.fromisoformat(resp[0]["row"]["data"]["rectify_by"]) == found + CRITICAL_RECTIFY_WITHIN


def test_meter_work_on_the_tablet_updates_the_household_file(tablet):
    """R12/R15: an exchange recorded on site (removal + install readings) puts the new serial on the
    meter, installed that day, verification due after the old meter's period, with its start reading;
    a reading sent late never replaces a newer one; the tablet pulls the changed meter."""
    from server.customers.models import Meter

    job = _job(tablet)
    meter = db.session.scalars(sa.select(Meter).where(Meter.premises_id == job.premises_id)).one()
    meter.installed_on, meter.calibration_due_on = dt.date(2016, 5, 1), dt.date(2026, 5, 1)
    db.session.commit()
    old_version, now = meter.version, dt.datetime.now(dt.UTC).replace(microsecond=0)

    def reading(kind: str, value: float, at: dt.datetime, **extra) -> dict:
        return mutation("meter_reading", uuid.uuid4(), "create", meter_id=str(meter.id), job_id=str(job.id),
                        kind=kind, reading=value, read_at=at.isoformat(), **extra)

    resp = tablet.push([reading("removal", 1234.5, now, serial_seen=meter.serial),
                        reading("install", 0.3, now, new_serial="JT26NEW0001")]).get_json()["results"]
    assert [r["status"] for r in resp] == ["applied", "applied"], resp
    db.session.expire_all()
    meter = db.session.get(Meter, meter.id)
    local_today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert (meter.serial, meter.installed_on, meter.last_reading) == ("JT26NEW0001", local_today, 0.3)
    assert meter.calibration_due_on == local_today + (dt.date(2026, 5, 1) - dt.date(2016, 5, 1))
    assert meter.version > old_version
    late = tablet.push([reading("routine", 999.0, now - dt.timedelta(days=2))]).get_json()["results"]
    assert late[0]["status"] == "applied"
    db.session.expire_all()
    assert db.session.get(Meter, meter.id).last_reading == 0.3  # the older reading did not win
    rows, _revoked = tablet.pull_all()
    assert rows[("meter", str(meter.id))]["data"]["serial"] == "JT26NEW0001"
