"""POST /api/v1/sync/pull: a technician's day arrives, and only that (G7, R5, R19); changes and
revocations follow with the cursor (G8, G9); an unapplied page is resent."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.checklists.models import ChecklistAnswer, ChecklistTemplate
from server.customers.models import Appliance, CustomerContact
from server.extensions import db
from server.jobs.models import Complaint, Job, JobStatus, JobType
from server.notifications.models import OutageNotice
from server.sync.models import DeviceScope
from server.visits.models import FeeCollection, Hazard, HazardSeverity, HazardStatus, Note, PriceItem
from tests.factories import in_hours, make_household, make_job, make_technician
from tests.fixtures.sync import Tablet, mutation


def _ids(rows: dict, collection: str) -> set[str]:
    return {i for c, i in rows if c == collection}


def _day(tablet: Tablet):
    """Two jobs today for the tablet's technician, one for another technician, one next week."""
    company = tablet.company
    mine = make_household(company, name="王芳")
    db.session.add(CustomerContact(company_id=company.id, customer_id=mine.id, name="王小明", phone="139"))
    db.session.add(Appliance(company_id=company.id, premises_id=mine.premises[0].id, kind="water_heater"))
    mine.id_number = "310101199001011234"
    db.session.commit()
    other_customer = make_household(company, name="赵六")
    later_customer = make_household(company, name="钱七")
    other = make_technician(company, name="周师傅")
    job = make_job(company, mine, technician=tablet.technician, window_start=in_hours(2))
    job2 = make_job(company, mine, technician=tablet.technician, window_start=in_hours(3), job_type=JobType.REPAIR)
    theirs = make_job(company, other_customer, technician=other, window_start=in_hours(2))
    later = make_job(company, later_customer, technician=tablet.technician, window_start=in_hours(24 * 8))
    return mine, job, job2, theirs, later


def test_first_pull_brings_the_day_and_nothing_else(tablet):
    mine, job, job2, theirs, later = _day(tablet)
    company = tablet.company
    db.session.add_all([
        PriceItem(company_id=company.id, code="P1", name="软管", kind="part", unit_price_cents=1500),
        ChecklistTemplate(company_id=company.id, code="insp", name="安检", job_type="safety_inspection", items=[]),
        ChecklistTemplate(company_id=company.id, code="inst", name="安装", job_type="installation", items=[]),
        ChecklistTemplate(company_id=company.id, code="insp0", name="旧安检", job_type="safety_inspection",
                          active=False, items=[]),
        OutageNotice(company_id=company.id, district="浦东新区", starts_at=in_hours(30), ends_at=in_hours(34)),
        OutageNotice(company_id=company.id, district="闵行区", starts_at=in_hours(30), ends_at=in_hours(34)),
        OutageNotice(company_id=company.id, district="浦东新区", starts_at=in_hours(-80), ends_at=in_hours(-76)),
        Note(company_id=company.id, job_id=job.id, author_name="调度", source="office", text="带梯子",
             written_at=in_hours(0)),
        Note(company_id=company.id, job_id=theirs.id, author_name="调度", source="office", text="别人的",
             written_at=in_hours(0)),
    ])
    db.session.commit()
    rows, revoked = tablet.pull_all()
    assert _ids(rows, "job") == {str(job.id), str(job2.id)}
    assert _ids(rows, "customer") == {str(mine.id)}
    assert _ids(rows, "premises") == {str(mine.premises[0].id)}
    assert len(_ids(rows, "meter")) == 1 and len(_ids(rows, "appliance")) == 1
    assert len(_ids(rows, "customer_contact")) == 1
    assert _ids(rows, "technician") == {str(tablet.technician.id)}
    assert len(_ids(rows, "price_item")) == 1
    assert {rows[k]["data"]["code"] for k in rows if k[0] == "checklist_template"} == {"insp"}
    assert len(_ids(rows, "outage_notice")) == 1
    assert {rows[k]["data"]["text"] for k in rows if k[0] == "note"} == {"带梯子"}
    customer = rows[("customer", str(mine.id))]["data"]
    assert "id_number" not in customer and customer["name"] == "王芳"
    assert revoked == []
    # Wire values are JSON: ids and times as strings with an offset.
    j = rows[("job", str(job.id))]
    assert j["data"]["customer_id"] == str(mine.id)
    assert dt.datetime.fromisoformat(j["data"]["window_start"]).tzinfo is not None
    assert j["version"] == db.session.get(Job, job.id).version


