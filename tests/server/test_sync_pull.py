"""POST /api/v1/sync/pull: a technician's day arrives, and only that (G7, R5, R19); changes and
revocations follow with the cursor (G8, G9); an unapplied page is resent."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.checklists.models import ChecklistTemplate
from server.customers.models import Appliance, CustomerContact
from server.extensions import db
from server.jobs.models import Complaint, Job, JobType
from server.notifications.models import OutageNotice
from server.sync.models import DeviceScope
from server.visits.models import Hazard, HazardSeverity, HazardStatus, Note, PriceItem
from tests.factories import in_hours, make_household, make_job, make_technician
from tests.fixtures.sync import Tablet


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
