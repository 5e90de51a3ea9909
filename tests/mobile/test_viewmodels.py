"""The whole visit through the view-models, without a window: gates, append-only facts, the outbox."""

from __future__ import annotations

import datetime as dt

import pytest

from mobile.demo import TZ, load_demo
from mobile.store import DeviceStore
from mobile.viewmodels.checklist import ChecklistViewModel, InvalidAnswer
from mobile.viewmodels.cleanup import CLEANUP_ITEMS, CleanupViewModel, FeesViewModel
from mobile.viewmodels.hazard import HazardViewModel
from mobile.viewmodels.job import JobDetailViewModel
from mobile.viewmodels.meter import MeterViewModel
from mobile.viewmodels.quote import QuoteViewModel
from mobile.viewmodels.route import RouteViewModel
from mobile.viewmodels.visit import VisitViewModel
from sync.domain.quotes import content_hash

DAY = dt.date(2026, 11, 27)
PNG = b"\x89PNG\r\n\x1a\n" + b"strokes"


@pytest.fixture
def clock():
    """A settable device clock, 08:00 Shanghai time on the demo day."""
    now = [dt.datetime.combine(DAY, dt.time(8, 0), TZ)]
    return now


@pytest.fixture
def store(tmp_path):
    """A device store holding the demo day (10 visits)."""
    s = DeviceStore(tmp_path / "device.sqlite")
    load_demo(s, jobs=10, day=DAY)
    yield s
    s.close()


def vm(cls, store, clock, *args):
    return cls(store, *args, clock=lambda: clock[0])


REF = {"safety_inspection": "GD-20261127-0001", "repair": "GD-20261127-0002", "meter_work": "GD-20261127-0003"}


def job_of_type(store, job_type):
    """The first demo visit of a type: safety 08:30, repair 09:30 (chargeable), meter work 10:30."""
    return next(j for j in store.all("job") if j["ref"] == REF[job_type])


def test_route_lists_the_day_in_order_with_badges(store, clock):
    cards = vm(RouteViewModel, store, clock).load()
    assert len(cards) == 10
    assert [c.order for c in cards] == list(range(1, 11))
    assert cards[0].window == "08:30–10:30"
    assert any(c.special_care for c in cards) and not all(c.special_care for c in cards)
    repair = next(c for c in cards if c.job_type == "repair")
    assert repair.sla_kind == "respond" and repair.sla_minutes > 0
    assert {c.sync_state for c in cards} == {"synced"}


def test_household_file_has_meters_hazards_history_and_contacts(store, clock):
    job = store.get("job", next(j["id"] for j in store.all("job") if j["ref"] == "GD-20261127-0001"))
    file = vm(JobDetailViewModel, store, clock).load(job["id"])
    assert file.customer["name"] == "张伟"
    assert file.contacts and file.contacts[0]["relation"] == "女儿"
    assert file.meters[0]["calibration"] == "ok"
    assert [h["description"] for h in file.open_hazards] == ["软管老化，建议更换"]
    # The earlier inspection comes as a household_history row (not twice: its job is on the tablet too).
    assert file.earlier_visits == []
    assert [(h.job_type, h.outcome, h.technician_name) for h in file.history] == [
        ("repair", "could_not_complete", "李建国"), ("safety_inspection", "completed", "王师傅")]
    assert file.history[0].details == [("history.fee", {"cents": 3000}), ("history.cnc", {"reason": "customer_absent"})]
    assert ("history.hazards", {"critical": 0, "major": 0, "minor": 1}) in file.history[1].details
    overdue = next(j for j in store.all("job") if j["ref"] == "GD-20261127-0003")
    assert vm(JobDetailViewModel, store, clock).load(overdue["id"]).meters[0]["calibration"] == "overdue"


def test_running_late_queues_the_notice_and_judges_the_two_hour_rule(store, clock):
    job = job_of_type(store, "meter_work")  # window 10:30–12:30
    visit = vm(VisitViewModel, store, clock, job["id"])
    clock[0] = dt.datetime.combine(DAY, dt.time(8, 0), TZ)
    kept = visit.running_late(dt.datetime.combine(DAY, dt.time(11, 0), TZ))
    assert kept.eta_in_window and kept.two_hour_rule_met
    clock[0] = dt.datetime.combine(DAY, dt.time(9, 45), TZ)
    breach = visit.running_late(dt.datetime.combine(DAY, dt.time(13, 0), TZ))
    assert not breach.eta_in_window and not breach.two_hour_rule_met and breach.notice_minutes == 45
    events = [e for e in store.for_job("visit_event", job["id"]) if e["kind"] == "running_late"]
    assert len(events) == 2 and all(e["eta"] for e in events)
    outbox = [(o["collection"], o["op"]) for o in store.outbox_rows()]
    assert outbox.count(("visit_event", "create")) == 2 and outbox.count(("job", "update")) == 2


