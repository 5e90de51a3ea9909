"""The demo's inspection checklists, written from the group's service rules (R7, R16).

Items follow the format documented on ``server.checklists.models.ChecklistTemplate``. Limits:
natural gas appliances are rated at 2.0 kPa and the demo accepts 1.5–2.5 kPa in front of a stove;
a combustible-gas detector must read below 3 %LEL at every joint (household alarms trip between
3 and 25 %LEL); a hose may be at most 2 m long and must not pass through a wall, door or window.
"""

from __future__ import annotations

from typing import Any

CRITICAL, MAJOR, MINOR = "critical", "major", "minor"
YES_NO = [{"value": "yes", "label": "有"}, {"value": "no", "label": "无"}]


def _check(key: str, label: str, label_en: str, hazard: str | None = None, **extra: Any) -> dict:
    item = {"key": key, "label": label, "label_en": label_en, "type": "pass_fail_na", "required": True}
    if hazard:
        item["hazard_on_fail"] = hazard
    item.update(extra)
    return item


def _number(key: str, label: str, label_en: str, unit: str, lo: float | None, hi: float | None,
            hazard: str | None = None, required: bool = True) -> dict:
    item: dict[str, Any] = {"key": key, "label": label, "label_en": label_en, "type": "number",
                            "required": required, "unit": unit}
    if lo is not None:
        item["min"] = lo
    if hi is not None:
        item["max"] = hi
    if hazard:
        item["hazard_on_fail"] = hazard
    return item


RESIDENTIAL_ITEMS: list[dict] = [
    _check("leak_test", "燃气泄漏检测（表前阀至灶具各接口）", "Gas leak test (meter valve to every appliance joint)",
           CRITICAL),
    _number("leak_detector_reading", "泄漏检测仪读数（各接口最大值）", "Leak detector reading (highest at any joint)",
            "%LEL", 0, 3, CRITICAL),
    _number("stove_pressure", "灶前压力", "Pressure in front of the stove", "kPa", 1.5, 2.5, MAJOR),
    _check("valve_condition", "表前阀、灶前阀完好，开关灵活", "Meter and stove valves intact and operable", MAJOR),
    {"key": "hose_type", "label": "灶具连接软管类型", "label_en": "Stove hose type", "type": "choice",
     "required": True, "options": [
         {"value": "metal", "label": "燃气专用金属波纹管"},
         {"value": "rubber", "label": "橡胶软管"},
         {"value": "none", "label": "硬管连接（无软管）"},
     ]},
    _check("hose_condition", "软管无老化、龟裂，两端卡箍紧固", "Hose not aged or cracked, clamps tight", MAJOR),
    _number("hose_length", "软管长度", "Hose length", "m", 0, 2.0, MAJOR, required=False),
    _check("hose_routing", "软管未穿墙、穿门窗、未暗设", "Hose not through a wall, door or window, not concealed",
           MAJOR),
    _check("pipe_exposed", "户内管道未包封、暗埋，未作挂物或接地使用",
           "Indoor pipes not boxed in or buried, not used to hang things or as earth", MAJOR),
    _check("stove_flame_failure", "灶具熄火保护装置有效", "Stove flame-failure device works", MAJOR),
    {"key": "has_water_heater", "label": "是否有燃气热水器或壁挂炉", "label_en": "Gas water heater or wall boiler present",
     "type": "choice", "required": True, "options": YES_NO},
    {"key": "water_heater_type", "label": "热水器类型", "label_en": "Water heater type", "type": "choice",
     "required": True, "condition": {"key": "has_water_heater", "equals": "yes"}, "options": [
         {"value": "forced", "label": "强排式"},
         {"value": "balanced", "label": "平衡式"},
         {"value": "direct", "label": "直排式（已禁止使用）"},
     ]},
    _check("water_heater_flue", "热水器烟道完好、接口严密、已伸出室外", "Water heater flue intact, sealed, leads outdoors",
           CRITICAL, condition={"key": "has_water_heater", "equals": "yes"}),
    _check("water_heater_location", "热水器未安装在浴室或卧室内", "Water heater not in a bathroom or bedroom",
           CRITICAL, condition={"key": "has_water_heater", "equals": "yes"}),
    _check("gas_alarm", "燃气报警器已安装且自检正常", "Gas alarm fitted and passes its self-test", MINOR),
    _check("ventilation", "厨房通风良好，厨房不作卧室使用", "Kitchen ventilated and not used as a bedroom", MAJOR),
    _check("meter_condition", "燃气表外观完好，计数正常，无私接改管", "Meter intact, registering, no unauthorised alteration",
           MAJOR),
    _number("meter_reading", "燃气表读数", "Meter reading", "m³", 0, None, required=False),
    _check("safety_advice", "已向用户宣传安全用气知识并告知报修电话", "Safety advice given, hotline number left with the customer"),
    {"key": "photo_kitchen", "label": "厨房燃气设施照片", "label_en": "Photo of the kitchen gas installation",
     "type": "photo", "required": True},
    {"key": "remarks", "label": "其他情况说明", "label_en": "Other remarks", "type": "text", "required": False},
]

