"""Pure rules of a visit: quote hashing and approval (R3), hazard deadlines (R16), the visit gates (R3, R4)."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest

from sync.domain.hazards import (
    CRITICAL_RECTIFY_WITHIN,
    MAJOR_RECTIFY_WITHIN,
    MINOR_RECTIFY_WITHIN,
    deadline_problem,
    is_overdue,
    rectify_by,
    suggest_hazard,
)
from sync.domain.jobs import JobStatus
from sync.domain.quotes import (
    approval_covers,
    canonical_json,
    content_hash,
    covering_signature,
    line_amount_cents,
    make_line,
    quote_content,
    validate_quote,
)
from sync.domain.visits import (
    APPROVAL_REQUIRED,
    CLEANUP_REQUIRED,
    can_complete,
    can_start_work,
    gate_for_status,
)

JOB_ID = "6f1c2a4e-0000-4000-8000-000000000001"
QUOTE_ID = "6f1c2a4e-0000-4000-8000-0000000000q1".replace("q", "a")


def a_quote(**overrides) -> dict:
    quote = {
        "id": QUOTE_ID,
        "job_id": JOB_ID,
        "status": "approved",
        "lines": [
            {"code": "P-101", "description": "燃气软管 1.5 m", "kind": "part", "qty": 1, "unit": "根",
             "unit_price_cents": 4500, "amount_cents": 4500},
            {"code": "L-01", "description": "更换人工", "kind": "labour", "qty": 1.5, "unit": "小时",
             "unit_price_cents": 3333, "amount_cents": 5000},
        ],
        "total_cents": 9500,
        "currency": "CNY",
        "risk_note": "更换时可能划伤橱柜表面",
        "technician_name": "李师傅",
        "staff_no": "T00042",
    }
    quote.update(overrides)
    return quote


def a_signature(quote: dict, **overrides) -> dict:
    sig = {"job_id": quote["job_id"], "quote_id": quote["id"], "purpose": "quote_approval",
           "content_hash": content_hash(quote), "signer_name": "张伟"}
    sig.update(overrides)
    return sig


# --- quotes: the canonical form and its hash ---------------------------------------------------


def test_canonical_json_is_sorted_compact_and_uses_integer_cents():
    text = canonical_json(a_quote())
    assert text.startswith('{"currency":"CNY","job_id":"' + JOB_ID + '","lines":[{"amount_cents":4500,')
    assert " " not in text.replace("燃气软管 1.5 m", "")  # no whitespace beyond the description's own
    assert '"qty":"1.5"' in text and '"qty":"1"' in text
    assert "燃气软管" in text  # UTF-8, not \\u escapes: the same bytes on every platform
    assert content_hash(a_quote()) == hashlib.sha256(text.encode()).hexdigest()


def test_a_fixed_test_vector_so_other_implementations_can_check_themselves():
    quote = {"job_id": "00000000-0000-4000-8000-000000000001", "currency": "CNY", "risk_note": "无",
             "technician_name": "李", "staff_no": "T1", "total_cents": 150,
             "lines": [{"code": "F", "description": "上门费", "kind": "fee", "qty": 1.5, "unit": "次",
                        "unit_price_cents": 100, "amount_cents": 150}]}
    assert canonical_json(quote) == (
        '{"currency":"CNY","job_id":"00000000-0000-4000-8000-000000000001","lines":[{"amount_cents":150,'
        '"code":"F","description":"上门费","kind":"fee","qty":"1.5","unit":"次","unit_price_cents":100}],'
        '"risk_note":"无","staff_no":"T1","technician_name":"李","total_cents":150}'
    )
    assert content_hash(quote) == hashlib.sha256(canonical_json(quote).encode("utf-8")).hexdigest()


def test_hash_ignores_representation_but_not_content():
    base = content_hash(a_quote())
    shuffled = {k: a_quote()[k] for k in reversed(list(a_quote()))}
    assert content_hash(shuffled) == base
    relabelled = a_quote(job_id=JOB_ID.upper(), status="draft", id="other")  # status and row id are not content
    assert content_hash(relabelled) == base
    lines = a_quote()["lines"]
    lines[0] = lines[0] | {"qty": 1.0}
    lines[1] = lines[1] | {"qty": "1.50"}
    assert content_hash(a_quote(lines=lines)) == base
    for change in ({"total_cents": 9501}, {"risk_note": "无"}, {"staff_no": "T00043"},
                   {"technician_name": "王师傅"}, {"currency": "HKD"}, {"job_id": str(uuid.uuid4())}):
        assert content_hash(a_quote(**change)) != base, change


def test_hash_of_an_object_with_attributes_equals_hash_of_the_mapping():
    class Row:
        pass

    row = Row()
    for key, value in a_quote(job_id=uuid.UUID(JOB_ID)).items():
        setattr(row, key, value)
    assert content_hash(row) == content_hash(a_quote())


def test_line_amount_is_qty_times_price_rounded_half_up():
    assert line_amount_cents(1.5, 333) == 500  # 499.5
    assert line_amount_cents("0.1", 5) == 1  # 0.5
    assert line_amount_cents(3, 1250) == 3750
    line = make_line("P-1", "阀门", "part", "2", "个", 1999)
    assert line.amount_cents == 3998 and line.qty == Decimal(2)


def test_a_valid_quote_has_no_problems():
    assert validate_quote(a_quote()) == []
    assert validate_quote(quote_content(a_quote())) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "lines"),
        ({"total_cents": 9499}, "total_cents"),
        ({"total_cents": 95.0}, "total_cents"),
        ({"currency": "yuan"}, "currency"),
        ({"risk_note": "  "}, "risk_note"),
        ({"technician_name": ""}, "technician_name"),
        ({"staff_no": ""}, "staff_no"),
    ],
)
def test_quote_problems_name_the_field(change, field):
    assert field in [p.field for p in validate_quote(a_quote(**change))]


@pytest.mark.parametrize(
    ("line_change", "field"),
    [
        ({"amount_cents": 4501}, "lines.0.amount_cents"),
        ({"unit_price_cents": 45.0}, "lines.0.unit_price_cents"),
        ({"unit_price_cents": -1}, "lines.0.unit_price_cents"),
        ({"qty": 0}, "lines.0.qty"),
        ({"qty": "two"}, "lines.0.qty"),
        ({"qty": True}, "lines.0.qty"),
        ({"kind": "gift"}, "lines.0.kind"),
        ({"code": ""}, "lines.0.code"),
    ],
)
def test_line_problems_name_the_line_and_field(line_change, field):
    lines = a_quote()["lines"]
    lines[0] = lines[0] | line_change
    assert field in [p.field for p in validate_quote(a_quote(lines=lines))]


# --- approval_covers (R3) ------------------------------------------------------------------------


def test_a_signature_covers_exactly_the_content_it_signed():
    quote = a_quote()
    sig = a_signature(quote)
    assert approval_covers(quote, sig)
    edited = a_quote(total_cents=9000, lines=[quote["lines"][0] | {"amount_cents": 4500}])
    assert not approval_covers(edited, sig)  # editing the quote voids the approval


def test_a_signature_does_not_cover_a_void_refused_other_or_deleted_quote():
    quote = a_quote()
    sig = a_signature(quote)
    assert not approval_covers(a_quote(status="void"), sig)
    assert not approval_covers(a_quote(status="refused"), sig)
    assert not approval_covers(a_quote(id=str(uuid.uuid4())), sig)  # same content, another quote
    assert not approval_covers(quote, sig | {"purpose": "quote_refusal"})
    assert not approval_covers(quote, sig | {"purpose": "cleanup"})
    assert not approval_covers(quote, sig | {"deleted": True})
    assert not approval_covers(quote, sig | {"job_id": str(uuid.uuid4())})
    assert not approval_covers(quote, sig | {"content_hash": "0" * 64})
    broken = a_quote(lines=[quote["lines"][0] | {"qty": "lots"}])
    assert not approval_covers(broken, sig)  # an unreadable quote is never covered, never a crash
    assert covering_signature(quote, [sig | {"purpose": "cleanup"}, sig]) == sig


# --- the gates ----------------------------------------------------------------------------------


def test_a_job_that_is_not_chargeable_may_start_without_a_quote():
    assert can_start_work({"id": JOB_ID, "chargeable": False}, [], [])


def test_chargeable_work_needs_a_signed_approved_quote():
    job = {"id": JOB_ID, "chargeable": True}
    gate = can_start_work(job, [], [])
    assert not gate and gate.reason == APPROVAL_REQUIRED and "approved" in gate.message
    quote = a_quote()
    assert not can_start_work(job, [quote], [])  # approved status alone is not a signature
    assert can_start_work(job, [quote], [a_signature(quote)])
    assert not can_start_work(job, [a_quote(status="draft")], [a_signature(quote)])  # not marked approved


def test_an_edited_quote_stops_work_with_a_message_that_says_why():
    job = {"id": JOB_ID, "chargeable": True}
    sig = a_signature(a_quote())
    gate = can_start_work(job, [a_quote(risk_note="可能损坏地砖")], [sig])
    assert not gate and gate.reason == APPROVAL_REQUIRED and "changed after" in gate.message


def test_a_refusal_is_recorded_but_never_lets_work_start():
    job = {"id": JOB_ID, "chargeable": True}
    refused = a_quote(status="refused")
    refusal = a_signature(refused, purpose="quote_refusal")
    gate = can_start_work(job, [refused], [refusal])
    assert not gate and gate.reason == APPROVAL_REQUIRED and "refused" in gate.message


def test_quotes_and_signatures_of_other_jobs_or_tombstones_do_not_count():
    job = {"id": JOB_ID, "chargeable": True}
    quote = a_quote()
    assert not can_start_work(job, [quote | {"deleted": True}], [a_signature(quote)])
    other = str(uuid.uuid4())
    other_quote = a_quote(job_id=other)
    assert not can_start_work(job, [other_quote], [a_signature(other_quote)])


def test_completion_needs_the_customers_cleanup_confirmation():
    job = {"id": JOB_ID}
    gate = can_complete(job, [])
    assert not gate and gate.reason == CLEANUP_REQUIRED
    unconfirmed = {"job_id": JOB_ID, "customer_confirmed": False, "checklist": {"waste_removed": True}}
    assert not can_complete(job, [unconfirmed])
    assert not can_complete(job, [unconfirmed | {"customer_confirmed": True, "deleted": True}])
    assert can_complete(job, [unconfirmed, unconfirmed | {"customer_confirmed": True}])


def test_gate_for_status_applies_the_right_rules():
    job = {"id": JOB_ID, "chargeable": True}
    quote = a_quote()
    cleanup = {"job_id": JOB_ID, "customer_confirmed": True}
    assert gate_for_status(job, JobStatus.EN_ROUTE)
    assert gate_for_status(job, "in_progress").reason == APPROVAL_REQUIRED
    assert gate_for_status(job, "completed", cleanups=[cleanup]).reason == APPROVAL_REQUIRED
    signed = {"quotes": [quote], "signatures": [a_signature(quote)]}
    assert gate_for_status(job, "in_progress", **signed)
    assert gate_for_status(job, "completed", **signed).reason == CLEANUP_REQUIRED
    assert gate_for_status(job, "completed", cleanups=[cleanup], **signed)


# --- hazards (R16) ------------------------------------------------------------------------------

FOUND = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def test_rectification_deadline_follows_severity():
    assert dt.timedelta(hours=24) == CRITICAL_RECTIFY_WITHIN
    assert dt.timedelta(days=7) == MAJOR_RECTIFY_WITHIN
    assert dt.timedelta(days=30) == MINOR_RECTIFY_WITHIN
    assert rectify_by("critical", FOUND) == FOUND + dt.timedelta(hours=24)
    assert rectify_by("major", FOUND) == dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
    assert rectify_by("minor", FOUND) == dt.datetime(2026, 12, 27, 9, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError):
        rectify_by("catastrophic", FOUND)
    with pytest.raises(ValueError):
        rectify_by("major", FOUND.replace(tzinfo=None))


def test_a_deadline_later_than_r16_allows_is_a_problem():
    assert deadline_problem("major", FOUND, FOUND + dt.timedelta(days=7)) is None
    assert deadline_problem("major", FOUND.isoformat(), (FOUND + dt.timedelta(days=2)).isoformat()) is None  # stricter
    assert "R16" in deadline_problem("critical", FOUND, FOUND + dt.timedelta(hours=25))
    assert "before the hazard was found" in deadline_problem("minor", FOUND, FOUND - dt.timedelta(seconds=1))
    assert "unknown severity" in deadline_problem("bad", FOUND, FOUND)
    assert "timezone-aware" in deadline_problem("minor", "2026-11-27T09:00:00", FOUND)


def test_overdue_only_while_not_fixed():
    deadline = rectify_by("critical", FOUND)
    later = deadline + dt.timedelta(minutes=1)
    assert is_overdue("open", deadline, later)
    assert is_overdue("rectification_scheduled", deadline, later)
    assert not is_overdue("fixed", deadline, later)
    assert not is_overdue("open", deadline, deadline)


PRESSURE = {"key": "inlet_pressure", "label": "进口压力", "label_en": "Inlet pressure", "type": "number",
            "unit": "kPa", "min": 1.8, "max": 2.5, "hazard_on_fail": "critical"}


def test_an_out_of_limit_number_suggests_a_hazard():
    assert suggest_hazard(PRESSURE, {"value": 2.0}) is None
    assert suggest_hazard(PRESSURE, 1.8) is None  # limits are inclusive
    high = suggest_hazard(PRESSURE, {"value": 3.1})
    assert high.item_key == "inlet_pressure" and high.severity == "critical"
    assert high.rectify_within == dt.timedelta(hours=24) and "above the maximum 2.5 kPa" in high.description
    low = suggest_hazard(PRESSURE | {"hazard_on_fail": None}, 1.2)
    assert low.severity == "major" and "below the minimum" in low.description
    assert suggest_hazard(PRESSURE, {"value": None}) is None  # unanswered: nothing to suggest


def test_a_failed_item_suggests_the_hazard_it_names():
    hose = {"key": "hose_ok", "label": "软管完好", "type": "pass_fail_na", "hazard_on_fail": "minor"}
    assert suggest_hazard(hose, {"value": "pass"}) is None
    assert suggest_hazard(hose, {"value": "fail"}).severity == "minor"
    assert suggest_hazard(hose | {"hazard_on_fail": None}, "fail") is None
    with pytest.raises(ValueError):
        suggest_hazard(hose | {"hazard_on_fail": "bad"}, "fail")


def test_domain_modules_import_no_framework():
    code = (
        "import sys, sync.domain.quotes, sync.domain.hazards, sync.domain.visits;"
        "bad = {'flask', 'sqlalchemy', 'kivy', 'requests', 'marshmallow', 'sqlite3'} & set(sys.modules);"
        "print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_swapped_arguments_fail_loudly_not_silently():
    quote = a_quote()
    with pytest.raises(TypeError):
        approval_covers(a_signature(quote), quote)