def test_no_complaint_details_reach_the_tablet(tablet):
    customer = make_household(tablet.company)
    complaint = Complaint(company_id=tablet.company.id, customer_id=customer.id, received_at=in_hours(-5),
                          complainant_name="匿名", complainant_phone="13900000000", summary="态度差",
                          details="投诉人说维修员迟到并且态度恶劣", answer_by=in_hours(100))
    db.session.add(complaint)
    db.session.commit()
    job = make_job(tablet.company, customer, technician=tablet.technician, window_start=in_hours(1),
                   job_type=JobType.COMPLAINT_VISIT)
    job.complaint_id = complaint.id
    db.session.commit()
    resp = tablet.pull()
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "投诉人说" not in text and "13900000000" not in text and "匿名" not in text


def test_open_hazards_of_the_premises_travel_fixed_ones_do_not(tablet):
    customer = make_household(tablet.company)
    old_job = make_job(tablet.company, customer, window_start=in_hours(-24 * 30))
    job = make_job(tablet.company, customer, technician=tablet.technician, window_start=in_hours(1))

    def hazard(status: HazardStatus) -> Hazard:
        h = Hazard(company_id=tablet.company.id, job_id=old_job.id, customer_id=customer.id,
                   premises_id=customer.premises[0].id, severity=HazardSeverity.MAJOR, description=str(status),
                   found_at=in_hours(-24 * 30), rectify_by=in_hours(-24 * 23), status=status)
        db.session.add(h)
        return h

    open_, fixed = hazard(HazardStatus.OPEN), hazard(HazardStatus.FIXED)
    db.session.commit()
    rows, _ = tablet.pull_all()
    assert _ids(rows, "hazard") == {str(open_.id)}
    assert str(job.id) in _ids(rows, "job") and str(old_job.id) not in _ids(rows, "job")
    # Fixed in the office: it leaves the tablet with the next pull.
    db.session.get(Hazard, open_.id).status = HazardStatus.FIXED
    db.session.commit()
    rows, revoked = tablet.pull_all()
    assert ("hazard", str(open_.id)) in revoked and fixed.id


def test_incremental_pull_sends_only_changes_and_reassignment_moves_whole_jobs(make_company, make_tablet):
    company = make_company("sync-b")
    a, b = make_tablet(company, "tech-ab"), make_tablet(company, "tech-bb")
    customer = make_household(company)
    job = make_job(company, customer, technician=a.technician, window_start=in_hours(2))
    note = Note(company_id=company.id, job_id=job.id, author_name="调度", source="office", text="旧",
                written_at=in_hours(0))
    db.session.add(note)
    db.session.commit()
    rows_a, _ = a.pull_all()
    rows_b, _ = b.pull_all()
    assert str(job.id) in _ids(rows_a, "job") and not _ids(rows_b, "job")

    # Nothing changed: an empty page.
    rows, revoked = a.pull_all()
    assert rows == {} and revoked == []

    # A dispatcher edits the note: only the note travels.
    db.session.get(Note, note.id).text = "新"
    db.session.commit()
    rows, revoked = a.pull_all()
    assert list(rows) == [("note", str(note.id))] and revoked == []

    # Reassigned to B: B receives the job with its customer, premises and note although their versions
    # are older than B's cursor; A is told to drop all of it (G8: the tablet drops it once its own
    # pending changes are acknowledged).
    db.session.get(Job, job.id).technician_id = b.technician.id
    db.session.commit()
    rows_b, revoked_b = b.pull_all()
    assert {("job", str(job.id)), ("customer", str(customer.id)), ("note", str(note.id)),
            ("premises", str(customer.premises[0].id))} <= set(rows_b)
    rows_a, revoked_a = a.pull_all()
    assert rows_a == {}
    assert {("job", str(job.id)), ("customer", str(customer.id)), ("note", str(note.id))} <= set(revoked_a)
    held = db.session.execute(sa.select(DeviceScope.held).where(DeviceScope.row_id == job.id)).scalars().all()
    assert sorted(held) == [False, True]  # A: was held; B: held


