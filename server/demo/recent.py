"""The last five weeks of finished work, so the console's KPI page, daily close and follow-up calls show
real figures: mostly within the rules, with the few misses a real month has (R1 R2 R3 R6 R8 R10 R16 R17).

On the company's working days of the last 35 days (``households.RECENT_DAYS``, server.jobs.calendar):

- the inspections the households' files hold for those days (households.py; hazards.py found some hazards);
- hotline repairs (``REPAIRS``): network faults with their 6 h / 24 h clocks (R8), and paid repairs of the
  customers' appliances, each with a quote the customer signed before the work and its fee (R3, R17);
- complaints answered within 5 working days, one after an agreed extension, one late (R10), each visited by
  a technician the complaint does not name;
- hazards found on an inspection and confirmed fixed by a paid rectification visit, one still open (R16);
- for every finished visit what its tablet's sync recorded — en route, arrived, departed, with the tablet
  clock's offset and the corrected time the KPIs use (R1) — a running-late message to most customers kept
  waiting (R2), and the follow-up call: done with a 1–5 score, or, for the last working day, still to make
  (R6); a few of the last week's customers were not reached and are to be called again.

The deliberate misses (``story_*``) all fall in the last ``STORY_SPAN`` working days, so a month-to-date KPI
page shows every one once the month is that old: late arrivals (one that only the clock correction
reveals), a window moved at short notice, a network fault answered late, a repair finished late, a
signature taken after the work began, a complaint answered late, and the last working day's takings short
of an approved quote (the daily close lists it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from server.customers.models import CustomerCategory
from server.demo.context import Demo, Household
from server.demo.history import paid_work, rectification
from server.demo.households import RECENT_DAYS, add_months, past_visit
from server.demo.org import INTERVALS
from server.demo.specials import COMPLAINT_VISIT_TEXT, _call, _repair
from server.followups.models import FollowUpStatus, FollowUpTask
from server.followups.service import follow_up_kind
from server.jobs.appointments import agree_window, end_appointment
from server.jobs.models import (
    Appointment,
    CallCategory,
    Complaint,
    ComplaintStatus,
    FaultKind,
    Job,
    JobSource,
    JobType,
    Priority,
)
from server.notifications.models import Notification, NotificationStatus
from server.people.service import qualified
from server.sync.models import Device
from server.visits.models import Hazard, HazardSeverity, VisitEvent, VisitEventKind
from sync.domain.jobs import JobStatus

STORY_SPAN = 8  # working days before today holding every deliberate miss
# Server − device clock (seconds) of each technician's tablet as its last sync measured it; the others are
# within a few seconds. SJ-1007's tablet runs nine minutes slow: its claimed times look earlier than they were.
TABLET_OFFSETS = {"SJ-1007": 540.0, "SJ-1004": -150.0}
REPAIR_SHARE = 0.12  # hotline repairs in the five weeks, per household
MIN_VISITS = 3  # every technician's visits in the last four weeks, at least (a small demo has few households)
SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS = (56, 30, 10, 3, 1)
OUTCOMES = {
    5: ("用户对服务非常满意", "用户表示师傅准时、讲解清楚", "用户满意，无其他诉求"),
    4: ("用户基本满意", "用户满意，建议上门前再提前电话联系"),
    3: ("用户认为服务一般，等候时间较长",),
    2: ("用户不满意：师傅迟到且未提前告知",),
    1: ("用户非常不满意，已转投诉专员跟进",),
}
# Appliance repairs a customer pays for: (call reason, job text, quote lines, risk of damage).
REPAIRS = (
    ("热水器打不着火，显示故障代码E1", "用户设备故障：燃气热水器无法点火（收费维修，施工前须用户签字确认报价）",
     (("P-IGNITER", 1), ("L-BASIC", 1), ("F-CALLOUT", 1)), "需拆开热水器面板更换点火针，不影响墙面及烟道。"),
    ("灶具一侧打火后松手即熄火", "用户设备故障：燃气灶熄火保护失灵（收费维修）",
     (("P-THERMO", 2), ("L-BASIC", 1), ("F-CALLOUT", 1)), "需拆下灶具面板更换热电偶，台面不受影响。"),
    ("厨房闻到轻微燃气味，灶前软管发硬", "用户设备故障：灶前软管老化（收费更换）",
     (("P-HOSE-15", 1), ("P-CLAMP", 2), ("L-BASIC", 1), ("F-CALLOUT", 1)),
     "更换软管时需短时关闭表前阀；施工在灶台下方进行，不会损坏橱柜台面。"),
    ("热水器使用时忽冷忽热，怀疑减压阀故障", "用户设备故障：户内减压阀出口压力不稳（收费更换）",
     (("P-REG-HOME", 1), ("L-HOUR", 1), ("F-CALLOUT", 1)), "更换减压阀需关闭表前阀约30分钟，期间停止用气。"),
)
NETWORK_FAULTS = (
    ("楼道内闻到燃气味，怀疑立管接口渗漏", "管网故障：楼栋立管接口渗漏，检漏并紧固更换密封件"),
    ("小区多户灶具火焰偏小", "管网故障：庭院调压箱出口压力偏低，检查调压器"),
)
NETWORK_CERTS = ["gas_safety", "pressure_work"]


class Recent:
    """The rows of the five weeks, gathered stage by stage (parents first) and flushed once per stage."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        cutoff = demo.today - dt.timedelta(days=RECENT_DAYS)
        self.days = [d for d in demo.working_days_back(RECENT_DAYS) if d >= cutoff]  # most recent first
        self.start = demo.at(cutoff, 0)
        self.offsets = {t.id: TABLET_OFFSETS.get(t.staff_no, round(demo.rng.uniform(-2.5, 2.5), 1))
                        for t in demo.technicians}
        self.used: set[uuid.UUID] = set()  # households already in a story
        self.told: set[uuid.UUID] = set()  # jobs whose lateness a story already explained
        self.scores: dict[uuid.UUID, int] = {}  # follow-up scores a story fixes
        self.first: list = []  # calls, complaints
        self.jobs: list[Job] = []
        self.second: list = []  # appointments, hazards, quotes
        self.third: list = []  # signatures, cleanups, fees, events, notifications, follow-ups

    def day(self, working_days_ago: int) -> dt.date:
        """The ``n``-th working day before today (1: the last one), within the five weeks."""
        return self.days[min(working_days_ago, len(self.days)) - 1]

    def household(self, centre: int | None, want: Callable[[Household], bool] = lambda h: True) -> Household:
        """A household not yet in a story (of ``centre`` when it has one), the most pressing inspection first."""
        demo = self.demo
        tiers = (lambda h: (centre is None or h.centre == centre) and want(h), lambda h: want(h), lambda h: True)
        for tier in tiers:
            pool = [h for h in demo.households if h.customer.id not in self.used and tier(h)]
            if pool:
                break
        else:
            pool = demo.households  # a tiny demo: reuse a household
        h = min(pool, key=lambda h: (h.inspection_due or demo.today, h.customer.account_no))
        self.used.add(h.customer.id)
        return h

    def technician(self, day: dt.date, skill: str, certifications: list[str], centre: int | None = None,
                   exclude: tuple = ()):
        """The technician with ``skill`` qualified on ``day`` (R14), of ``centre`` when one can, least booked that
        day, then over the five weeks."""
        demo = self.demo
        able = [t for t in demo.technicians if skill in t.skills and t.id not in exclude
                and not qualified(t, certifications, day)]
        here = [t for t in able if centre is None or t.service_centre_id == demo.centres[centre].id]
        return min(here or able, key=lambda t: (len(demo.booked.get((t.id, day), ())), self.load(t), t.staff_no))

    def load(self, tech) -> int:
        """Visits booked for the technician over the five weeks."""
        return sum(len(self.demo.booked.get((tech.id, d), ())) for d in self.days)

    def add(self, job: Job, *rows) -> Job:
        self.jobs.append(job)
        self.second.extend(rows)
        return job

    def flush(self) -> None:
        for stage in (self.first, self.jobs, self.second, self.third):
            self.demo.flush(stage)
            stage.clear()


