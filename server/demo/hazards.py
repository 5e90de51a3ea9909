"""Open hazards (隐患) found on recent inspections (R16): one past its deadline, one up for rectification."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.customers.models import CustomerCategory
from server.demo.context import Demo, Household
from server.demo.households import add_months, past_visit
from server.demo.org import INTERVALS
from server.visits.models import Hazard, HazardSeverity, HazardStatus

DEADLINE = {HazardSeverity.CRITICAL: dt.timedelta(days=1), HazardSeverity.MAJOR: dt.timedelta(days=7),
            HazardSeverity.MINOR: dt.timedelta(days=30)}


@dataclass(frozen=True)
class HazardSpec:
    """A hazard to plant: found this many days ago on which kind of customer."""

    days_ago: int
    residential: bool
    severity: HazardSeverity
    category: str
    item_key: str
    description: str
    immediate_action: str


SPECS = (
    # Found 16 days ago, major → 7 days to rectify: past its deadline.
    HazardSpec(16, True, HazardSeverity.MAJOR, "软管穿墙", "hose_routing",
               "灶具连接软管穿越厨房隔墙接至阳台，软管长度约3.5米", "已告知用户隐患及整改要求，发放隐患整改通知书"),
    # Found 4 days ago; the rectification visit is on today's route.
    HazardSpec(4, True, HazardSeverity.MAJOR, "软管老化", "hose_condition",
               "橡胶软管老化龟裂，灶前接口处检测仪读数偏高", "已关闭灶前阀，建议更换燃气专用金属波纹管"),
    HazardSpec(9, True, HazardSeverity.MINOR, "无燃气报警器", "gas_alarm",
               "厨房未安装燃气报警器", "已向用户宣传安装燃气报警器的必要性"),
    HazardSpec(2, True, HazardSeverity.MAJOR, "直排式热水器", "water_heater_type",
               "使用直排式燃气热水器（国家已禁止使用）", "已告知用户停止使用并贴停用标识"),
    HazardSpec(3, False, HazardSeverity.MAJOR, "报警器未联动", "gas_alarm_linked",
               "后厨可燃气体报警器未与紧急切断阀联动", "已要求用户联系安装单位整改，整改前加强人员巡查"),
)


def _candidates(demo: Demo, residential: bool, used: set) -> list[Household]:
    """Households due for inspection (the hazard visit was that inspection), least recently inspected first."""
    due = [h for h in demo.households
           if (h.customer.category == CustomerCategory.RESIDENTIAL) == residential and id(h) not in used]
    return sorted(due, key=lambda h: h.inspection_due or demo.today)


def make_hazards(demo: Demo) -> list[tuple[Hazard, Household]]:
    """The recent inspections that found hazards, and the open hazards; returns (hazard, household) pairs."""
    used: set = set()
    visits, planted = [], []
    for i, spec in enumerate(SPECS):
        pool = _candidates(demo, spec.residential, used) or _candidates(demo, not spec.residential, used)
        if not pool:
            break
        h = pool[0]
        used.add(id(h))
        centre = [t for t in demo.technicians if t.service_centre_id == demo.centres[h.centre].id]
        tech = centre[i % len(centre)]
        day = demo.working_day_on_or_before(demo.today - dt.timedelta(days=spec.days_ago))
        job, appointment = past_visit(demo, h, day, tech)
        h.last_inspection, h.last_job = day, job
        h.inspection_due = add_months(day, INTERVALS[h.customer.category.value])
        visits.append((job, appointment))
        planted.append((spec, h, job, tech))
    demo.flush([j for j, _ in visits])
    demo.flush([a for _, a in visits])
    hazards = []
    for spec, h, job, tech in planted:
        found = job.completed_at - dt.timedelta(minutes=10)
        hazards.append((Hazard(
            company_id=demo.cid(), job_id=job.id, customer_id=h.customer.id, premises_id=h.premises.id,
            severity=spec.severity, category=spec.category, description=spec.description,
            immediate_action=spec.immediate_action, checklist_item_key=spec.item_key, found_at=found,
            rectify_by=found + DEADLINE[spec.severity], owner="customer", status=HazardStatus.OPEN,
            technician_id=tech.id,
        ), h))
    demo.flush([hz for hz, _ in hazards])
    return hazards