def test_pages_resume_and_an_unapplied_page_is_sent_again(tablet):
    for _ in range(4):
        customer = make_household(tablet.company)
        make_job(tablet.company, customer, technician=tablet.technician, window_start=in_hours(2))
    first = tablet.pull(cursor=None, limit=5).get_json()
    assert first["has_more"] and len(first["rows"]) == 5
    # The tablet crashed before applying the page: it asks again with its old (None) cursor.
    again = tablet.pull(cursor=None, limit=5).get_json()
    assert [r["id"] for r in again["rows"]] == [r["id"] for r in first["rows"]]
    seen = {(r["collection"], r["id"]) for r in again["rows"]}
    tablet.cursor = again["cursor"]
    # Page 2 was lost in transit: asking with page 1's cursor gives the same page 2.
    lost = tablet.pull(limit=5).get_json()
    retry = tablet.pull(limit=5).get_json()
    assert [r["id"] for r in retry["rows"]] == [r["id"] for r in lost["rows"]]
    tablet.cursor = retry["cursor"]
    seen |= {(r["collection"], r["id"]) for r in retry["rows"]}
    rows, _ = tablet.pull_all(limit=5)
    seen |= set(rows)
    assert len(_ids(dict.fromkeys(seen), "job")) == 4
    assert len(_ids(dict.fromkeys(seen), "customer")) == 4 and len(_ids(dict.fromkeys(seen), "meter")) == 4


def test_a_new_day_moves_the_window(tablet, monkeypatch):
    customer = make_household(tablet.company)
    yesterday = make_job(tablet.company, customer, technician=tablet.technician, window_start=in_hours(-20))
    rows, _ = tablet.pull_all()
    assert str(yesterday.id) in _ids(rows, "job")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    monkeypatch.setattr("server.sync.routes.utcnow", lambda: later)
    rows, revoked = tablet.pull_all()
    assert ("job", str(yesterday.id)) in revoked and ("customer", str(customer.id)) in revoked


def test_a_foreign_cursor_is_a_400_naming_the_field(tablet):
    resp = tablet.pull(cursor="c1.x.1")
    assert resp.status_code == 400 and resp.get_json()["reason"] == "bad_cursor"
    assert "cursor" in resp.get_json()["errors"]["json"]


def test_a_job_changing_type_brings_its_checklist_and_a_new_district_its_outage(tablet):
    from server.customers.models import Premises

    company = tablet.company
    customer = make_household(company)
    job = make_job(company, customer, technician=tablet.technician, window_start=in_hours(2))
    install = ChecklistTemplate(company_id=company.id, code="inst", name="安装", job_type="installation", items=[])
    outage = OutageNotice(company_id=company.id, district="闵行区", starts_at=in_hours(30), ends_at=in_hours(34))
    db.session.add_all([install, outage])
    db.session.commit()
    rows, _ = tablet.pull_all()
    assert not _ids(rows, "checklist_template") and not _ids(rows, "outage_notice")
    db.session.get(Job, job.id).job_type = JobType.INSTALLATION
    db.session.commit()
    rows, _ = tablet.pull_all()
    assert _ids(rows, "checklist_template") == {str(install.id)}
    db.session.get(Premises, customer.premises[0].id).district = "闵行区"
    db.session.commit()
    rows, _ = tablet.pull_all()
    assert _ids(rows, "outage_notice") == {str(outage.id)}


def test_another_tablets_cursor_starts_over(tablet, login, client):
    from tests.fixtures.sync import Tablet as T

    second = T(client, tablet.company, tablet.user, tablet.technician, "tablet-two",
               login(tablet.user.username, device_id="tablet-two"))
    second.pull_all()  # page 1 of the second tablet: nothing to hold yet
    job = make_job(tablet.company, make_household(tablet.company), technician=tablet.technician,
                   window_start=in_hours(2))
    tablet.pull_all()  # page 1 of the first tablet, after the job
    second.cursor = tablet.cursor  # copied from the first tablet: same page number, other holdings
    rows, _ = second.pull_all()
    assert ("job", str(job.id)) in rows and ("customer", str(job.customer_id)) in rows