def make_recent(demo: Demo) -> None:
    """Fill the last five weeks: repairs, complaints, fixed hazards, the deliberate misses, then what each
    finished visit's sync and follow-up call left behind."""
    recent = Recent(demo)
    if not recent.days:
        return
    _repairs(recent)
    _complaints(recent)
    _fixed_hazards(recent)
    for story in (story_late_told_in_time, story_late_told_late, story_late_by_the_clock, story_network_answered_late,
                  story_repair_finished_late, story_signed_after_work_began, story_short_payment):
        story(recent)
    _nobody_idle(recent)
    recent.flush()
    story_windows_changed(recent)
    _settle(recent)
    recent.flush()


# --- background work ----------------------------------------------------------------------------------


def _inspection(recent: Recent, day: dt.date, tech, h: Household, **kw) -> Job:
    """An inspection on ``day``: the household's file moves its last inspection there."""
    job, appointment = past_visit(recent.demo, h, day, tech, **kw)
    h.last_inspection, h.last_job = day, job
    h.inspection_due = add_months(day, INTERVALS[h.customer.category.value])
    return recent.add(job, appointment)


def _repair_visit(recent: Recent, day: dt.date, kind: FaultKind, created: dt.datetime, *, late: int | None = None,
                  pick: int = 0, hour: int | None = None, completed: dt.datetime | None = None,
                  signed_late: int | None = None, short_by: int = 0) -> Job:
    """A hotline repair reported at ``created``, visited on ``day`` (the window after the call) and fixed then
    (or ``completed``); a customer's appliance is paid for with the paperwork of ``paid_work`` (its signature
    ``signed_late`` minutes after the work began, its fee ``short_by`` cents short, when a story says so)."""
    demo = recent.demo
    if kind == FaultKind.NETWORK:
        reason, text = NETWORK_FAULTS[pick % len(NETWORK_FAULTS)]
        certs, lines = NETWORK_CERTS, None
    else:
        reason, text, lines, risk = REPAIRS[pick % len(REPAIRS)]
        certs = ["gas_safety"]
    h = recent.household(None, lambda x: x.customer.category == CustomerCategory.RESIDENTIAL)
    tech = recent.technician(day, "repair", certs, h.centre)
    call = _call(demo, h, created - dt.timedelta(minutes=4), CallCategory.REPAIR, reason,
                 result="已生成维修工单")
    if hour is None:
        local = created.astimezone(demo.tz)
        hour = min(15, max(9, local.hour + 1)) if local.date() == day else 9
    job, appointment = past_visit(demo, h, day, tech, JobType.REPAIR, text, hour=hour,
                                  late=late if late is not None else demo.rng.randint(5, 70), created=created)
    plan = _repair(h, created, kind, text, call, certs)
    job.source, job.priority, job.required_certifications = plan.source, plan.priority, list(certs)
    job.required_skills, job.duration_minutes = list(plan.skills), plan.duration
    for name, value in plan.extra.items():
        setattr(job, name, value)
    if completed is not None:
        job.completed_at, job.departed_at = completed, completed + dt.timedelta(minutes=5)
    recent.first.append(call)
    recent.add(job, appointment)
    if lines is not None:
        signed = job.work_started_at + dt.timedelta(minutes=signed_late) if signed_late is not None else None
        quote, *paperwork = paid_work(demo, job, h, tech, lines, risk, signed_at=signed, short_by=short_by)
        recent.second.append(quote)
        recent.third.extend(paperwork)
    return job


