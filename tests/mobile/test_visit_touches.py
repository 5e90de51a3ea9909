"""A whole chargeable visit driven by touches in a real (offscreen) Kivy window."""

from __future__ import annotations

from mobile import headless
from sync.domain.quotes import content_hash

PHOTO = b"\x89PNG\r\n\x1a\n" + b"meter photo"


def _repair(app):
    return next(j for j in app.store.all("job") if j["job_type"] == "repair" and j["route_order"] == 2)


def _back_to_job(app, finger):
    finger.tap(app.root.ids.back_button)
    assert app.manager.current == "job"


def drive_visit(app, finger, job: dict) -> None:
    """Check in, checklist, hazard, quote, signatures, cleanup, fee, complete, depart: all by touch."""
    store = app.store
    app.photo_provider = lambda done: done(PHOTO)
    assert app.manager.current == "route"
    row = next(w for w in app.current_screen.ids.rv.children[0].children if w.job_id == job["id"])
    finger.tap(row)
    assert app.manager.current == "job" and app.job_id == job["id"]

    # R3 before anything else is possible: check in (R1).
    finger.tap("check_in")
    assert store.get("job", job["id"])["status"] == "on_site"
    assert [e["kind"] for e in store.for_job("visit_event", job["id"])] == ["arrived"]

    # Checklist: an out-of-limit pressure offers a hazard, which is recorded with its deadline (R16).
    finger.tap("checklist")
    finger.tap("leak_test:pass")
    finger.find("note:input").text = "表前阀锈蚀，已提醒客户"
    finger.tap("note:save")
    assert "表前阀锈蚀，已提醒客户" in [n["text"] for n in store.for_job("note", job["id"])]
    finger.find("inlet_pressure:input").text = "3.4"
    finger.tap("inlet_pressure:save")
    finger.tap("suggest:record")
    assert app.manager.current == "hazard"
    assert app.current_screen.ids.major.state == "down"
    finger.tap("photo")
    finger.tap("save")
    hazard = store.for_job("hazard", job["id"])[0]
    assert hazard["severity"] == "major" and hazard["checklist_item_key"] == "inlet_pressure"
    assert store.blob(hazard["photo_sha256"]) == PHOTO
    answers = {a["item_key"]: a["value"]["value"] for a in store.for_job("checklist_answer", job["id"])}
    assert answers == {"leak_test": "pass", "inlet_pressure": 3.4}
    app.back()
    _back_to_job(app, finger)

    # No chargeable work before the customer approves.
    finger.tap("start_work")
    assert store.get("job", job["id"])["status"] == "on_site"
    assert app.current_screen.message == app.t("gate.approval_required")

    # Quote from the price list, risk described, customer signs on the pad.
    finger.tap("quote")
    finger.tap("price:P-HOSE")
    finger.tap("price:L-STD")
    app.current_screen.ids.risk.text = "移动灶具可能划伤台面"
    finger.tap("present")
    assert app.manager.current == "signature"
    finger.tap("approve")  # an empty pad is not a signature
    assert app.current_screen.message == app.t("sign.empty")
    finger.draw(app.current_screen.ids.pad)
    finger.tap("approve")
    assert app.manager.current == "quote"
    quote = next(q for q in store.for_job("quote", job["id"]) if q["status"] == "approved")
    signature = store.for_job("signature", job["id"])[0]
    assert signature["content_hash"] == content_hash(quote) == quote["content_hash"]
    image = store.blob(signature["image_sha256"])
    assert image.startswith(b"\x89PNG") and len(image) > 200

    # Editing the approved quote voids the approval and asks again.
    finger.tap("edit")
    finger.tap("price:P-CLAMP")
    finger.tap("present")
    assert app.manager.current == "signature"
    assert store.get("quote", quote["id"])["status"] == "void"
    app.back()
    _back_to_job(app, finger)
    finger.tap("start_work")
    assert store.get("job", job["id"])["status"] == "on_site"
    finger.tap("quote")
    finger.tap("present")
    finger.draw(app.current_screen.ids.pad)
    finger.tap("approve")
    _back_to_job(app, finger)
    finger.tap("start_work")
    assert store.get("job", job["id"])["status"] == "in_progress"

    # No completion before the cleanup is confirmed (R4).
    finger.tap("finish")
    finger.tap("complete")
    assert store.get("job", job["id"])["status"] == "in_progress"
    assert app.current_screen.message == app.t("gate.cleanup_required")
    _back_to_job(app, finger)
    finger.tap("cleanup")
    for key in ("waste_removed", "area_wiped", "appliances_restored", "gas_restored_checked"):
        finger.tap(key)
    finger.tap("sign")
    finger.draw(app.current_screen.ids.pad)
    finger.tap("approve")
    assert app.manager.current == "cleanup"
    cleanup = store.for_job("cleanup_confirmation", job["id"])[0]
    assert cleanup["customer_confirmed"] and cleanup["method"] == "signature" and cleanup["signature_id"]
    _back_to_job(app, finger)

    # Fees (R17), completion, departure.
    finger.tap("finish")
    finger.tap("pay_wechat")
    finger.tap("record_fee")
    fee = store.for_job("fee_collection", job["id"])[0]
    approved = next(q for q in store.for_job("quote", job["id"]) if q["status"] == "approved")
    assert fee["amount_cents"] == approved["total_cents"] == 4500 + 6000 + 300 and fee["method"] == "wechat"
    finger.tap("sat_5")
    finger.tap("complete")
    done = store.get("job", job["id"])
    assert done["status"] == "completed" and done["satisfaction"] == 5
    finger.tap("depart")
    assert store.get("job", job["id"])["departed_at"]
    assert app.pending == store.pending_count() > 15
    headless.settle()


def test_full_visit_by_touch(kivy_app, finger):
    drive_visit(kivy_app, finger, _repair(kivy_app))