def test_chargeable_visit_end_to_end_with_gates(store, clock):
    job = job_of_type(store, "repair")
    visit = vm(VisitViewModel, store, clock, job["id"])
    quote = vm(QuoteViewModel, store, clock, job["id"])
    clock[0] = dt.datetime.combine(DAY, dt.time(9, 40), TZ)
    arrival = visit.check_in()
    assert arrival.verdict == "on_time" and visit.job["status"] == "on_site"

    gate = visit.start_work()
    assert not gate and gate.reason == "approval_required"
    assert visit.job["status"] == "on_site"

    checklist = vm(ChecklistViewModel, store, clock, job["id"])
    with pytest.raises(InvalidAnswer):
        checklist.answer("inlet_pressure", "abc")
    suggestion = checklist.answer("inlet_pressure", "3.1")
    assert suggestion is not None and suggestion.severity == "major"
    hazard = vm(HazardViewModel, store, clock, job["id"]).record(
        suggestion.severity, suggestion.description, "关闭表前阀", photo=PNG, checklist_item_key="inlet_pressure")
    assert hazard["rectify_by"] == (clock[0] + dt.timedelta(days=7)).astimezone(dt.UTC).isoformat()
    assert store.blob(hazard["photo_sha256"]) == PNG

    quote.add_line("P-HOSE", 1)
    quote.add_line("L-STD", 1.5)
    quote.set_risk_note("更换软管需移动灶具，可能划伤台面")
    presented = quote.present()
    assert presented["total_cents"] == 4500 + 9000 and presented["staff_no"] == "GD-0427"
    assert presented["content_hash"] == content_hash(presented)
    assert not visit.start_work()  # presented but not signed
    quote.approve("张伟", PNG)
    assert visit.start_gate()

    quote.edit()
    quote.add_line("P-CLAMP", 2)
    assert not visit.start_gate()  # editing: the old approval no longer carries the work
    replacement = quote.present()
    old = store.get("quote", presented["id"])
    assert old["status"] == "void" and replacement["supersedes_id"] == presented["id"]
    gate = visit.start_work()
    assert not gate and gate.reason == "approval_required"
    quote.approve("张伟", PNG)
    assert visit.start_work() and visit.job["status"] == "in_progress"
    sig = [s for s in store.for_job("signature", job["id"]) if s["quote_id"] == replacement["id"]][0]
    assert sig["content_hash"] == replacement["content_hash"]

    gate = visit.complete()
    assert not gate and gate.reason == "cleanup_required"
    with pytest.raises(ValueError):
        vm(CleanupViewModel, store, clock, job["id"]).confirm({"waste_removed": True})
    vm(CleanupViewModel, store, clock, job["id"]).confirm(dict.fromkeys(CLEANUP_ITEMS, True), method="signature",
                                                          signer="张伟", png=PNG, photo=PNG)
    fees = vm(FeesViewModel, store, clock, job["id"])
    assert fees.due_cents() == replacement["total_cents"]
    fees.collect("141.00", "wechat", "R-1")
    assert fees.due_cents() == 0
    assert visit.complete(satisfaction=5)
    visit.depart()
    job = visit.job
    assert job["status"] == "completed" and job["completed_at"] and job["departed_at"]
    assert all(s.done for s in visit.steps())
    # Every change waits in the outbox, oldest first, nothing parked.
    assert store.pending_count() == len(store.outbox_rows()) > 10
    card = next(c for c in vm(RouteViewModel, store, clock).load() if c.job_id == job["id"])
    assert card.sync_state == "pending"


def test_refusal_is_recorded_and_never_lets_work_start(store, clock):
    job = job_of_type(store, "repair")
    visit, quote = vm(VisitViewModel, store, clock, job["id"]), vm(QuoteViewModel, store, clock, job["id"])
    visit.check_in()
    quote.add_line("P-VALVE")
    with pytest.raises(ValueError, match="risk_note"):
        quote.present()  # R3: the risk of damage must be described
    quote.set_risk_note("无")
    quote.present()
    quote.refuse("张伟")
    assert quote.state() == "refused"
    assert [s["purpose"] for s in store.for_job("signature", job["id"])] == ["quote_refusal"]
    gate = visit.start_work()
    assert not gate and "refused" in gate.message
    visit.could_not_complete("refused_entry", "客户拒绝报价")
    assert visit.job["status"] == "could_not_complete"