def _repairs(recent: Recent) -> None:
    """Hotline repairs spread over the five weeks, all within their clocks."""
    demo = recent.demo
    for i in range(max(2, round(len(demo.households) * REPAIR_SHARE))):
        day = demo.rng.choice(recent.days)
        created = demo.at(day, demo.rng.randint(8, 14), demo.rng.randrange(0, 60, 5))
        kind = FaultKind.NETWORK if i % 3 == 0 else FaultKind.CUSTOMER_EQUIPMENT
        _repair_visit(recent, day, kind, created, pick=i)


def _complaint(recent: Recent, received_ago: int, answered_after: int, summary: str, answer: str, *,
               extension: tuple[int, str] | None = None) -> Complaint:
    """A complaint about a visit, received ``received_ago`` working days back and answered ``answered_after``
    working days later, after a visit by a complaint handler the complaint does not name (R10)."""
    demo = recent.demo
    received_day = recent.day(received_ago)
    received = demo.at(received_day, 10, 15)
    h = recent.household(None)
    involved = demo.technicians[(received_ago + 4) % len(demo.technicians)]
    answer_by = demo.add_working_days(received, 5)
    answered_day = recent.day(max(1, received_ago - answered_after))
    complaint = Complaint(
        id=uuid.uuid4(), company_id=demo.cid(), customer_id=h.customer.id, received_at=received, channel="hotline",
        complainant_name=h.customer.name, complainant_phone=h.customer.phone, summary=summary,
        details=f"用户反映：{summary}（涉及工号{involved.staff_no}）。", confidential=True,
        involved_technician_ids=[str(involved.id)], answer_by=answer_by, status=ComplaintStatus.ANSWERED,
        answered_at=demo.at(answered_day, 15, 30), answer=answer, handler_id=demo.users["service1"].id,
        created_at=received,
    )
    if extension is not None:
        days, reason = extension
        complaint.extended_until = demo.add_working_days(answer_by, days)
        complaint.extension_reason = reason
    call = _call(demo, h, received - dt.timedelta(minutes=6), CallCategory.COMPLAINT, "服务投诉（内容保密）",
                 result="已登记投诉，5个工作日内答复")
    visit_day = recent.day(max(1, received_ago - 1))
    tech = recent.technician(visit_day, "complaint", ["complaint_handling"], h.centre, exclude=(involved.id,))
    job, appointment = past_visit(demo, h, visit_day, tech, JobType.COMPLAINT_VISIT, COMPLAINT_VISIT_TEXT,
                                  created=received + dt.timedelta(hours=1))
    job.source, job.priority, job.complaint_id, job.service_call_id = (
        JobSource.COMPLAINT, int(Priority.URGENT), complaint.id, call.id)
    job.required_certifications, job.required_skills = ["complaint_handling"], ["complaint"]
    recent.first.extend([call, complaint])
    recent.add(job, appointment)
    return complaint


