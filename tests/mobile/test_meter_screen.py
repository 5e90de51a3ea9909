"""Meter work and the household's earlier visits on the tablet, by touch in the offscreen window."""

from __future__ import annotations

from mobile import headless


def _open(app, finger, ref_suffix: str):
    job = next(j for j in app.store.all("job") if j["ref"].endswith(ref_suffix) and not j["ref"].startswith("GD-OLD"))
    app.open_job(job["id"])
    headless.settle(3)
    return job


def _popup_open() -> bool:
    from kivy.core.window import Window
    from kivy.uix.popup import Popup

    return any(isinstance(w, Popup) for w in Window.children)


def test_meter_reading_lower_than_last_asks_for_a_reason_then_exchange_by_touch(make_kivy_app, finger):
    app = make_kivy_app()
    job = _open(app, finger, "-0003")  # meter work: the planner ordered an exchange (verification overdue)
    assert app.current_screen.ids.meter.disabled  # not before check-in
    finger.tap("check_in")
    finger.tap("meter")
    assert app.manager.current == "meter"
    meter_id = job["meter_id"]
    screen = app.current_screen
    texts = [w.text for w in screen.ids.meter_list.walk() if hasattr(w, "text")]
    assert app.t("meter.exchange_due") in texts
    assert any(t.startswith(app.t("meter.last", reading="1236.5", at="")[:8]) and "1236.5" in t for t in texts)

    finger.find(f"reading:{meter_id}").text = "1230"
    finger.tap(f"save_reading:{meter_id}")
    assert _popup_open() and app.store.for_job("meter_reading", job["id"]) == []
    finger.tap("lower:confirm")  # no reason given: still open, nothing saved
    assert _popup_open() and app.store.for_job("meter_reading", job["id"]) == []
    finger.find("lower:reason").text = "表具故障，已报修"
    finger.tap("lower:confirm")
    assert not _popup_open()
    [reading] = app.store.for_job("meter_reading", job["id"])
    assert (reading["kind"], reading["reading"]) == ("routine", 1230)
    assert any("表具故障" in n["text"] for n in app.store.for_job("note", job["id"]))
    assert app.current_screen.message == app.t("meter.saved")

    finger.find(f"final:{meter_id}").text = "1231.5"
    finger.find(f"new_serial:{meter_id}").text = "N88001"
    finger.find(f"new_reading:{meter_id}").text = "0"
    finger.find(f"seals:{meter_id}").text = "QF-7"
    finger.tap(f"save_exchange:{meter_id}")
    kinds = sorted(r["kind"] for r in app.store.for_job("meter_reading", job["id"]))
    assert kinds == ["install", "removal", "routine"]
    assert app.current_screen.message == app.t("meter.exchanged")
    with_done = [w.text for w in app.current_screen.ids.meter_list.walk() if getattr(w, "fs_id", "") == f"done:{meter_id}"]
    assert any("N88001" in t for t in with_done)
    # Exchanged: the exchange form is gone, reading the new meter is still possible.
    assert all(getattr(w, "fs_id", "") != f"save_exchange:{meter_id}" for w in app.current_screen.ids.meter_list.walk())


def test_the_job_screen_lists_earlier_visits_from_the_household_history(make_kivy_app):
    app = make_kivy_app()
    _open(app, None, "-0001")
    texts = [w.text for w in app.current_screen.ids.file.children]
    assert app.t("job.history") in texts
    finished = [t for t in texts if app.t("history.outcome.could_not_complete") in t]
    assert finished and app.t("history.by", name="李建国") in finished[0]
    assert any(app.t("cnc.customer_absent") in t for t in texts)


def test_a_household_without_history_shows_the_empty_state(make_kivy_app):
    app = make_kivy_app()
    _open(app, None, "-0002")  # no earlier visits at this household
    texts = [w.text for w in app.current_screen.ids.file.children]
    assert app.t("history.none") in texts
