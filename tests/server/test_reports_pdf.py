"""The customer's service report (R18): a PDF per completed visit whose text (Chinese included) reads
back, whose SHA-256 the server records, and which the server can tell is stale after the data changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from server.auth.models import Role
from server.checklists.models import ChecklistAnswer, ChecklistTemplate
from server.extensions import db
from server.reports.fonts import FontMissing, find_cjk_font
from server.reports.models import ServiceReport
from server.visits.models import FeeCollection, VisitEvent, VisitEventKind
from sync.domain.jobs import JobStatus
from tests.factories import make_household, make_job, make_technician
from tests.fixtures.visits import make_cleanup, make_hazard, make_quote

pypdf = pytest.importorskip("pypdf")
SHANGHAI = ZoneInfo("Asia/Shanghai")
D = Role.DISPATCHER


@pytest.fixture
def cjk_font():
    """The CJK font the report embeds: missing fails the test in CI and skips it on a workstation."""
    try:
        return find_cjk_font()
    except FontMissing as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have the CJK font: {exc.message}")
        pytest.skip(exc.message)


def _signature_png() -> bytes:
    image = Image.new("L", (240, 80), 255)
    ImageDraw.Draw(image).line([(10, 60), (80, 15), (150, 65), (230, 20)], fill=0, width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _template(company, code: str, version_no: int, leak_label: str) -> ChecklistTemplate:
    template = ChecklistTemplate(
        company_id=company.id, code=code, version_no=version_no, name="入户安检", job_type="repair",
        items=[{"key": "leak_test", "label": leak_label, "label_en": "Gas leak test", "type": "pass_fail_na"},
               {"key": "pressure", "label": "表前压力", "label_en": "Meter inlet pressure", "type": "number",
                "unit": "kPa"}],
        active=version_no == 2,
    )
    db.session.add(template)
    db.session.flush()
    return template


def completed_visit(company, blobstore, code: str = "home-safety"):
    """A repair visit with every part of the report: late arrival (by the corrected clock), checklist
    answered on template v1 (v2 has since been published), a hazard, a signed quote, cleanup, a fee."""
    window = dt.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    tech = make_technician(company, name="王建国")
    job = make_job(company, make_household(company, name="张伟"), technician=tech, window_start=window,
                   chargeable=True)
    used = _template(company, code, 1, "燃气泄漏检测")
    _template(company, code, 2, "泄漏检测（新版）")
    claimed = window + dt.timedelta(hours=1, minutes=55)  # 10:55 by the tablet: inside the window
    db.session.add(VisitEvent(company_id=company.id, job_id=job.id, technician_id=tech.id, kind=VisitEventKind.ARRIVED,
                              at=claimed, received_at=claimed + dt.timedelta(minutes=40), clock_offset_s=600.0,
                              corrected_at=claimed + dt.timedelta(minutes=10)))  # 11:05: late
    first = ChecklistAnswer(company_id=company.id, job_id=job.id, template_id=used.id, item_key="leak_test",
                            value={"value": "fail"}, answered_at=claimed)
    db.session.add(first)
    db.session.flush()
    for key, value, supersedes in (("leak_test", "pass", first.id), ("pressure", 2.1, None)):
        db.session.add(ChecklistAnswer(company_id=company.id, job_id=job.id, template_id=used.id, item_key=key,
                                       value={"value": value}, supersedes_id=supersedes, answered_at=claimed))
    db.session.commit()
    make_hazard(job, found_at=claimed + dt.timedelta(minutes=5), description="燃气软管老化龟裂")
    quote, signature = make_quote(job)
    png = _signature_png()
    sha = hashlib.sha256(png).hexdigest()
    blobstore.put(str(company.id), sha, png)
    signature.image_sha256 = sha
    db.session.add(FeeCollection(company_id=company.id, job_id=job.id, quote_id=quote.id, technician_id=tech.id,
                                 amount_cents=9500, method="wechat", receipt_no="RC-0001",
                                 collected_at=claimed + dt.timedelta(hours=1)))
    db.session.commit()
    make_cleanup(job)
    job.status = JobStatus.COMPLETED
    job.arrived_at = claimed
    job.work_started_at = claimed + dt.timedelta(minutes=20)
    job.completed_at = claimed + dt.timedelta(hours=1, minutes=10)
    db.session.commit()
    return job, tech, quote, signature


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_report_reads_back_with_chinese_signature_hash_and_recorded_sha(client, office, blobstore, cjk_font):
    company, headers = office
    job, tech, quote, signature = completed_visit(company, blobstore)
    resp = client.get(f"/api/v1/jobs/{job.id}/report.pdf", headers=headers[D])
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = resp.get_data()
    text = _text(pdf)
    flat = re.sub(r"\s+", "", text)
    for expected in ("测试燃气有限公司", "王建国", tech.staff_no, "张伟", job.ref, "燃气泄漏检测", "表前压力",
                     "2.1kPa", "合格Pass", "燃气软管老化龟裂", "可能划伤橱柜", "¥95.00", "RC-0001", "微信WeChat",
                     "2026-11-2610:55", "2026-11-2611:05", "迟到late", "+600"):
        assert expected in flat, expected
    assert "泄漏检测（新版）" not in flat  # labels come from the template version the visit used
    assert "不合格" not in flat  # the superseded answer is not reported
    assert signature.content_hash in flat and quote.content_hash == signature.content_hash
    assert signature.image_sha256 in flat
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images) + len(
        pypdf.PdfReader(io.BytesIO(pdf)).pages[-1].images) >= 1  # the signature image is drawn

    sha = hashlib.sha256(pdf).hexdigest()
    assert resp.headers["X-Report-SHA256"] == sha
    (row,) = db.session.query(ServiceReport).filter_by(job_id=job.id).all()
    assert row.sha256 == sha and row.size == len(pdf)
    meta = client.get(f"/api/v1/jobs/{job.id}/report", headers=headers[Role.CUSTOMER_SERVICE]).get_json()
    assert meta["sha256"] == sha and meta["stale"] is False and meta["versions"] == 1

    again = client.get(f"/api/v1/jobs/{job.id}/report.pdf", headers=headers[D]).get_data()
    assert again == pdf  # deterministic: identical data, identical bytes, no new version
    assert db.session.query(ServiceReport).filter_by(job_id=job.id).count() == 1


def test_report_goes_stale_when_the_visit_data_changes(client, office, blobstore, cjk_font):
    company, headers = office
    job, tech, quote, _ = completed_visit(company, blobstore)
    first = client.get(f"/api/v1/jobs/{job.id}/report.pdf", headers=headers[D]).get_data()
    # A late sync brings a second payment the office did not know about.
    db.session.add(FeeCollection(company_id=company.id, job_id=job.id, quote_id=quote.id, technician_id=tech.id,
                                 amount_cents=1200, method="cash", receipt_no="RC-0002",
                                 collected_at=job.completed_at))
    db.session.commit()
    meta = client.get(f"/api/v1/jobs/{job.id}/report", headers=headers[D]).get_json()
    assert meta["stale"] is True and meta["sha256"] == hashlib.sha256(first).hexdigest()
    second = client.get(f"/api/v1/jobs/{job.id}/report.pdf", headers=headers[D]).get_data()
    assert second != first and "RC-0002" in _text(second)
    meta = client.get(f"/api/v1/jobs/{job.id}/report", headers=headers[D]).get_json()
    assert meta["stale"] is False and meta["versions"] == 2 and meta["sha256"] == hashlib.sha256(second).hexdigest()


def test_reports_of_different_visits_in_one_process_each_have_their_own_glyphs(client, office, blobstore, cjk_font):
    company, headers = office
    first, *_ = completed_visit(company, blobstore)
    second, *_ = completed_visit(company, blobstore, code="home-safety-2")
    second.customer.name = "欧阳娜娜"  # characters the first report never used
    second.description = "更换燃气表 Replace meter; 阀门漏气"
    db.session.commit()
    assert "张伟" in _text(client.get(f"/api/v1/jobs/{first.id}/report.pdf", headers=headers[D]).get_data())
    text = re.sub(r"\s+", "", _text(client.get(f"/api/v1/jobs/{second.id}/report.pdf", headers=headers[D]).get_data()))
    assert "欧阳娜娜" in text and "阀门漏气" in text and "Replacemeter" in text


def test_report_needs_a_completed_visit_and_an_office_role(client, office, make_company, make_user, login, blobstore):
    company, headers = office
    open_job = make_job(company, make_household(company), technician=make_technician(company),
                        window_start=dt.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI))
    resp = client.get(f"/api/v1/jobs/{open_job.id}/report.pdf", headers=headers[D])
    assert resp.status_code == 409 and resp.get_json()["reason"] == "visit_not_completed"
    assert client.get(f"/api/v1/jobs/{open_job.id}/report", headers=headers[D]).status_code == 409
    job, *_ = completed_visit(company, blobstore)
    resp = client.get(f"/api/v1/jobs/{job.id}/report", headers=headers[D])
    assert resp.status_code == 404 and resp.get_json()["reason"] == "no_report"
    assert client.get(f"/api/v1/jobs/{job.id}/report.pdf", headers=headers[Role.TECHNICIAN]).status_code == 403
    other = make_company("other-reports")
    make_user(other, D, "other-reports-disp")
    assert client.get(f"/api/v1/jobs/{job.id}/report.pdf", headers=login("other-reports-disp")).status_code == 404


def test_a_missing_font_is_a_clear_503_naming_the_package(client, office, blobstore, monkeypatch, tmp_path):
    company, headers = office
    job, *_ = completed_visit(company, blobstore)
    monkeypatch.setenv("FIELDSYNC_CJK_FONT", str(tmp_path / "nope.ttc"))
    resp = client.get(f"/api/v1/jobs/{job.id}/report.pdf", headers=headers[D])
    body = resp.get_json()
    assert resp.status_code == 503 and body["reason"] == "cjk_font_missing" and "FIELDSYNC_CJK_FONT" in body["message"]
    monkeypatch.delenv("FIELDSYNC_CJK_FONT")
    monkeypatch.setattr("server.reports.fonts.KNOWN_PATHS", ())
    monkeypatch.setattr("server.reports.fonts.VENDORED", tmp_path / "no-fonts")
    body = client.get(f"/api/v1/jobs/{job.id}/report.pdf", headers=headers[D]).get_json()
    assert body["code"] == 503 and "apt-get install fonts-wqy-microhei" in body["message"]
    assert db.session.query(ServiceReport).count() == 0