def _complaints(recent: Recent) -> None:
    n = len(recent.days)
    _complaint(recent, min(n, 20), 2, "安检后灶台周边未清理干净", "已致歉，安排班组长回访并加强现场清理要求（R4）")
    _complaint(recent, min(n, 14), 8, "对更换燃气表后的读数有异议", "检定机构检测报告显示表具计量准确，已向用户说明",
               extension=(5, "需送燃气表检定机构检测，与用户约定延期答复"))
    _complaint(recent, min(n, STORY_SPAN), 6, "维修后墙面开孔未修补",
               "已安排补洞并致歉；因需与物业协调施工时间，答复超出5个工作日")  # late: the R10 miss
    _complaint(recent, min(n, STORY_SPAN - 1), 2, "预约上门时段等候较久", "已核实并致歉，调整该片区上门路线")


def _fixed_hazards(recent: Recent) -> None:
    """Hazards found on two inspections of the five weeks, fixed by a paid visit, and one minor still open."""
    demo = recent.demo
    found_days = [recent.day(min(len(recent.days), n)) for n in (18, 12, 10)]
    specs = (
        (HazardSeverity.MAJOR, "软管超长", "hose_length", "灶具连接软管长度约2.5米，超过2米限值"),
        (HazardSeverity.MAJOR, "软管老化", "hose_condition", "橡胶软管老化龟裂"),
        (HazardSeverity.MINOR, "无燃气报警器", "gas_alarm", "厨房未安装燃气报警器"),
    )
    for i, (day, (severity, category, key, text)) in enumerate(zip(found_days, specs, strict=True)):
        h = recent.household(i % 2, lambda x: x.customer.category == CustomerCategory.RESIDENTIAL)
        tech = recent.technician(day, "inspection", ["gas_safety"], h.centre)
        inspection = _inspection(recent, day, tech, h)
        found = inspection.completed_at - dt.timedelta(minutes=10)
        hazard = Hazard(
            id=uuid.uuid4(), company_id=demo.cid(), job_id=inspection.id, customer_id=h.customer.id,
            premises_id=h.premises.id, severity=severity, category=category, description=text,
            immediate_action="已告知用户隐患及整改要求，发放隐患整改通知书", checklist_item_key=key, found_at=found,
            rectify_by=found + (dt.timedelta(days=7) if severity == HazardSeverity.MAJOR else dt.timedelta(days=30)),
            owner="customer", technician_id=tech.id,
        )
        if severity == HazardSeverity.MAJOR:
            fix_day = recent.days[max(0, recent.days.index(day) - 3)]
            fixer = recent.technician(fix_day, "repair", ["gas_safety"], h.centre)
            job, rows = rectification(demo, hazard, h, fixer, fix_day)
            recent.jobs.append(job)
            recent.third.extend(rows[2:])
            recent.second.extend([hazard, *rows[:2]])
        else:
            recent.second.append(hazard)


