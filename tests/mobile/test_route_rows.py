"""Today's route in a real (offscreen) window: 500 visits scroll through a handful of recycled rows
that keep their badges (R11 special care, R8 countdown, sync state), and the countdown moves on."""

from __future__ import annotations

import datetime as dt

from mobile import headless
from mobile.viewmodels.route import RouteViewModel, row_data
from mobile.widgets import AMBER, RED, ROW_SLOTS, SYNC_COLOURS


def _rows(app):
    return [w for w in app.current_screen.ids.rv.children[0].children if w.job_id]


def _slot(row, name):
    colour, rect = row._slots[name]
    return colour.rgba, rect


def test_rows_draw_the_visit_texts_inside_the_row_and_scroll_500_with_few_widgets(make_kivy_app):
    app = make_kivy_app(demo_jobs=500)
    rv = app.current_screen.ids.rv
    assert len(rv.data) == 500
    by_job = {d["job_id"]: d for d in rv.data}
    seen: set[str] = set()
    for y in (1, 0.75, 0.5, 0.25, 0):
        rv.scroll_y = y
        headless.settle(3)
        rows = _rows(app)
        assert 0 < len(rows) < 20  # recycled, not 500 widgets
        for row in rows:
            data = by_job[row.job_id]
            seen.add(row.job_id)
            assert row.texts["title"] == data["title_text"] and row.texts["window"] == data["window_text"]
            for name in ROW_SLOTS:
                _, rect = _slot(row, name)
                if not data[f"{name}_text"]:
                    assert tuple(rect.size) == (0, 0)  # nothing drawn
                    continue
                # Drawn, within the row's height and its column (long addresses clipped with "…").
                assert row._textures_of[name] is not None and tuple(rect.size) == tuple(row._textures_of[name].size)
                assert row.y <= rect.pos[1] and rect.pos[1] + rect.size[1] <= row.top
                assert row.x <= rect.pos[0] and rect.pos[0] + rect.size[0] <= row.right
    assert len(seen) > 30

    # The badges: R11 bar, R8 countdown colour, sync state colour.
    rv.scroll_y = 1
    headless.settle(3)
    care = next(r for r in _rows(app) if r.special_care)
    assert care._care_colour.rgba[3] == 1
    plain = next(r for r in _rows(app) if not r.special_care)
    assert plain._care_colour.rgba[3] == 0
    repair = next(r for r in _rows(app) if r.texts["sla"])
    assert _slot(repair, "sla")[0] == list(RED if repair.sla_breached else AMBER)
    assert _slot(repair, "sync")[0] == list(SYNC_COLOURS["synced"])
    assert care.texts["badges"].startswith(app.t("route.special_care"))


def test_a_pending_change_shows_on_its_row_and_a_tap_opens_the_visit(make_kivy_app, finger):
    app = make_kivy_app(demo_jobs=10)
    job = next(j for j in app.store.all("job") if j.get("route_order") == 1)
    app.store.update("job", job["id"], {"eta": "2026-11-27T09:00:00+00:00"})
    app.current_screen.refresh()
    headless.settle(3)
    row = next(r for r in _rows(app) if r.job_id == job["id"])
    assert row.texts["sync"] == app.t("syncstate.pending")
    assert _slot(row, "sync")[0] == list(SYNC_COLOURS["pending"])
    finger.tap(row)
    assert app.manager.current == "job" and app.job_id == job["id"]


def test_the_sla_countdown_moves_without_reading_the_store_again(make_kivy_app):
    app = make_kivy_app(demo_jobs=10)
    screen = app.current_screen
    vm: RouteViewModel = screen.vm
    card = next(c for c in vm.cards if c.sla_deadline is not None)
    now = card.sla_deadline - dt.timedelta(minutes=5)
    assert row_data(card, "en", now)["sla_text"] == "Respond in 5 min"
    late = row_data(card, "en", card.sla_deadline + dt.timedelta(minutes=20))
    assert late["sla_text"] == "Response overdue 20 min" and late["sla_breached"] is True

    calls = []
    real_all = app.store.all
    app.store.all = lambda *a: calls.append(a) or real_all(*a)
    try:
        vm._clock = lambda: card.sla_deadline + dt.timedelta(minutes=1)
        screen.tick()
        headless.settle(3)
    finally:
        app.store.all = real_all
    assert calls == []
    data = next(d for d in screen.ids.rv.data if d["job_id"] == card.job_id)
    assert data["sla_breached"] is True and data["sla_text"] == app.t("sla.respond_over", time=app.t("duration.m", m=1))
    row = next(r for r in _rows(app) if r.job_id == card.job_id)
    assert row.sla_breached and _slot(row, "sla")[0] == list(RED)


def test_row_texts_are_as_wide_as_their_text_and_cut_to_their_column(make_kivy_app):
    from mobile.widgets import ROW_TEXTURES

    make_kivy_app(demo_jobs=0)
    short = ROW_TEXTURES.get("维修 · 王芳", 19, True, 300, "left")
    long = ROW_TEXTURES.get("上海市浦东新区世纪大道" * 20, 18, False, 300, "left")
    assert 20 < short.width < 300  # no empty pixels to upload and draw
    assert long.width <= 300 and long.height < 60  # one line, cut with "…"
    assert ROW_TEXTURES.get("维修 · 王芳", 19, True, 300, "left") is short  # rendered once