NON_RESIDENTIAL_ITEMS: list[dict] = [
    {"key": "site_type", "label": "用气场所类型", "label_en": "Kind of site", "type": "choice", "required": True,
     "options": [
         {"value": "kitchen", "label": "餐饮厨房"},
         {"value": "works", "label": "生产车间"},
         {"value": "boiler_room", "label": "锅炉房"},
         {"value": "other", "label": "其他"},
     ]},
    _check("leak_test", "燃气泄漏检测（调压设施、管道、阀门及燃具接口）",
           "Gas leak test (regulator, pipes, valves and appliance joints)", CRITICAL),
    _number("leak_detector_reading", "泄漏检测仪读数（各接口最大值）", "Leak detector reading (highest at any joint)",
            "%LEL", 0, 3, CRITICAL),
    _number("regulator_outlet_pressure", "调压器出口压力", "Regulator outlet pressure", "kPa", 2.0, 5.0, MAJOR),
    _check("regulator_condition", "调压器（减压阀）工作正常，无异响、无泄漏", "Regulator works, no noise, no leak", MAJOR),
    _check("emergency_shutoff", "紧急切断阀完好，可手动关闭", "Emergency shut-off valve intact and closes by hand",
           CRITICAL),
    _check("gas_alarm_linked", "可燃气体报警器安装到位并与切断阀联动", "Gas alarm fitted and linked to the shut-off valve",
           MAJOR),
    _check("mechanical_ventilation", "机械排风设施运行正常", "Mechanical ventilation works", MAJOR),
    _check("flue", "烟道、排烟设施完好畅通", "Flues and exhaust clear and intact", MAJOR),
    _check("hoses", "连接软管无老化、未超长、未穿墙", "Hoses not aged, not over length, not through walls", MAJOR),
    _check("no_lpg_cylinders", "同一场所未混用液化石油气钢瓶", "No LPG cylinders used on the same site", CRITICAL),
    _check("boiler_room_relief", "锅炉房防爆泄压设施完好", "Boiler room explosion relief intact", MAJOR,
           condition={"key": "site_type", "equals": "boiler_room"}),
    _number("boiler_room_detector_reading", "锅炉房可燃气体浓度", "Gas concentration in the boiler room", "%LEL", 0, 3,
            CRITICAL, required=True) | {"condition": {"key": "site_type", "equals": "boiler_room"}},
    _check("fire_extinguisher", "灭火器配置齐全且在有效期内", "Fire extinguishers present and in date", MINOR),
    _check("staff_trained", "操作人员经过安全培训，安全管理制度上墙", "Operators trained, safety rules posted", MINOR),
    _number("meter_reading", "燃气表读数", "Meter reading", "m³", 0, None, required=False),
    {"key": "photo_site", "label": "用气设施现场照片", "label_en": "Photo of the gas installation on site",
     "type": "photo", "required": True},
    {"key": "remarks", "label": "其他情况说明", "label_en": "Other remarks", "type": "text", "required": False},
]

TEMPLATES: tuple[dict, ...] = (
    {"code": "safety-inspection-residential", "name": "居民用户入户安全检查", "name_en": "Residential safety inspection",
     "job_type": "safety_inspection", "customer_categories": ["residential"], "items": RESIDENTIAL_ITEMS},
    {"code": "safety-inspection-non-residential", "name": "非居民用户安全检查",
     "name_en": "Non-residential safety inspection", "job_type": "safety_inspection",
     "customer_categories": ["commercial", "industrial", "heating"], "items": NON_RESIDENTIAL_ITEMS},
)
