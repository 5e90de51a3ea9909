"""The jobs that are not routine inspections: repairs with SLA clocks (R8), a confidential complaint
(R10), a hazard rectification (R16), and unassigned jobs for the dispatcher to place.
"""

from __future__ import annotations

import datetime as dt
import uuid

from server.demo.context import Demo, Household
from server.demo.work import Planner, Visit, inspection, meter_visit, overdue_meter
from server.followups.models import FollowUpTask
from server.jobs.models import (
    CallCategory,
    Complaint,
    ComplaintStatus,
    FaultKind,
    JobSource,
    JobType,
    Priority,
    ServiceCall,
)
from server.visits.models import Hazard, HazardStatus

RESPOND = dt.timedelta(hours=6)  # R8: a network fault is handled within 6 h …
FIX = dt.timedelta(hours=24)  # … and repaired within 24 h
QUESTION_ANSWER = dt.timedelta(hours=4)  # R9
SPECIAL_ANSWER = dt.timedelta(hours=24)
COMPLAINT_WORKING_DAYS = 5  # R10
COMPLAINT_VISIT_TEXT = "投诉回访：上门核实情况并当面答复用户（投诉详情保密，由客服中心掌握）"


def _call(demo: Demo, h: Household, received: dt.datetime, category: CallCategory, reason: str,
          answered: bool = True, result: str = "") -> ServiceCall:
    limit = SPECIAL_ANSWER if category == CallCategory.SPECIAL else QUESTION_ANSWER
    return ServiceCall(
        id=uuid.uuid4(), company_id=demo.cid(), received_at=received, caller_name=h.customer.name,
        caller_phone=h.customer.phone, customer_id=h.customer.id, category=category, reason=reason,
        answer_by=received + limit, answered_at=received + dt.timedelta(minutes=4) if answered else None,
        result=result, taken_by_id=demo.users["service1"].id, created_at=received,
    )


def _repair(h: Household, created: dt.datetime, kind: FaultKind, text: str, call: ServiceCall,
            certifications: list[str]) -> Visit:
    return Visit(
        h, JobType.REPAIR, text, source=JobSource.HOTLINE, priority=int(Priority.URGENT),
        certifications=certifications, skills=["repair"], duration=60,
        chargeable=kind == FaultKind.CUSTOMER_EQUIPMENT, first=True, created_at=created,
        extra={"fault_kind": kind, "respond_by": created + RESPOND, "fix_by": created + FIX,
               "service_call_id": call.id},
    )


