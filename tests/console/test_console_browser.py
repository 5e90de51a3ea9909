"""The console clicked in a real Chromium (Playwright) against the real server on loopback.

A dispatcher signs in, takes a hotline call, assigns the new job, is refused (R14, on screen) when
giving a demo job to a technician without the certification it needs, resolves a sync conflict, and
looks at every page in Chinese and English. Screenshots go to ``$CONSOLE_SCREENSHOTS`` when set
(``docs/screenshots`` to refresh the documentation), else to the test's temporary folder.
"""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import signed_in_page


@pytest.fixture
def page(chromium, live_console):
    """A fresh browser page signed in as the demo dispatcher, on /console/board."""
    yield from signed_in_page(chromium, live_console.url, "/console/board", timeout_ms=10_000)


def test_dispatcher_takes_a_call_assigns_it_and_resolves_a_conflict(page, live_console, shots):
    base = live_console.url
    # The board: technicians × hours, demo jobs placed on it.
    assert page.locator(".gridrow").count() >= 4
    assert page.locator(".block").count() >= 4
    page.screenshot(path=shots / "console-board.png", full_page=True)

    # Hotline intake: search as you type, pick the customer, a network repair.
    page.click("nav.mainnav >> text=热线受理")
    page.wait_for_url("**/console/intake")
    page.fill("input[name=caller_name]", "刘女士")
    page.fill("input[name=caller_phone]", "13912345678")
    page.select_option("select[name=category]", "repair")
    assert page.locator("#jobtype").inner_text() == "维修"
    page.fill("textarea[name=reason]", "楼道里有燃气味，表前阀附近")
    page.locator("input[name=q]").press_sequentially("上海", delay=30)
    page.wait_for_selector("#customer-results input[name=customer_id]")
    page.locator("#customer-results label").first.click()
    page.check("input[name=fault_kind][value=network]")
    page.screenshot(path=shots / "console-intake.png", full_page=True)
    page.click("form#intake button.primary")
    page.wait_for_selector(".sla")
    done = page.locator("main").inner_text()
    assert "工单 GD-" in done and "6 小时响应期限" in done and "24 小时修复期限" in done
    assert re.search(r"剩余 (5 小时 5\d|6 小时 0) 分", done)
    ref = re.search(r"GD-\d{8}-\d{4}", done).group(0)
    page.screenshot(path=shots / "console-intake-done.png", full_page=True)

    # To the board with the new job's panel open: assign a technician.
    page.click("text=去看板派工")
    page.wait_for_selector("#panel .panelhead")
    assert ref in page.locator("#panel").inner_text()
    panel_select = page.locator("#panel select[name=technician_id]")
    chosen = panel_select.locator("option:not([value=''])").first
    name = chosen.inner_text().split()[0]
    panel_select.select_option(chosen.get_attribute("value"))
    page.click("#panel form.stack button.primary")
    page.wait_for_selector(".flash.ok")
    assert f"已派给 {name}" in page.locator(".flash.ok").inner_text()
    assert name in page.locator("#panel").inner_text()

    # A demo job needing a certification the chosen technician lacks: the R14 gate refuses on screen.
    page.goto(f"{base}/console/board?d={live_console.refused_day}&job={live_console.refused_job}")
    page.locator("#panel select[name=technician_id]").select_option(live_console.unqualified_technician)
    page.click("#panel form.stack button.primary")
    refusal = page.locator(".refusal")
    refusal.wait_for()
    assert "R14" in refusal.inner_text() and refusal.get_attribute("data-reason") == "not_qualified"
    page.screenshot(path=shots / "console-board-refused.png", full_page=True)

    # The conflicts inbox: both values, the rule, who must look; keep the server's value.
    page.click("nav.mainnav >> text=同步冲突")
    page.wait_for_url("**/console/conflicts")
    open_before = page.locator("article.conflict").count()
    card = page.locator("article.conflict").first
    text = card.inner_text()
    assert "plan_owned_by_dispatch" in text and "服务器的值" in text and "平板的值" in text and "调度员" in text
    page.screenshot(path=shots / "console-conflicts.png", full_page=True)
    card.locator("input[name=note]").fill("已与技术员电话确认")
    card.locator("button[value=keep_server]").click()
    page.wait_for_selector(".flash.ok")
    # The demo's own conflicts (a stale route_order, both access notes) stay open for the next look.
    assert page.locator("article.conflict").count() == open_before - 1
    assert "plan_owned_by_dispatch" not in page.locator("main").inner_text()
    page.goto(base + "/console/conflicts?status=resolved")
    assert "已与技术员电话确认" in page.locator("article.conflict").first.inner_text()


def test_every_page_renders_in_both_languages(page, live_console, shots):
    base = live_console.url
    pages = {"map": "/console/map", "clocks": "/console/clocks", "households": "/console/households",
             "complaints": "/console/complaints"}
    for name, path in pages.items():
        page.goto(base + path)
        assert page.locator("h1").first.is_visible()
        page.screenshot(path=shots / f"console-{name}.png", full_page=True)
    # The route map draws stops as numbered circles joined from the start point.
    page.goto(base + "/console/map")
    svg = page.locator("svg.routesvg").first
    assert svg.locator("circle").count() >= 1 and svg.locator("rect.startpt").count() == 1
    # One household file.
    page.goto(base + "/console/households")
    page.locator("#special-care a").first.click()
    page.wait_for_selector("text=一户一档")
    page.screenshot(path=shots / "console-household.png", full_page=True)
    # English.
    page.goto(base + "/console/board")
    page.click(".topbar button[value=en]")
    page.wait_for_selector("h1:has-text('Day board for')")
    assert page.locator("nav.mainnav").inner_text().split() == [
        "Day", "board", "Route", "map", "Planning", "Hotline", "intake", "Clocks", "Conflicts", "Households",
        "KPIs", "Daily", "close", "Follow-ups", "Complaints", "Tablets"]
    page.screenshot(path=shots / "console-board-en.png", full_page=True)
    page.goto(base + "/console/clocks")
    assert "Repair SLA (R8" in page.locator("main").inner_text()
    page.goto(base + "/console/kpis")
    assert "On-time arrival (R1)" in page.locator("figure[data-chart=on_time] svg").inner_html()
    assert "Inspection coverage (R7)" in page.locator("[data-kpi=coverage]").inner_text()
    page.screenshot(path=shots / "console-kpis-en.png", full_page=True)
    page.goto(base + "/console/clocks")
    page.click(".topbar button[value=zh-CN]")
    page.wait_for_selector("h1:has-text('时限监控')")
