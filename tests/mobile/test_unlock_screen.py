"""In the real (offscreen) window: a cold start asks for the PIN before anything is shown, a wrong PIN
says so, the right one opens today's route; a parked fact needs a second tap to be discarded; a tablet
reported lost lands on the sign-in screen with nothing left on disk."""

from __future__ import annotations

import datetime as dt

import pytest

from mobile import headless
from mobile.demo import DEMO_PIN, TZ, load_demo
from mobile.store import store_files
from mobile.viewmodels.unlock import UnlockViewModel
from sync.ports import AuthRevoked
from sync.records import MutationResult, ResultStatus


@pytest.fixture
def cold_app(tmp_path):
    """A store with a demo day behind a PIN, then the app started on it as on a cold start (no PIN given)."""
    headless.configure()
    from mobile.app import FieldSyncApp

    path = tmp_path / "device.sqlite"
    store = UnlockViewModel(path).setup(DEMO_PIN, DEMO_PIN).store
    load_demo(store, jobs=5, day=dt.datetime.now(TZ).date())
    store.close()
    app = FieldSyncApp(path, auto_sync=False)
    headless.start(app)
    app.manager.transition.duration = 0
    yield app
    headless.stop(app)


def test_a_cold_start_shows_the_pin_screen_and_only_the_right_pin_opens_the_route(cold_app, finger):
    app = cold_app
    assert app.manager.current == "unlock" and app.store is None
    screen = app.current_screen
    screen.ids.pin.text = "999999"
    finger.tap("submit")
    assert app.manager.current == "unlock" and app.store is None
    assert screen.message == app.t("unlock.wrong_pin", left=4)
    app.go("route")  # nothing opens while locked (the top bar's buttons included)
    assert app.manager.current == "unlock"
    screen.ids.pin.text = DEMO_PIN
    finger.tap("submit")
    assert app.manager.current == "route" and app.store is not None and app.store.encrypted
    assert len(app.current_screen.ids.rv.data) == 5


def test_changing_the_pin_from_the_sync_screen_asks_for_the_current_pin_first(cold_app, finger):
    app = cold_app
    app.current_screen.ids.pin.text = DEMO_PIN
    finger.tap("submit")
    assert app.manager.current == "route"
    app.go("sync")
    finger.tap("change_pin")
    screen = app.current_screen
    assert app.manager.current == "unlock" and screen.mode == "change_pin"
    assert screen.ids.confirm.disabled  # only the current PIN is asked first
    screen.ids.pin.text = "999999"
    finger.tap("submit")
    assert screen.mode == "change_pin" and screen.message == app.t("unlock.wrong_pin", left=4)
    screen.ids.pin.text = DEMO_PIN
    finger.tap("submit")
    assert screen.mode == "new_pin" and not screen.ids.confirm.disabled
    screen.ids.pin.text = screen.ids.confirm.text = "246801"
    finger.tap("submit")
    assert app.manager.current == "route"
    opened = app.unlock_vm.unlock("246801")  # the new PIN opens the store; the old one no longer does
    assert opened.ok
    opened.store.close()
    assert not app.unlock_vm.unlock(DEMO_PIN).ok


def test_a_parked_fact_is_discarded_only_after_the_confirmation(make_kivy_app, finger):
    app = make_kivy_app(demo_jobs=3)
    job = sorted((j for j in app.store.all("job") if j.get("route_order")), key=lambda j: j["route_order"])[0]
    app.store.create("note", {"job_id": job["id"], "author_name": "李建国", "text": "客户说明天再来",
                              "written_at": dt.datetime.now(dt.UTC).isoformat()})
    [m] = app.store.pending(5)
    app.store.apply_results([MutationResult(m.mutation_id, ResultStatus.REJECTED, reason="out_of_scope",
                                            message="not yours")])
    app.go("sync")
    headless.settle(3)
    finger.tap("discard-0")
    assert len(app.store.parked()) == 1  # first tap: the warning and a confirm button, nothing dropped
    finger.find("confirm-0")
    finger.tap("confirm-0")
    assert app.store.parked() == [] and app.store.audit_log()[0]["action"] == "discarded"


class _Lost:
    """A transport whose server says: this tablet was reported lost."""

    def push(self, mutations):
        raise AuthRevoked("this tablet was revoked", wipe=True)

    pull = has_blob = put_blob = push


def test_a_tablet_reported_lost_erases_itself_and_shows_the_sign_in(make_kivy_app, tmp_path):
    app = make_kivy_app(demo_jobs=2)
    app.store.create("note", {"job_id": app.store.all("job")[0]["id"], "author_name": "t", "text": "unsent",
                              "written_at": dt.datetime.now(dt.UTC).isoformat()})
    app.session.remember_login("http://127.0.0.1:9", "token", {"id": "demo-user"})
    lost = _Lost()
    lost._key = (app.session.server_url, app.session.token)
    app._transport = lost
    path = app.store_path
    app.sync_now()
    app.sync.wait()
    headless.settle(3)
    assert app.manager.current == "login" and app.store is None
    assert app.current_screen.message == app.t("login.wiped")
    assert not any(f.exists() for f in store_files(path)) and not path.with_name(path.name + ".key").exists()
