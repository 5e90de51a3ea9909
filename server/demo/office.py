"""The office side of the demo: price list, checklist templates, hotline calls, a planned outage."""

from __future__ import annotations

import datetime as dt

from server.checklists.models import ChecklistTemplate
from server.demo import catalog, checklists
from server.demo.context import Demo
from server.demo.specials import _call
from server.jobs.models import CallCategory
from server.notifications.models import Notification, NotificationStatus, OutageNotice
from server.visits.models import PriceItem

OUTAGE_DISTRICT = "虹口区"
OUTAGE_ROADS = ("四川北路", "海宁路", "东长治路")


def make_price_list(demo: Demo) -> list[PriceItem]:
    """The company's price list (parts, labour, fees) in cents."""
    rows = [
        PriceItem(company_id=demo.cid(), code=code, name=name, name_en=name_en, kind=kind, unit=unit,
                  unit_price_cents=cents)
        for code, name, name_en, kind, unit, cents in catalog.PRICE_LIST
    ]
    demo.flush(rows)
    return rows


def make_templates(demo: Demo) -> list[ChecklistTemplate]:
    """Version 1 of the residential and non-residential inspection checklists, published."""
    published = demo.ago(days=90)
    rows = [
        ChecklistTemplate(company_id=demo.cid(), version_no=1, active=True, published_at=published,
                          created_at=published, **spec)
        for spec in checklists.TEMPLATES
    ]
    demo.flush(rows)
    return rows


def make_hotline_calls(demo: Demo) -> list:
    """Calls of the last day: one question awaiting an answer (4 h), one special case (24 h), one answered."""
    rng = demo.rng
    picks = rng.sample(demo.households, 3) if len(demo.households) >= 3 else demo.households * 3
    rows = [
        _call(demo, picks[0], demo.ago(minutes=70), CallCategory.QUESTION,
              "咨询燃气表检定到期后更换表具是否需要用户付费", answered=False),
        _call(demo, picks[1], demo.ago(hours=6), CallCategory.SPECIAL,
              "厨房装修，要求燃气表移位，询问办理流程、费用及上门时间", answered=False),
        _call(demo, picks[2], demo.ago(hours=20), CallCategory.QUESTION, "询问本月气费为何比上月偏高",
              result="已核对抄表读数无误，向用户说明冬季用气量增加及阶梯气价"),
    ]
    demo.flush(rows)
    return rows


def make_outage(demo: Demo) -> OutageNotice:
    """A planned outage in one district the day after tomorrow, announced yesterday to its customers (R13)."""
    day = demo.today + dt.timedelta(days=2)
    announced = demo.at(demo.today - dt.timedelta(days=1), 10)
    notice = OutageNotice(
        company_id=demo.cid(), district=OUTAGE_DISTRICT, area_description="虹口区南部：四川北路、海宁路、东长治路沿线",
        starts_at=demo.at(day, 9), ends_at=demo.at(day, 16), announced_at=announced, created_at=announced,
        reason="中压燃气管道碰接施工，计划停气。停气期间请关闭表前阀；恢复供气后请按提示开阀点火，如有异常请拨打服务热线。",
    )
    demo.flush([notice])
    body = (f"【申江燃气】因管道施工，{day:%m月%d日} 09:00–16:00 {notice.area_description}将暂停供气，"
            "请提前做好准备，停气期间请关闭表前阀。")
    messages = [
        Notification(company_id=demo.cid(), customer_id=h.customer.id, channel="sms", kind="outage",
                     recipient=h.customer.phone, body=body, status=NotificationStatus.SENT, attempts=1,
                     sent_at=announced + dt.timedelta(minutes=5), created_at=announced)
        for h in demo.households
        if h.district == OUTAGE_DISTRICT and any(road in h.premises.address for road in OUTAGE_ROADS)
    ]
    demo.flush(messages)
    return notice