def test_checklist_conditions_required_items_and_corrections(store, clock):
    job = job_of_type(store, "safety_inspection")
    checklist = vm(ChecklistViewModel, store, clock, job["id"])
    keys = [v.key for v in checklist.items()]
    assert "flue_ok" not in keys  # shown only when there is a water heater
    assert set(checklist.missing_required()) == {"leak_test", "inlet_pressure", "hose_condition", "has_water_heater"}
    checklist.answer("has_water_heater", "pass")
    assert "flue_ok" in [v.key for v in checklist.items()] and "flue_ok" in checklist.missing_required()
    assert checklist.answer("inlet_pressure", "2.0") is None
    clock[0] += dt.timedelta(minutes=1)
    checklist.answer("inlet_pressure", "2.6")  # a correction supersedes, never overwrites
    answers = store.for_job("checklist_answer", job["id"])
    assert len([a for a in answers if a["item_key"] == "inlet_pressure"]) == 2
    current = checklist.answers()["inlet_pressure"]
    assert current["value"] == {"value": 2.6} and current["supersedes_id"]
    assert next(v for v in checklist.items() if v.key == "inlet_pressure").out_of_limits
    with pytest.raises(InvalidAnswer):
        checklist.answer("meter_photo", None)
    checklist.answer("meter_photo", "photo", photo=PNG)
    assert checklist.answers()["meter_photo"]["photo_sha256"]
    with pytest.raises(InvalidAnswer):
        checklist.add_note("  ")
    checklist.add_note("客户要求下次上午来")
    mine = [n for n in store.for_job("note", job["id"]) if n["author_name"] == "李建国"]
    assert [n["text"] for n in mine] == ["客户要求下次上午来"]


def test_cleanup_is_required_before_completion_of_plain_visit(store, clock):
    job = job_of_type(store, "safety_inspection")
    visit = vm(VisitViewModel, store, clock, job["id"])
    visit.check_in()
    assert visit.start_work()
    assert visit.complete().reason == "cleanup_required"
    vm(CleanupViewModel, store, clock, job["id"]).confirm(dict.fromkeys(CLEANUP_ITEMS, True))
    assert visit.complete()


def test_listeners_belong_to_each_view_model(store, clock):
    heard_a, heard_b = [], []
    a, b = vm(RouteViewModel, store, clock), vm(RouteViewModel, store, clock)
    a.bind(lambda: heard_a.append(1))
    b.bind(lambda: heard_b.append(1))
    a.load()
    assert heard_a == [1] and heard_b == []


def test_household_history_absent_or_empty_leaves_an_empty_history(tmp_path, clock):
    from mobile.demo import demo_rows

    s = DeviceStore(tmp_path / "bare.sqlite")
    s.load_server_rows([r for r in demo_rows(4, DAY) if r.collection != "household_history"])
    job = next(j for j in s.all("job") if j["ref"] == "GD-20261127-0001")
    file = vm(JobDetailViewModel, s, clock).load(job["id"])
    assert file.history == []
    assert [j["ref"] for j in file.earlier_visits] == ["GD-OLD-0001"]  # still the jobs the tablet holds
    s.close()


def test_household_history_rows_are_sorted_newest_first_and_tolerate_missing_fields(store, clock):
    from sync.records import Row

    job = next(j for j in store.all("job") if j["ref"] == "GD-20261127-0001")
    store.load_server_rows([Row("household_history", "h-bare", 1, False, {
        "id": "h-bare", "premises_id": job["premises_id"], "job_type": "installation",
        "finished_on": "2026-11-20T02:00:00+00:00"})])
    history = vm(JobDetailViewModel, store, clock).load(job["id"]).history
    assert [h.job_id for h in history][0] == "h-bare"
    assert (history[0].outcome, history[0].technician_name, history[0].details) == ("completed", "", [])
    assert [h.finished for h in history] == sorted((h.finished for h in history), reverse=True)


def meter_job(store):
    """The demo's meter exchange: a meter_work job for a meter whose verification is overdue."""
    return next(j for j in store.all("job") if j["ref"] == REF["meter_work"])


