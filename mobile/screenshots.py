"""Render every screen with demo data, in zh-CN and en, to PNG: ``python -m mobile.screenshots OUTDIR``."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

from mobile import headless

SCREENS = ("login", "route", "job", "late", "checklist", "hazard", "quote", "signature", "cleanup", "finish", "meter",
           "sync")
PNG = b"\x89PNG\r\n\x1a\ndemo-photo"


def _prepare(app) -> dict[str, str]:  # noqa: ANN001
    """Put the demo day in the state each screen is best shown in; returns job ids by role."""
    from mobile.store import now_iso
    from mobile.viewmodels.checklist import ChecklistViewModel
    from mobile.viewmodels.quote import QuoteViewModel
    from mobile.viewmodels.visit import VisitViewModel
    from sync.records import ConflictRecord, MutationResult, ResultStatus, Row

    store = app.store
    jobs = sorted(store.all("job"), key=lambda j: j["ref"])
    repair = next(j["id"] for j in jobs if j["job_type"] == "repair" and not j["ref"].startswith("GD-OLD"))
    VisitViewModel(store, repair).check_in()
    checklist = ChecklistViewModel(store, repair)
    checklist.answer("leak_test", "pass")
    checklist.answer("inlet_pressure", "3.2")
    quote = QuoteViewModel(store, repair)
    quote.add_line("P-HOSE", 1)
    quote.add_line("P-CLAMP", 2)
    quote.add_line("L-STD", 1.5)
    quote.set_risk_note("更换软管需移开灶具，可能在台面留下轻微划痕。")
    quote.present()
    # A refused change and a decided conflict, so the inbox has something to explain.
    other = next(j for j in jobs if j["id"] != repair and not j["ref"].startswith("GD-OLD"))
    note = store.create("note", {"job_id": other["id"], "author_name": "李建国", "text": "客户要求改约",
                                 "written_at": now_iso()})
    parked = store.pending(1000)[-1]
    store.apply_results([MutationResult(parked.mutation_id, ResultStatus.REJECTED, reason="out_of_scope",
                                        message=f"note {note['id']} is not among this technician's jobs.")])
    late = store.update("job", other["id"], {"route_order": 1})
    conflict = store.pending(1000)[-1]
    row = Row("job", other["id"], 99, False, {k: v for k, v in late.items() if k != "route_order"} | {"route_order": 7})
    store.apply_results([MutationResult(conflict.mutation_id, ResultStatus.CONFLICT, version=99, row=row, conflicts=(
        ConflictRecord(id="c1", mutation_id=conflict.mutation_id, collection="job", row_id=other["id"],
                       field="route_order", server_value=7, device_value=1, rule="plan_dispatch_wins",
                       review_by="technician", message="Dispatch changed job.route_order to 7 meanwhile."),))])
    # Meter work: the exchange the planner ordered, the meter read once on arrival.
    from mobile.viewmodels.meter import MeterViewModel

    meter_job = next(j for j in jobs if j["job_type"] == "meter_work" and j.get("meter_id"))
    VisitViewModel(store, meter_job["id"]).check_in()
    MeterViewModel(store, meter_job["id"]).record_reading(meter_job["meter_id"], "1241.8")
    # Earlier visits at the repair's household, as the server's household_history would send them.
    job = store.get("job", repair)
    store.load_server_rows([Row("household_history", f"history-{n}", 1, False, {
        "id": f"history-{n}", "premises_id": job["premises_id"], "customer_id": job["customer_id"], **fields})
        for n, fields in enumerate([
            {"job_type": "repair", "outcome": "completed", "status": "closed", "technician_name": "李建国",
             "finished_on": "2026-09-14T03:20:00+00:00", "hazards_minor": 1, "checklist_answered": 3,
             "fee_collected_cents": 7500},
            {"job_type": "safety_inspection", "outcome": "could_not_complete", "status": "could_not_complete",
             "technician_name": "王师傅", "finished_on": "2026-03-02T06:05:00+00:00",
             "could_not_complete_reason": "customer_absent"},
        ])])
    return {"repair": repair, "meter": meter_job["id"]}


def render(outdir: Path, langs: tuple[str, ...] = ("zh-CN", "en"), jobs: int = 12) -> list[Path]:
    """Render the screens; returns the files written (tablet-<screen>-<lang>.png)."""
    headless.configure()
    from mobile.app import FieldSyncApp
    from mobile.demo import DEMO_PIN, load_demo

    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        app = FieldSyncApp(Path(tmp) / "device.sqlite", server_url="http://127.0.0.1:5000", auto_sync=False,
                           pin=DEMO_PIN)
        load_demo(app.store, jobs=jobs, day=dt.datetime.now(dt.UTC).astimezone(headless_tz()).date())
        ids = _prepare(app)
        root = headless.start(app)
        try:
            for lang in langs:
                app.lang = lang
                for name in SCREENS:
                    app.job_id = ids["meter"] if name == "meter" else ids["repair"]
                    kwargs = {"purpose": "quote"} if name == "signature" else {}
                    if name == "hazard":
                        from mobile.viewmodels.checklist import ChecklistViewModel

                        item = next(v.item for v in ChecklistViewModel(app.store, ids["repair"]).items()
                                    if v.key == "inlet_pressure")
                        from sync.domain.hazards import suggest_hazard

                        kwargs = {"suggestion": suggest_hazard(item, 3.2),
                                  "description": app.screen("checklist").describe("inlet_pressure", 3.2)}
                    app.go(name, **kwargs)
                    app.manager.transition.duration = 0
                    headless.settle(6)
                    if name == "signature":
                        _draw_signature(app.current_screen.ids.pad)
                    if name == "cleanup":
                        for key in ("waste_removed", "area_wiped"):
                            app.current_screen.ids[key].state = "down"
                    headless.settle(3)
                    path = outdir / f"tablet-{name}-{lang}.png"
                    root.export_to_png(str(path))
                    written.append(path)
                written.append(_photo_fallback(app, outdir / f"tablet-photo-fallback-{lang}.png"))
        finally:
            headless.stop(app)
    return written


def _photo_fallback(app, path: Path) -> Path:  # noqa: ANN001
    """The hazard screen's photo button on a device without a camera: the file chooser, saying why."""
    from kivy.core.window import Window
    from kivy.uix.popup import Popup

    app.go("hazard")
    app.camera_factory = lambda: None  # as on a tablet whose camera does not open
    app.take_photo(lambda _data: None)
    headless.settle(8)
    popup = next(w for w in Window.children if isinstance(w, Popup))
    _export_window(path)
    popup.dismiss()
    app.camera_factory = None
    headless.settle(3)
    return path


def _export_window(path: Path) -> None:
    """The whole window (root and popups) as a PNG, as last drawn."""
    import shutil

    from kivy.core.window import Window

    with tempfile.TemporaryDirectory() as tmp:
        made = Window.screenshot(name=str(Path(tmp) / "window.png"))  # it numbers the file: window0001.png
        shutil.move(made, path)


def headless_tz():  # noqa: ANN201
    from mobile.demo import TZ

    return TZ


def _draw_signature(pad) -> None:  # noqa: ANN001
    """Draw a signature on the pad with real touch events (as a finger would)."""
    import math

    from kivy.tests.common import UnitTestTouch

    for stroke in range(3):
        x0, y0 = pad.x + 60 + stroke * 170, pad.y + pad.height * 0.45
        touch = UnitTestTouch(x0, y0)
        touch.touch_down()
        for i in range(1, 25):
            touch.touch_move(x0 + i * 6, y0 + 40 * math.sin(i / 3 + stroke))
        touch.touch_up()


def main(argv: list[str] | None = None) -> None:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m mobile.screenshots")
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    for path in render(args.outdir):
        print(path)


if __name__ == "__main__":
    main()