def _nobody_idle(recent: Recent) -> None:
    """Inspections for a technician with fewer than ``MIN_VISITS`` in the last four weeks, on their quietest days."""
    demo = recent.demo
    days = [d for d in recent.days if (demo.today - d).days < 28]
    for tech in demo.technicians:
        centre = next(i for i, c in enumerate(demo.centres) if c.id == tech.service_centre_id)
        while True:
            load = {d: len(demo.booked.get((tech.id, d), ())) for d in days}
            if sum(load.values()) >= MIN_VISITS:
                break
            day = min(days, key=lambda d, load=load: (load[d], d))
            _inspection(recent, day, tech, recent.household(centre), late=demo.rng.randint(0, 90))


# --- the deliberate misses ----------------------------------------------------------------------------


def _running_late(recent: Recent, job: Job, told: dt.datetime, eta: dt.datetime, why: str) -> None:
    """The tablet's "running late" with a new ETA (a visit event, as synced) and the customer's message (R2)."""
    demo = recent.demo
    minutes = int((job.window_start - told).total_seconds() // 60)
    local = eta.astimezone(demo.tz)
    recent.third.append(_event(recent, job, VisitEventKind.RUNNING_LATE, told, eta=eta, note=why))
    recent.third.append(Notification(
        company_id=demo.cid(), customer_id=job.customer_id, job_id=job.id, channel="sms", kind="running_late",
        recipient=_household_of(demo, job).customer.phone, body=f"您好，燃气上门服务（工单{job.ref}）的技术员{why}，预计{local:%H:%M}到达，"
        "给您带来不便敬请谅解。", status=NotificationStatus.SENT, attempts=1, sent_at=told + dt.timedelta(minutes=1),
        notice_minutes=minutes, created_at=told,
    ))
    recent.told.add(job.id)


def _household_of(demo: Demo, job: Job) -> Household:
    return next(h for h in demo.households if h.customer.id == job.customer_id)


def _story_inspection(recent: Recent, ago: int, tech_index: int, hour: int, late: int, score: int) -> Job:
    day = recent.day(ago)
    tech = recent.demo.technicians[tech_index]
    centre = next(i for i, c in enumerate(recent.demo.centres) if c.id == tech.service_centre_id)
    job = _inspection(recent, day, tech, recent.household(centre), hour=hour, late=late)
    recent.scores[job.id] = score
    return job


def story_late_told_in_time(recent: Recent) -> None:
    """Late (R1 miss), but the customer was told 2 h 20 min before the window (R2 met)."""
    job = _story_inspection(recent, 2, 0, 13, 150, 4)
    _running_late(recent, job, job.window_start - dt.timedelta(minutes=140), job.window_end + dt.timedelta(minutes=35),
                  "上午抢修任务延误")


def story_late_told_late(recent: Recent) -> None:
    """Late, and the customer told only 40 minutes before the window (R1 and R2 missed)."""
    job = _story_inspection(recent, 3, 4, 10, 145, 2)
    _running_late(recent, job, job.window_start - dt.timedelta(minutes=40), job.window_end + dt.timedelta(minutes=25),
                  "前一户检查时间较长")


def story_late_by_the_clock(recent: Recent) -> None:
    """SJ-1007's slow tablet claims an arrival 3 minutes inside the window; corrected, it was 6 minutes late."""
    tech_index = next(i for i, t in enumerate(recent.demo.technicians) if t.staff_no == "SJ-1007")
    job = _story_inspection(recent, 5, tech_index, 14, 117, 3)
    recent.told.add(job.id)  # nobody was told: on the tablet's clock it was not late


def story_network_answered_late(recent: Recent) -> None:
    """A network fault reported at 16:40 and first visited the next morning: 6 h respond clock breached, fixed
    within 24 h (R8)."""
    days = recent.days[:STORY_SPAN]
    pair = next(((d, n) for n, d in zip(days, days[1:], strict=False) if n - d == dt.timedelta(days=1)), None)
    if pair is None:
        return
    reported, visited = pair
    _repair_visit(recent, visited, FaultKind.NETWORK, recent.demo.at(reported, 16, 40), hour=9, late=25, pick=0)


def story_repair_finished_late(recent: Recent) -> None:
    """A regulator fault visited within the hour but finished the next working day, once the part came: the
    24 h fix clock breached (R8)."""
    demo = recent.demo
    day, next_day = recent.day(3), recent.day(2)
    job = _repair_visit(recent, day, FaultKind.CUSTOMER_EQUIPMENT, demo.at(day, 9, 5), hour=10, late=30, pick=3,
                        completed=demo.at(next_day, 14, 30))
    job.description += "；需更换减压阀，配件次日到货后完成"


def story_signed_after_work_began(recent: Recent) -> None:
    """The customer signed the quote 12 minutes after the technician started the work (R3 miss)."""
    demo = recent.demo
    day = recent.day(2)
    _repair_visit(recent, day, FaultKind.CUSTOMER_EQUIPMENT, demo.at(day, 8, 20), late=20, pick=1, signed_late=12)


def story_short_payment(recent: Recent) -> None:
    """The last working day: a customer paid ¥20 less than the quote they signed (R17: the close shows it)."""
    demo = recent.demo
    day = recent.day(1)
    _repair_visit(recent, day, FaultKind.CUSTOMER_EQUIPMENT, demo.at(day, 13, 10), late=15, pick=2, short_by=2000)


def story_windows_changed(recent: Recent) -> None:
    """Windows changed through the server's own rules (server.jobs.appointments), each telling the customer:
    moved a day or more ahead at the customer's request (R2 met), moved 20 minutes before it began because
    the technician was sent to a gas leak (R2 miss), and cancelled by the customer the evening before."""
    demo = recent.demo
    for ago, tech_index, (old_hour, new_hour), lead, reason in (
        (4, 1, (9, 15), dt.timedelta(hours=18), "用户临时有事，应用户要求改约"),
        (4, 5, (9, 14), dt.timedelta(minutes=20), "技术员被紧急调派处理燃气泄漏抢修"),
        (6, 7, (10, None), dt.timedelta(hours=16), "用户出差，取消本次预约"),
        (11, 2, (14, 10), dt.timedelta(days=2), "用户下午需上班，应用户要求提前"),
        (16, 6, (9, 13), dt.timedelta(hours=26), "用户上午家中无人，应用户要求改约"),
    ):
        job = _story_inspection(recent, ago, tech_index, new_hour or old_hour, demo.rng.randint(10, 60), 4)
        recent.flush()
        day = job.window_start.astimezone(demo.tz).date()
        old_start = demo.at(day, old_hour)
        appointment = demo.session.execute(sa.select(Appointment).where(Appointment.job_id == job.id)).scalar_one()
        appointment.window_start, appointment.window_end = old_start, old_start + dt.timedelta(hours=2)
        new_window = (job.window_start, job.window_end)
        job.window_start, job.window_end = appointment.window_start, appointment.window_end
        job.status = JobStatus.DISPATCHED
        demo.session.flush()
        changed = old_start - lead
        if new_hour is None:
            end_appointment(job, cancelled=True, reason=reason, now=changed)
            job.status, job.cancelled_reason = JobStatus.CANCELLED, reason
            job.en_route_at = job.arrived_at = job.work_started_at = job.completed_at = job.departed_at = None
            job.satisfaction = None
            demo.past.remove(job)
        else:
            agree_window(job, *new_window, agreed_with=_household_of(demo, job).customer.name, reason=reason,
                         now=changed)
            job.status = JobStatus.CLOSED
        demo.session.flush()
        for row in demo.session.execute(sa.select(Notification).where(Notification.job_id == job.id)).scalars():
            row.status, row.attempts, row.sent_at, row.created_at = (
                NotificationStatus.SENT, 1, changed + dt.timedelta(minutes=1), changed)
        for row in demo.session.execute(sa.select(Appointment).where(Appointment.job_id == job.id)).scalars():
            row.created_at = row.agreed_at


# --- what the visits left behind ----------------------------------------------------------------------


def _event(recent: Recent, job: Job, kind: VisitEventKind, at: dt.datetime, **fields) -> VisitEvent:
    """A visit event at the tablet's claimed time, as the sync stored it: received some minutes after the
    visit, with the tablet clock's offset and the corrected time (sync.server_core._clock_fields)."""
    demo = recent.demo
    offset = recent.offsets[job.technician_id]
    received = max(at, job.departed_at or at) + dt.timedelta(seconds=offset, minutes=demo.rng.randint(2, 40))
    return VisitEvent(
        company_id=demo.cid(), job_id=job.id, technician_id=job.technician_id, kind=kind, at=at,
        received_at=min(received, demo.now), clock_offset_s=offset, corrected_at=at + dt.timedelta(seconds=offset),
        **fields,
    )


def _settle(recent: Recent) -> None:
    """For every visit finished in the five weeks: its tablet's events, a running-late message for most late
    ones, the follow-up call, and the job closed once the call was made."""
    demo = recent.demo
    _tablets(recent)
    last_day, retry_from = recent.days[0], recent.days[min(4, len(recent.days) - 1)]
    service = demo.users["service1"].id
    late_visits = 0
    for job in demo.past:
        if job.completed_at is None or job.completed_at < recent.start:
            continue
        for kind, at in ((VisitEventKind.EN_ROUTE, job.en_route_at), (VisitEventKind.ARRIVED, job.arrived_at),
                         (VisitEventKind.DEPARTED, job.departed_at)):
            recent.third.append(_event(recent, job, kind, at))
        real_arrival = job.arrived_at + dt.timedelta(seconds=recent.offsets[job.technician_id])
        if real_arrival > job.window_end and job.id not in recent.told:
            # Most told in time, once the morning's work showed the route would slip; one in six told late,
            # one in six not told at all.
            late_visits += 1
            if late_visits % 6:
                ahead = demo.rng.randint(125, 180) if late_visits % 6 < 5 else demo.rng.randint(15, 60)
                _running_late(recent, job, job.window_start - dt.timedelta(minutes=ahead), real_arrival, "前一户工作延误")
        done = job.completed_at.astimezone(demo.tz).date()
        due = demo.add_working_days(job.completed_at, 1)
        task = FollowUpTask(company_id=demo.cid(), job_id=job.id, complaint_id=job.complaint_id,
                            customer_id=job.customer_id, kind=follow_up_kind(job), due_at=due,
                            assigned_to_id=service, created_at=job.completed_at)
        call_day = due.astimezone(demo.tz).date()
        called = demo.at(call_day, demo.rng.randint(9, 16), demo.rng.randrange(0, 60, 5))
        job.satisfaction, job.status = None, JobStatus.COMPLETED
        if done >= last_day or called >= demo.now:
            task.status = FollowUpStatus.OPEN
        elif done >= retry_from and demo.rng.random() < 0.15 and job.id not in recent.scores:  # to call again
            task.status, task.outcome = FollowUpStatus.UNREACHABLE, "两次拨打无人接听，改日再拨"
            job.status = JobStatus.CLOSED
        else:
            score = recent.scores.get(job.id) or demo.rng.choices(SCORES, weights=SCORE_WEIGHTS)[0]
            task.status, task.satisfaction, task.done_at = FollowUpStatus.DONE, score, called
            task.outcome = demo.rng.choice(OUTCOMES[score])
            job.satisfaction, job.status = score, JobStatus.CLOSED
        recent.third.append(task)


def _tablets(recent: Recent) -> None:
    """Each technician's tablet as the sync knows it: last seen, and its clock's offset (R1)."""
    demo = recent.demo
    recent.third.extend(
        Device(company_id=demo.cid(), device_id=f"tablet-{t.staff_no.lower()}", user_id=t.user_id, technician_id=t.id,
               registered_at=demo.ago(days=200), last_seen_at=demo.at(recent.days[0], 17, 40),
               clock_offset_s=recent.offsets[t.id], created_at=demo.ago(days=200))
        for t in demo.technicians
    )