# --- household_history: earlier visits at the households of the technician's jobs -------------------

def _finished(company, customer, *, days_ago: float, status: JobStatus = JobStatus.COMPLETED, technician=None,
              **values) -> Job:
    """An earlier job at ``customer``'s premises that ended ``days_ago`` days ago."""
    job = make_job(company, customer, technician=technician, window_start=in_hours(-24 * days_ago - 1),
                   status=status)
    when = in_hours(-24 * days_ago)
    job.arrived_at = when - dt.timedelta(minutes=40)
    if status in (JobStatus.COMPLETED, JobStatus.CLOSED):
        job.completed_at = when
    for name, value in values.items():
        setattr(job, name, value)
    db.session.commit()
    return job


def _history(rows: dict) -> dict[str, dict]:
    return {i: r for (c, i), r in rows.items() if c == "household_history"}


def test_earlier_visits_at_the_household_arrive_with_the_day_summarised_without_personal_data(tablet):
    company = tablet.company
    home = make_household(company, name="王芳")
    home.id_number = "310101199001011234"
    home.phone = "13912345678"
    elsewhere = make_household(company, name="赵六")
    other = make_technician(company, name="周师傅")
    today = make_job(company, home, technician=tablet.technician, window_start=in_hours(2))
    done = _finished(company, home, days_ago=30, technician=other)
    h_critical = Hazard(company_id=company.id, job_id=done.id, customer_id=home.id, premises_id=home.premises[0].id,
                        severity=HazardSeverity.CRITICAL, description="软管老化", found_at=in_hours(-720),
                        rectify_by=in_hours(-700), status=HazardStatus.FIXED)
    h_minor = Hazard(company_id=company.id, job_id=done.id, customer_id=home.id, premises_id=home.premises[0].id,
                     severity=HazardSeverity.MINOR, description="无", found_at=in_hours(-720), rectify_by=in_hours(500))
    template = ChecklistTemplate(company_id=company.id, code="insp", name="安检", job_type="safety_inspection",
                                 items=[])
    db.session.add_all([h_critical, h_minor, template])
    db.session.flush()
    answers = [ChecklistAnswer(company_id=company.id, job_id=done.id, template_id=template.id, item_key=k,
                               value={"value": v}, answered_at=in_hours(-720))
               for k, v in (("leak_test", "fail"), ("hose", "pass"), ("vent", "fail"))]
    db.session.add_all(answers)
    db.session.flush()
    # The vent answer was corrected on site: only the correction counts.
    db.session.add(ChecklistAnswer(company_id=company.id, job_id=done.id, template_id=template.id, item_key="vent",
                                   value={"value": "pass"}, answered_at=in_hours(-719), supersedes_id=answers[2].id))
    db.session.add(FeeCollection(company_id=company.id, job_id=done.id, amount_cents=5000, method="cash",
                                 collected_at=in_hours(-720)))
    db.session.commit()
    no_access = _finished(company, home, days_ago=60, status=JobStatus.COULD_NOT_COMPLETE,
                          could_not_complete_reason="no_access", technician=tablet.technician)
    called_off = _finished(company, home, days_ago=90, status=JobStatus.CANCELLED, cancelled_reason="用户已搬走")
    _finished(company, home, days_ago=100, status=JobStatus.CANCELLED)  # cancelled without a reason: not a visit
    _finished(company, home, days_ago=365 * 2 + 30)  # older than two years
    deleted = _finished(company, home, days_ago=10)
    deleted.deleted = True
    make_job(company, home, window_start=in_hours(24 * 3))  # planned, not finished
    _finished(company, elsewhere, days_ago=5)  # another household
    db.session.commit()

    rows, revoked = tablet.pull_all()
    history = _history(rows)
    assert set(history) == {str(done.id), str(no_access.id), str(called_off.id)}
    row = history[str(done.id)]
    assert row["data"] == {
        "premises_id": str(home.premises[0].id), "customer_id": str(home.id), "ref": done.ref,
        "job_type": "safety_inspection", "status": "completed", "outcome": "completed",
        "finished_on": db.session.get(Job, done.id).completed_at.isoformat(), "technician_name": "周师傅",
        "could_not_complete_reason": None, "cancelled_reason": "", "hazards_critical": 1, "hazards_major": 0,
        "hazards_minor": 1, "checklist_answered": 3, "checklist_failed": 1, "fee_collected_cents": 5000}
    # Its version is that of its newest source row (here the fee), so a later change to any of them is newer.
    newest = max(db.session.get(Job, done.id).version, *(a.version for a in answers), h_critical.version)
    assert row["version"] >= newest and not row["deleted"]
    assert history[str(no_access.id)]["data"]["outcome"] == "could_not_complete"
    assert history[str(no_access.id)]["data"]["could_not_complete_reason"] == "no_access"
    assert history[str(called_off.id)]["data"]["outcome"] == "cancelled"
    assert history[str(called_off.id)]["data"]["cancelled_reason"] == "用户已搬走"
    # R5/R19: nothing of the customer beyond ids; the earlier jobs themselves do not travel.
    text = str([r["data"] for r in history.values()])
    assert "王芳" not in text and "13912345678" not in text and "310101199001011234" not in text
    assert str(done.id) not in _ids(rows, "job") and str(today.id) in _ids(rows, "job")
    assert revoked == []


