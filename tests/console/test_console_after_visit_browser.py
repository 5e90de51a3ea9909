"""After the visit, clicked in a real Chromium (Playwright) against the real server on loopback.

The dispatcher opens the KPIs (charts drawn by the server, figures beside them), the daily close (a demo
fee taken today against no quote is listed as a discrepancy), and from it the job's audit trail (the
tablet's change, named by device). Customer service records a follow-up call: a done call without a
score is refused beside the field with the typed notes kept, then saved with a 4. Screenshots go to
``$CONSOLE_SCREENSHOTS`` when set (``docs/screenshots`` to refresh the documentation).
"""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import signed_in_page


@pytest.fixture
def page(chromium, live_console):
    """A fresh browser page signed in as the demo dispatcher, on the KPI page."""
    yield from signed_in_page(chromium, live_console.url, "/console/kpis")


@pytest.fixture
def service_page(chromium, live_console):
    """A fresh browser page signed in as the demo's customer service, on the follow-up calls."""
    yield from signed_in_page(chromium, live_console.url, "/console/follow-ups", username="service1")


def test_dispatcher_reads_the_kpis_and_the_daily_close_then_a_jobs_audit_trail(page, live_console, shots):
    # KPIs: one server-drawn SVG chart per rule, the headline figures beside them.
    charts = page.locator("#kpi-charts figure.chart svg")
    assert charts.count() == 8
    on_time = page.locator("figure[data-chart=on_time] svg")
    assert on_time.is_visible() and on_time.bounding_box()["width"] > 300
    assert "准时到达率（R1）" in on_time.inner_html()
    figure = page.locator("[data-kpi=on_time] .tfig").inner_text()
    assert re.fullmatch(r"\d+\.\d%", figure), figure
    assert re.fullmatch(r"\d+\.\d%", page.locator("[data-kpi=coverage] .tfig").inner_text())
    assert page.locator("#kpi-technicians tr").count() >= 3
    assert page.locator("a#kpi-csv").get_attribute("href").startswith("/console/kpis.csv?from=")
    page.screenshot(path=shots / "console-kpis.png", full_page=True)

    # Daily close: today's fee naming no quote is a discrepancy, with its job.
    page.click("nav.mainnav >> text=日结对账")
    page.wait_for_url("**/console/daily-close")
    row = page.locator(f"#discrepancies tr.discrepancy[data-kind=no_quote]:has-text('{live_console.close_job_ref}')")
    assert row.count() == 1 and "收款未对应报价" in row.inner_text() and "¥50.00" in row.inner_text()
    assert "有差异" in page.locator("#close-status").inner_text()
    page.screenshot(path=shots / "console-daily-close.png", full_page=True)
    page.click("text=月度对账")
    page.wait_for_url("**/console/daily-close/month**")
    assert page.locator(f"#discrepancies tr.discrepancy:has-text('{live_console.close_job_ref}')").count() == 1

    # The job's audit trail: who changed what, when, from which device.
    page.locator(f"#discrepancies a:has-text('{live_console.close_job_ref}')").click()
    page.wait_for_url(f"**/console/jobs/{live_console.close_job_id}")
    trail = page.locator("#audit")
    trail.wait_for()
    text = trail.inner_text()
    assert f"平板 {live_console.audit_device}" in text and "eta" in text and "收款" in text
    page.screenshot(path=shots / "console-job-audit.png", full_page=True)


def test_customer_service_records_a_follow_up_outcome(service_page, live_console, shots):
    page = service_page
    done_before = int(page.locator("nav.tabs a:has-text('已完成') .count").inner_text())  # the demo's calls made
    row = page.locator(f"tr.fu:has-text('{live_console.follow_up_job_ref}')")
    assert row.get_attribute("data-status") == "open"
    said = "用户表示师傅准时，讲解清楚"
    row.locator("input[name=status][value=done]").check()
    row.locator("textarea[name=outcome]").fill(said)
    row.locator("button.primary").click()
    # Refused beside the field (no score for a done call); the notes typed are still there.
    error = page.locator(f"tr.fu:has-text('{live_console.follow_up_job_ref}') .fielderr[data-field=satisfaction]")
    error.wait_for()
    row = page.locator(f"tr.fu:has-text('{live_console.follow_up_job_ref}')")
    assert row.locator("textarea[name=outcome]").input_value() == said
    assert row.locator("input[name=status][value=done]").is_checked()
    row.locator("input[name=satisfaction][value='4']").check()
    row.locator("button.primary").click()
    page.locator(f"tr.fu[data-status=done]:has-text('{live_console.follow_up_job_ref}')").wait_for()
    done = page.locator(f"tr.fu:has-text('{live_console.follow_up_job_ref}')").inner_text()
    assert "4/5" in done and said in done and "回访结果已保存" in done
    # The counts above the list follow (htmx refetches them when the outcome is saved).
    page.locator(f"nav.tabs a:has-text('已完成') .count:text-is('{done_before + 1}')").wait_for()
    page.evaluate("window.scrollTo(0, 0)")  # the whole list from its top (the bar stays on top of the page)
    page.screenshot(path=shots / "console-followups.png", full_page=True)
    # The filter: it is among the done calls now, and no longer among those to make.
    page.click("nav.tabs >> text=已完成")
    page.wait_for_url("**/console/follow-ups?show=done")
    assert page.locator(f"tr.fu:has-text('{live_console.follow_up_job_ref}')").count() == 1
    page.click("nav.tabs >> text=待回访")
    page.wait_for_url("**/console/follow-ups?show=open")
    assert page.locator(f"tr.fu:has-text('{live_console.follow_up_job_ref}')").count() == 0
