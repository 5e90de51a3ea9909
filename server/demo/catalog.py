"""The demo's price list, appliances and meter models."""

from __future__ import annotations

# (code, name, name_en, kind, unit, unit price in cents)
PRICE_LIST: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("P-HOSE-15", "燃气专用金属波纹软管 1.5米", "Metal gas hose, 1.5 m", "part", "根", 8500),
    ("P-HOSE-20", "燃气专用金属波纹软管 2.0米", "Metal gas hose, 2.0 m", "part", "根", 9800),
    ("P-CLAMP", "软管卡箍", "Hose clamp", "part", "只", 500),
    ("P-VALVE-DN15", "燃气球阀 DN15", "Gas ball valve DN15", "part", "只", 4500),
    ("P-VALVE-SELF", "管道燃气自闭阀", "Self-closing gas valve", "part", "只", 18000),
    ("P-REG-HOME", "家用减压阀（调压器）", "Household pressure regulator", "part", "只", 12000),
    ("P-ALARM", "家用燃气报警器", "Household gas alarm", "part", "台", 26000),
    ("P-ALARM-SET", "燃气报警器及切断阀套装", "Gas alarm with shut-off valve", "part", "套", 58000),
    ("P-FLUE", "热水器不锈钢烟道管 1米", "Water heater flue pipe, stainless, 1 m", "part", "根", 6000),
    ("P-THERMO", "灶具熄火保护热电偶", "Stove flame-failure thermocouple", "part", "只", 3500),
    ("P-IGNITER", "热水器点火针", "Water heater ignition electrode", "part", "只", 4500),
    ("L-BASIC", "基本维修工时", "Basic repair labour", "labour", "次", 5000),
    ("L-HOUR", "维修工时", "Repair labour", "labour", "小时", 8000),
    ("L-PIPE", "户内管道改装", "Indoor pipe alteration", "labour", "米", 12000),
    ("L-METER-MOVE", "燃气表移位", "Meter relocation", "labour", "次", 20000),
    ("F-CALLOUT", "上门服务费", "Call-out fee", "fee", "次", 3000),
    ("F-CALLOUT-NIGHT", "夜间上门服务费（20:00–次日8:00）", "Night call-out fee (20:00–08:00)", "fee", "次", 6000),
)

# (kind, brands, models) for appliances per customer category.
HOME_STOVES = (("燃气灶", ("方太", "老板", "华帝", "林内", "苏泊尔", "万家乐"), ("JZT-2G", "JZT-9B13", "JZT-FD21BE")),)
HOME_HEATERS = (
    ("热水器", ("林内", "能率", "A.O.史密斯", "万和", "华帝", "万家乐"), ("JSQ25-16", "JSQ31-E6", "JSQ24-12B")),
    ("壁挂炉", ("威能", "博世", "菲斯曼", "林内"), ("L1PB24-C", "ZWC24-3", "Vitodens 100-W")),
)
BUSINESS_APPLIANCES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "commercial": (("中餐燃气炒灶", ("金友", "亿高", "星星")), ("燃气蒸饭柜", ("金友", "亿高")),
                   ("燃气大锅灶", ("金友", "星星")), ("商用燃气热水器", ("A.O.史密斯", "林内"))),
    "industrial": (("燃气工业炉", ("宝钢工程", "科达")), ("燃气燃烧器", ("利雅路", "百得")),
                   ("燃气蒸汽锅炉", ("力聚", "方快"))),
    "heating": (("燃气热水锅炉", ("力聚", "方快", "菲斯曼")), ("燃气燃烧器", ("利雅路", "百得"))),
}

# (kind, model prefix) per category; calibration interval in years for the due date.
METER_MODELS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "residential": (("diaphragm", "G2.5 膜式燃气表", 10), ("smart_ic", "G2.5 IC卡智能燃气表", 10),
                    ("iot", "G4 物联网智能燃气表", 10)),
    "commercial": (("diaphragm", "G6 膜式燃气表", 6), ("diaphragm", "G10 膜式燃气表", 6)),
    "industrial": (("rotary", "G65 罗茨流量计", 2), ("turbine", "G100 气体涡轮流量计", 2)),
    "heating": (("rotary", "G40 罗茨流量计", 2), ("turbine", "G160 气体涡轮流量计", 2)),
}