def test_meter_reading_is_validated_against_the_last_one(store, clock):
    job = meter_job(store)
    meters = vm(MeterViewModel, store, clock, job["id"])
    [work] = meters.meters()
    assert work.id == job["meter_id"] and work.exchange_expected and work.last_reading == 1236.5
    for bad, code in (("abc", "not_a_number"), ("-1", "negative"), ("inf", "not_a_number")):
        with pytest.raises(InvalidAnswer) as err:
            meters.record_reading(work.id, bad)
        assert err.value.code == code
    before = store.pending_count()
    # Lower than last: nothing saved until confirmed, and a confirmation needs the reason.
    with pytest.raises(InvalidAnswer) as err:
        meters.record_reading(work.id, "1200.4")
    assert err.value.code == "lower_confirm" and store.pending_count() == before
    with pytest.raises(InvalidAnswer) as err:
        meters.record_reading(work.id, "1200.4", confirm_lower=True, reason="  ")
    assert err.value.code == "reason_needed" and store.pending_count() == before
    row = meters.record_reading(work.id, "1200.4", confirm_lower=True, reason="上次为估读")
    assert (row["kind"], row["reading"], row["meter_id"], row["job_id"]) == ("routine", 1200.4, work.id, job["id"])
    notes = [n["text"] for n in store.for_job("note", job["id"])]
    assert any("1200.4" in n and "1236.5" in n and "上次为估读" in n for n in notes)
    # The new reading is now the last one: a higher one goes straight in, with no note.
    assert meters.meter(work.id).last_reading == 1200.4
    meters.record_reading(work.id, "1201", serial_seen="M20240002")
    assert len(store.for_job("note", job["id"])) == len(notes)
    # Only fields the server's meter_reading collection has are sent.
    from sync.collections import spec_for

    allowed = set(spec_for("meter_reading").fields)
    for m in store.pending(1000):
        if m.collection == "meter_reading":
            assert set(m.fields) <= allowed and {"meter_id", "job_id", "reading", "read_at"} <= set(m.fields)


def test_meter_exchange_records_removal_install_and_seals_in_one_go(store, clock):
    job = meter_job(store)
    meters = vm(MeterViewModel, store, clock, job["id"])
    work = meters.meters()[0]
    with pytest.raises(InvalidAnswer) as err:
        meters.exchange(work.id, "1240", "  ", "0.5")
    assert err.value.code == "serial_needed"
    with pytest.raises(InvalidAnswer) as err:
        meters.exchange(work.id, "1000", "N-1", "0.5")
    assert err.value.code == "lower_confirm"
    assert store.for_job("meter_reading", job["id"]) == []
    removal, install = meters.exchange(work.id, "1240.2", "N20261127", "0.5", "QF-001，QF-002")
    assert (removal["kind"], removal["reading"], removal["serial_seen"]) == ("removal", 1240.2, "M20240002")
    assert (install["kind"], install["reading"], install["new_serial"]) == ("install", 0.5, "N20261127")
    assert any("QF-001, QF-002" in n["text"] and "N20261127" in n["text"] for n in store.for_job("note", job["id"]))
    after = meters.meter(work.id)
    assert after.exchanged and after.last_reading == 0.5  # the new meter's start reading
    assert [k for k, _ in meters.done_lines(after)] == ["meter.done_removal", "meter.done_install"]


def test_a_job_without_an_exchange_order_only_reads(store, clock):
    job = job_of_type(store, "safety_inspection")
    [work] = vm(MeterViewModel, store, clock, job["id"]).meters()
    assert not work.exchange_expected and not work.exchanged


def test_a_meter_exchange_job_lists_the_meter_step_until_the_exchange_is_recorded(store, clock):
    job = meter_job(store)
    visit = vm(VisitViewModel, store, clock, job["id"])
    step = next(s for s in visit.steps() if s.key == "meter")
    assert not step.done
    meters = vm(MeterViewModel, store, clock, job["id"])
    meters.record_reading(job["meter_id"], "1240")
    assert not next(s for s in visit.steps() if s.key == "meter").done  # read, but not yet exchanged
    meters.exchange(job["meter_id"], "1240.5", "N1", "0")
    assert next(s for s in visit.steps() if s.key == "meter").done
    assert "meter" not in [s.key for s in vm(VisitViewModel, store, clock, job_of_type(store, "repair")["id"]).steps()]