def test_household_history_dumps_as_its_wire_schema(tablet):
    from server.sync import history as server_history
    from server.sync.fastdump import compile_dump
    from server.sync.schemas import data_schema
    from server.sync.scope import scope_for

    home = make_household(tablet.company)
    make_job(tablet.company, home, technician=tablet.technician, window_start=in_hours(2))
    _finished(tablet.company, home, days_ago=3, status=JobStatus.COULD_NOT_COMPLETE, could_not_complete_reason="x")
    _finished(tablet.company, home, days_ago=4, technician=tablet.technician)
    scope = scope_for(tablet.company, tablet.technician.id, dt.datetime.now(dt.UTC))
    found = db.session.execute(server_history.select(scope)).all()
    schema = data_schema("household_history")
    assert len(found) == 2
    for r in found:
        assert compile_dump(schema)(r) == schema.dump(r)
        assert schema.validate(schema.dump(r)) == {}


def test_household_history_keeps_the_ten_newest_and_follows_changes_in_increments(tablet):
    company = tablet.company
    home = make_household(company)
    make_job(company, home, technician=tablet.technician, window_start=in_hours(2))
    earlier = [_finished(company, home, days_ago=10 + i) for i in range(12)]
    rows, _ = tablet.pull_all()
    assert set(_history(rows)) == {str(j.id) for j in earlier[:10]}

    # Nothing changed: nothing sent.
    assert tablet.pull_all() == ({}, [])
    # A note on an earlier visit is not part of its summary: nothing sent.
    db.session.add(Note(company_id=company.id, job_id=earlier[0].id, author_name="调度", source="office", text="x",
                        written_at=in_hours(0)))
    db.session.commit()
    rows, revoked = tablet.pull_all()
    assert _history(rows) == {} and revoked == []
    # A hazard recorded late on an earlier visit: its row again, newer, with the count.
    db.session.add(Hazard(company_id=company.id, job_id=earlier[1].id, customer_id=home.id,
                          premises_id=home.premises[0].id, severity=HazardSeverity.MAJOR, description="漏气",
                          found_at=in_hours(-24 * 11), rectify_by=in_hours(24)))
    db.session.commit()
    rows, revoked = tablet.pull_all()
    assert set(_history(rows)) == {str(earlier[1].id)} and revoked == []
    assert _history(rows)[str(earlier[1].id)]["data"]["hazards_major"] == 1
    # Another visit there finishes (another technician's): it enters, the oldest of the ten leaves.
    newest = _finished(company, home, days_ago=1)
    rows, revoked = tablet.pull_all()
    assert set(_history(rows)) == {str(newest.id)}
    assert revoked == [("household_history", str(earlier[9].id))]
    # An earlier job deleted in the office: its row leaves and the next oldest comes back.
    db.session.get(Job, earlier[0].id).deleted = True
    db.session.commit()
    rows, revoked = tablet.pull_all()
    assert set(_history(rows)) == {str(earlier[9].id)}
    assert revoked == [("household_history", str(earlier[0].id))]