def plan_specials(demo: Demo, planner: Planner, hazards: list[tuple[Hazard, Household]]) -> list[list]:
    """Plan the special jobs on the planner; returns the rows they need first, in insert order
    (calls, the complaint, its follow-up task: flush them stage by stage)."""
    today, tomorrow = demo.today, demo.today + dt.timedelta(days=1)
    rows: list = []

    # A network fault reported this morning (R8: respond 6 h, fix 24 h; pressure work certificate).
    h = planner.take(0, lambda x: x.customer.category == "residential")
    created = min(demo.ago(minutes=40), demo.at(today, 7, 40))
    call = _call(demo, h, created - dt.timedelta(minutes=4), CallCategory.REPAIR,
                 "小区庭院管网压力不足，同楼多户灶具火焰小、热水器频繁熄火", result="已生成管网维修工单")
    certs = ["gas_safety", "pressure_work"]
    visit = _repair(h, created, FaultKind.NETWORK, "管网故障：小区庭院低压管网压力不足，多户反映灶具火焰小、"
                    "热水器频繁熄火，请检查调压箱及庭院管线", call, certs)
    planner.assign(planner.technician(today, 0, "repair", certs), today, visit)
    rows.append(call)

    # A customer's water heater that will not light (sent at once; chargeable, so a quote first: R3).
    h = planner.take(1, lambda x: x.has_water_heater)
    created = min(demo.ago(minutes=25), demo.at(today, 8, 10))
    call = _call(demo, h, created - dt.timedelta(minutes=4), CallCategory.REPAIR,
                 "热水器无法点火，显示故障代码E1", result="已生成维修工单，告知上门服务费标准")
    visit = _repair(h, created, FaultKind.CUSTOMER_EQUIPMENT, "用户设备故障：燃气热水器无法点火，显示故障代码E1"
                    "（收费维修，施工前须用户签字确认报价）", call, ["gas_safety"])
    planner.assign(planner.technician(today, 1, "repair", ["gas_safety"]), today, visit)
    rows.append(call)

    # A confidential complaint about a technician (R10), visited by a colleague with no interest in it.
    involved = demo.technicians[2]
    h = planner.take(0, lambda x: x.last_job is not None and x.last_job.technician_id == involved.id)
    received = demo.at(today - dt.timedelta(days=2), 10, 20)
    complaint = Complaint(
        id=uuid.uuid4(), company_id=demo.cid(), customer_id=h.customer.id, received_at=received,
        channel="hotline", complainant_name=h.customer.name, complainant_phone=h.customer.phone,
        summary="对上门安检服务态度不满",
        details=f"用户反映安检人员（工号{involved.staff_no}）检查时态度生硬、未出示工作证，且未经同意进入卧室查看。"
        "投诉人要求对其身份及投诉内容保密。",
        confidential=True, involved_technician_ids=[str(involved.id)],
        answer_by=demo.add_working_days(received, COMPLAINT_WORKING_DAYS),
        status=ComplaintStatus.OPEN, handler_id=demo.users["service1"].id, created_at=received,
    )
    call = _call(demo, h, received - dt.timedelta(minutes=6), CallCategory.COMPLAINT, "服务投诉（内容保密）",
                 result="已登记投诉，5个工作日内答复")
    rows.append(call)
    visit = Visit(h, JobType.COMPLAINT_VISIT, COMPLAINT_VISIT_TEXT,
                  source=JobSource.COMPLAINT, priority=int(Priority.URGENT), certifications=["complaint_handling"],
                  skills=["complaint"], duration=45, created_at=received + dt.timedelta(hours=1),
                  extra={"complaint_id": complaint.id, "service_call_id": call.id})
    planner.assign(planner.technician(today, 0, "complaint", ["complaint_handling"]), today, visit)
    follow_up = FollowUpTask(company_id=demo.cid(), complaint_id=complaint.id, customer_id=h.customer.id,
                             kind="complaint", due_at=complaint.answer_by, assigned_to_id=demo.users["service1"].id,
                             created_at=received)

    # The rectification visit for the hazard found four days ago (R16).
    if len(hazards) > 1:
        hazard, h = hazards[1]
        planner.busy.add(h.customer.id)
        visit = Visit(
            h, JobType.HAZARD_RECTIFICATION,
            f"隐患整改复查：{hazard.category}——{hazard.description}（整改期限 "
            f"{hazard.rectify_by.astimezone(demo.tz):%Y-%m-%d}）", source=JobSource.HAZARD_FOLLOW_UP,
            skills=["repair"], duration=45, chargeable=True, created_at=hazard.found_at + dt.timedelta(hours=2),
        )
        planner.assign(planner.technician(today, h.centre, "repair", ["gas_safety"]), today, visit)
        planner.rectifications = [(hazard, visit)]

    # Unassigned, for the dispatcher to place.
    care = planner.take(1, lambda x: x.customer.special_care)
    planner.unassigned.append((today, 13, inspection(care)))
    h = planner.take(0, lambda x: x.customer.category == "residential")
    created = min(demo.ago(minutes=15), demo.at(today, 8, 45))
    call = _call(demo, h, created - dt.timedelta(minutes=3), CallCategory.REPAIR, "燃气灶右侧灶眼打不着火",
                 result="已生成维修工单，待调度派工")
    rows.append(call)
    visit = _repair(h, created, FaultKind.CUSTOMER_EQUIPMENT, "用户设备故障：燃气灶右侧灶眼打不着火（收费维修）",
                    call, ["gas_safety"])
    planner.unassigned.append((today, None, visit))
    h = planner.take(1, lambda x: x.customer.category != "residential")
    planner.unassigned.append((tomorrow, 9, inspection(h)))
    free = {x.customer.id for x in demo.households if overdue_meter(demo, x) and x.customer.id not in planner.busy}
    if free:
        h = planner.take(0, lambda x: x.customer.id in free)
        meter = overdue_meter(demo, h)
        if meter is not None:
            planner.unassigned.append((tomorrow, 14, meter_visit(h, meter)))
    return [rows, [complaint], [follow_up]]


def link_rectifications(demo: Demo, planner: Planner) -> None:
    """Point the hazards at their rectification jobs (after the jobs exist)."""
    for hazard, visit in planner.rectifications:
        hazard.rectification_job_id = visit.job.id
        hazard.status = HazardStatus.RECTIFICATION_SCHEDULED
    demo.session.flush()
