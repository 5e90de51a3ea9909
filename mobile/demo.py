"""Demo data for a tablet: one technician's day (screenshots, benchmarks, desktop trials, tests)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from mobile.store import DeviceStore
from sync.records import Row

TZ = ZoneInfo("Asia/Shanghai")
DEMO_PIN = "123456"  # the PIN of demo, screenshot, benchmark and test stores (a real tablet's is chosen at sign-in)
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周婷", "吴刚"]
STREETS = ["浦东新区世纪大道", "徐汇区漕溪北路", "静安区南京西路", "长宁区天山路", "杨浦区国定路"]
JOB_TYPES = ["safety_inspection", "repair", "meter_work", "safety_inspection", "installation"]

SAFETY_ITEMS: list[dict[str, Any]] = [
    {"key": "leak_test", "label": "燃气泄漏检测", "label_en": "Gas leak test", "type": "pass_fail_na",
     "required": True, "hazard_on_fail": "critical"},
    {"key": "inlet_pressure", "label": "进口压力", "label_en": "Inlet pressure", "type": "number",
     "required": True, "unit": "kPa", "min": 1.8, "max": 2.5, "hazard_on_fail": "major"},
    {"key": "hose_condition", "label": "连接软管状况", "label_en": "Hose condition", "type": "choice",
     "required": True, "options": [{"value": "ok", "label": "良好", "label_en": "Good"},
                                   {"value": "aged", "label": "老化", "label_en": "Aged"},
                                   {"value": "missing_clamp", "label": "缺少卡箍", "label_en": "Clamp missing"}]},
    {"key": "has_water_heater", "label": "有燃气热水器", "label_en": "Gas water heater present",
     "type": "pass_fail_na", "required": True},
    {"key": "flue_ok", "label": "热水器烟道完好", "label_en": "Water heater flue intact", "type": "pass_fail_na",
     "required": True, "condition": {"key": "has_water_heater", "equals": "pass"}, "hazard_on_fail": "major"},
    {"key": "meter_photo", "label": "表具照片", "label_en": "Meter photo", "type": "photo", "required": False},
    {"key": "remarks", "label": "备注", "label_en": "Remarks", "type": "text", "required": False},
]

PRICE_ITEMS = [
    ("P-HOSE", "燃气软管(1.5米)", "Gas hose (1.5 m)", "part", "根", 4500),
    ("P-VALVE", "表前阀", "Meter valve", "part", "个", 8800),
    ("P-CLAMP", "软管卡箍", "Hose clamp", "part", "个", 300),
    ("L-STD", "维修人工(每小时)", "Labour (per hour)", "labour", "小时", 6000),
    ("F-CALL", "上门服务费", "Call-out fee", "fee", "次", 3000),
]


def _id(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fieldsync-demo/" + "/".join(map(str, parts))))


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def demo_rows(jobs: int = 8, day: dt.date | None = None, technician_user_id: str = "demo-user") -> list[Row]:
    """The rows a technician's tablet holds after the morning sync: ``jobs`` visits on ``day``."""
    day = day or dt.datetime.now(TZ).date()
    rows: list[Row] = []
    version = iter(range(1, 10**9))

    def add(collection: str, ident: str, **data: Any) -> str:
        rows.append(Row(collection, ident, next(version), False, data | {"id": ident}))
        return ident

    tech = add("technician", _id("tech"), user_id=technician_user_id, staff_no="GD-0427", name="李建国",
               phone="13900001111", skills=["inspection", "repair", "meter"], active=True)
    add("checklist_template", _id("tpl"), code="home_safety", version_no=2, name="居民户内安全检查",
                   name_en="Home safety inspection", job_type="safety_inspection", customer_categories=[],
                   items=SAFETY_ITEMS, active=True)
    for job_type in ("repair", "meter_work", "installation"):
        add("checklist_template", _id("tpl", job_type), code=f"{job_type}_basic", version_no=1,
            name="作业检查", name_en="Work checks", job_type=job_type, customer_categories=[], active=True,
            items=[SAFETY_ITEMS[0], SAFETY_ITEMS[1], SAFETY_ITEMS[6]])
    for code, name, name_en, kind, unit, cents in PRICE_ITEMS:
        add("price_item", _id("price", code), code=code, name=name, name_en=name_en, kind=kind, unit=unit,
            unit_price_cents=cents, active=True)
    start = dt.datetime.combine(day, dt.time(8, 30), TZ)
    add("outage_notice", _id("outage"), district="浦东新区", area_description="世纪大道100-300号",
        starts_at=_iso(start + dt.timedelta(days=1)), ends_at=_iso(start + dt.timedelta(days=1, hours=6)),
        reason="管网改造", announced_at=_iso(start - dt.timedelta(days=3)))
    for n in range(jobs):
        name = NAMES[n % len(NAMES)] + ("" if n < len(NAMES) else str(n // len(NAMES)))
        street = STREETS[n % len(STREETS)]
        cust = add("customer", _id("cust", n), account_no=f"A{n + 1:07d}", name=name, category="residential",
                   phone=f"1380000{n:04d}", special_care=n % 4 == 1,
                   special_care_reason="独居老人，行动不便" if n % 4 == 1 else "", notes="")
        add("customer_contact", _id("contact", n), customer_id=cust, name=f"{name[0]}女士", phone=f"1370000{n:04d}",
            relation="女儿")
        prem = add("premises", _id("prem", n), customer_id=cust, address=f"上海市{street}{100 + n}号{n % 20 + 1}0{n % 4 + 1}室",
                   district=street[:4], lat=31.2 + n / 1000, lon=121.4 + n / 1000,
                   access_notes="门禁密码 1234#" if n % 3 == 0 else "")
        due = day + dt.timedelta(days=(-10 if n % 5 == 2 else 20 if n % 5 == 3 else 400))
        meter = add("meter", _id("meter", n), premises_id=prem, serial=f"M{20240000 + n}", model="G2.5", kind="diaphragm",
            installed_on=str(day - dt.timedelta(days=2000)), calibration_due_on=str(due), status="active",
            last_reading=1234.5 + n, last_read_at=_iso(start - dt.timedelta(days=60)))
        add("appliance", _id("appl", n), premises_id=prem, kind="water_heater" if n % 2 else "stove",
            brand="林内" if n % 2 else "方太", model="RUS-16E" if n % 2 else "JZT-FD21", installed_on=None)
        job_type = JOB_TYPES[n % len(JOB_TYPES)]
        w0 = start + dt.timedelta(minutes=60 * (n % 9))
        meter_due = job_type == "meter_work" and due < day  # R15: an exchange ordered by the planner
        job = add("job", _id("job", n), ref=f"GD-{day:%Y%m%d}-{n + 1:04d}", job_type=job_type,
                  source="meter_due" if meter_due else "office", meter_id=meter if meter_due else None,
                  priority=2 if job_type == "repair" else 3, status="dispatched", customer_id=cust, premises_id=prem,
                  description=("厨房有燃气味，需检修" if job_type == "repair" else
                               f"燃气表（表号 M{20240000 + n}）强制检定已到期，更换表具并记录新旧表读数" if meter_due else
                               "年度入户安全检查"),
                  fault_kind="customer_equipment" if job_type == "repair" else None, chargeable=job_type == "repair",
                  technician_id=tech, window_start=_iso(w0), window_end=_iso(w0 + dt.timedelta(hours=2)),
                  route_order=n + 1, planned_eta=_iso(w0 + dt.timedelta(minutes=15)),
                  respond_by=_iso(w0 + dt.timedelta(hours=1)) if job_type == "repair" else None,
                  fix_by=_iso(w0 + dt.timedelta(hours=20)) if job_type == "repair" else None,
                  eta=None, en_route_at=None, arrived_at=None, work_started_at=None, completed_at=None,
                  departed_at=None, could_not_complete_reason=None, could_not_complete_note="", satisfaction=None,
                  duration_minutes=45)
        add("note", _id("note", n), job_id=job, author_name="调度 王敏", source="office",
            text="请提前电话联系客户" if n % 2 == 0 else "客户白天在家", written_at=_iso(start - dt.timedelta(hours=12)))
        if n % 3 == 0:
            earlier = add("job", _id("old-job", n), ref=f"GD-OLD-{n + 1:04d}", job_type="safety_inspection",
                          source="inspection_plan", priority=3, status="closed", customer_id=cust, premises_id=prem,
                          description="上次年度检查", chargeable=False, technician_id=None,
                          window_start=_iso(start - dt.timedelta(days=300)),
                          window_end=_iso(start - dt.timedelta(days=300, hours=-2)), route_order=None)
            # The household's history as the server sends it (read-only collection household_history).
            add("household_history", earlier, premises_id=prem, customer_id=cust, ref=f"GD-OLD-{n + 1:04d}",
                job_type="safety_inspection", status="closed", outcome="completed",
                finished_on=_iso(start - dt.timedelta(days=300, hours=-1)), technician_name="王师傅",
                could_not_complete_reason=None, cancelled_reason="", hazards_critical=0, hazards_major=0,
                hazards_minor=1, checklist_answered=7, checklist_failed=1, fee_collected_cents=0)
            add("household_history", _id("old-repair", n), premises_id=prem, customer_id=cust,
                ref=f"GD-OLD-R{n + 1:04d}", job_type="repair", status="could_not_complete",
                outcome="could_not_complete", finished_on=_iso(start - dt.timedelta(days=45)),
                technician_name="李建国", could_not_complete_reason="customer_absent", cancelled_reason="",
                hazards_critical=0, hazards_major=0, hazards_minor=0, checklist_answered=0, checklist_failed=0,
                fee_collected_cents=3000)
            add("hazard", _id("hazard", n), job_id=earlier, customer_id=cust, premises_id=prem, severity="minor",
                category="hose", description="软管老化，建议更换", immediate_action="已告知用户",
                found_at=_iso(start - dt.timedelta(days=300)), rectify_by=_iso(start - dt.timedelta(days=270)),
                owner="customer", status="open", technician_id=None)
    return rows


def load_demo(store: DeviceStore, jobs: int = 8, day: dt.date | None = None) -> None:
    """Fill a store with the demo day (as if pulled) and sign the demo technician in (offline)."""
    store.load_server_rows(demo_rows(jobs, day))
    store.set_meta(user_id="demo-user", username="li.jianguo", display_name="李建国", timezone="Asia/Shanghai")