def test_household_history_leaves_with_the_last_job_there(tablet):
    company = tablet.company
    home = make_household(company)
    job = make_job(company, home, technician=tablet.technician, window_start=in_hours(2))
    before = _finished(company, home, days_ago=20)
    rows, _ = tablet.pull_all()
    assert set(_history(rows)) == {str(before.id)}
    other = make_technician(company)
    db.session.get(Job, job.id).technician_id = other.id
    db.session.commit()
    rows, revoked = tablet.pull_all()
    assert ("household_history", str(before.id)) in revoked and ("job", str(job.id)) in revoked
    assert _history(rows) == {}


def test_a_tablet_cannot_write_household_history(tablet):
    home = make_household(tablet.company)
    make_job(tablet.company, home, technician=tablet.technician, window_start=in_hours(2))
    before = _finished(tablet.company, home, days_ago=20)
    rows, _ = tablet.pull_all()
    version = rows[("household_history", str(before.id))]["version"]
    premises = str(home.premises[0].id)
    resp = tablet.push([
        mutation("household_history", before.id, base_version=version, hazards_critical=0),
        mutation("household_history", uuid.uuid4(), op="create", premises_id=premises, status="completed"),
        mutation("household_history", before.id, op="delete", base_version=version),
        mutation("note", uuid.uuid4(), op="create", job_id=str(before.id), text="x", written_at=in_hours(0).isoformat()),
    ])
    assert resp.status_code == 200, resp.get_json()
    results = resp.get_json()["results"]
    assert [(r["status"], r["reason"]) for r in results[:3]] == [
        ("rejected", "field_not_writable"), ("rejected", "create_not_allowed"), ("rejected", "delete_not_allowed")]
    assert all(r["row"] is None for r in results[:3])
    assert results[3]["reason"] != "field_not_writable"  # judged on its own (here: not the tablet's job)
    assert db.session.get(Job, before.id).deleted is False


def test_another_households_finished_visit_never_reaches_the_tablet(make_company, make_tablet):
    company = make_company("sync-h")
    a, b = make_tablet(company, "tech-ha"), make_tablet(company, "tech-hb")
    home_a, home_b = make_household(company), make_household(company)
    make_job(company, home_a, technician=a.technician, window_start=in_hours(2))
    job_b = make_job(company, home_b, technician=b.technician, window_start=in_hours(2))
    a.pull_all()
    b.pull_all()
    # B's visit finishes and B's technician is renamed: B's household history changes, A's does not.
    job_b.status, job_b.completed_at = JobStatus.COMPLETED, in_hours(0)
    b.technician.name = "新名字"
    db.session.commit()
    rows_a, revoked_a = a.pull_all()
    assert _history(rows_a) == {} and revoked_a == []
    rows_b, _ = b.pull_all()
    assert set(_history(rows_b)) == {str(job_b.id)}
    assert rows_b[("household_history", str(job_b.id))]["data"]["technician_name"] == "新名字"
    # A fresh pull agrees with the increments.
    a.cursor = None
    rows_a, _ = a.pull_all()
    assert _history(rows_a) == {}


def test_a_page_ending_with_the_last_row_of_a_collection_goes_on_with_the_next(tablet):
    """Four jobs, then their customers: pages of exactly four end on the last job while the next
    collection is already being read. The next page starts at the customers, each row is sent once,
    and the pull ends (it once started over at the first job)."""
    company = tablet.company
    jobs = [make_job(company, make_household(company), technician=tablet.technician, window_start=in_hours(1 + i))
            for i in range(4)]
    sent: list[tuple[str, str]] = []
    pages = 0
    while True:
        pages += 1
        assert pages < 20, "the pull never ended"
        page = tablet.pull(limit=4).get_json()
        sent += [(r["collection"], r["id"]) for r in page["rows"]]
        tablet.cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert sorted(i for c, i in sent[:4] if c == "job") == sorted(str(j.id) for j in jobs)
    assert len(sent) == len(set(sent)), "a row was sent twice"
    assert {i for c, i in sent if c == "customer"} == {str(j.customer_id) for j in jobs}
