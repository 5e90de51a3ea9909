"""Shanghai for the demo: real districts and roads of the urban area, with coordinates inside it.

District centres are the approximate centres of each district's built-up core (for 浦东新区 and
闵行区, the parts inside the outer ring road); households are spread around them. Addresses follow
the local form 路 + 弄 + 号 + 室 with invented numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CITY = "上海市"

# Every demo coordinate lies inside this box (south, north, west, east): Shanghai inside the outer
# ring road, from 莘庄 in the south-west to 五角场 in the north and 金桥 in the east.
URBAN_BBOX = (31.09, 31.33, 121.33, 121.60)


@dataclass(frozen=True)
class District:
    """A district of the city: name, administrative code, core centre, spread and real roads."""

    name: str
    code: str
    lat: float
    lon: float
    spread: float  # degrees around the centre households are placed in
    weight: int  # share of the demo households
    roads: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District("黄浦区", "310101", 31.2304, 121.4843, 0.013, 6, (
        "南京东路", "淮海中路", "西藏南路", "复兴东路", "河南南路", "中山南路", "陆家浜路", "建国中路", "瞿溪路",
    )),
    District("徐汇区", "310104", 31.1880, 121.4370, 0.020, 12, (
        "漕溪北路", "肇嘉浜路", "衡山路", "天钥桥路", "宜山路", "龙华中路", "田林路", "桂林路", "零陵路",
    )),
    District("长宁区", "310105", 31.2150, 121.4050, 0.017, 8, (
        "延安西路", "天山路", "仙霞路", "中山西路", "古北路", "遵义路", "安化路", "定西路", "茅台路",
    )),
    District("静安区", "310106", 31.2450, 121.4560, 0.018, 10, (
        "南京西路", "延安中路", "共和新路", "万航渡路", "江宁路", "大统路", "天目西路", "西康路", "北京西路",
    )),
    District("普陀区", "310107", 31.2490, 121.4000, 0.017, 10, (
        "曹杨路", "中山北路", "长寿路", "真北路", "武宁路", "铜川路", "金沙江路", "大渡河路", "梅岭北路",
    )),
    District("虹口区", "310109", 31.2680, 121.4900, 0.014, 8, (
        "四川北路", "曲阳路", "大连西路", "西江湾路", "东长治路", "广中路", "欧阳路", "海宁路", "赤峰路",
    )),
    District("杨浦区", "310110", 31.2750, 121.5250, 0.019, 12, (
        "控江路", "国权路", "邯郸路", "长阳路", "黄兴路", "平凉路", "周家嘴路", "政立路", "鞍山路",
    )),
    District("浦东新区", "310115", 31.2250, 121.5450, 0.025, 22, (
        "张杨路", "浦东南路", "东方路", "源深路", "杨高中路", "潍坊路", "崂山路", "峨山路", "浦电路",
    )),
    District("闵行区", "310112", 31.1350, 121.3900, 0.020, 12, (
        "七莘路", "莘松路", "沪闵路", "虹井路", "古美路", "吴中路", "漕宝路", "顾戴路", "莲花南路",
    )),
)
BY_NAME = {d.name: d for d in DISTRICTS}


@dataclass(frozen=True)
class CentreSite:
    """A service centre: its name, address, coordinates and the districts it serves."""

    name: str
    address: str
    lat: float
    lon: float
    districts: tuple[str, ...]


CENTRES: tuple[CentreSite, ...] = (
    CentreSite("徐汇服务中心", "上海市徐汇区漕溪北路398号", 31.1905, 121.4368,
               ("徐汇区", "长宁区", "黄浦区", "静安区", "普陀区", "闵行区")),
    CentreSite("杨浦服务中心", "上海市杨浦区控江路1208号", 31.2703, 121.5291,
               ("杨浦区", "虹口区", "浦东新区")),
)


def inside_city(lat: float, lon: float) -> bool:
    """Whether a coordinate lies inside the demo city's urban box."""
    south, north, west, east = URBAN_BBOX
    return south <= lat <= north and west <= lon <= east


def point_near(rng: random.Random, district: District) -> tuple[float, float]:
    """A coordinate near the district's core, never outside the urban box."""
    south, north, west, east = URBAN_BBOX
    dlat = max(-1.0, min(1.0, rng.gauss(0, 0.45))) * district.spread
    dlon = max(-1.0, min(1.0, rng.gauss(0, 0.45))) * district.spread
    lat = min(north, max(south, district.lat + dlat))
    lon = min(east, max(west, district.lon + dlon))
    return round(lat, 6), round(lon, 6)


def pick_district(rng: random.Random) -> District:
    """A district, weighted by how many households live there."""
    return rng.choices(DISTRICTS, weights=[d.weight for d in DISTRICTS])[0]


def home_address(rng: random.Random, district: District) -> str:
    """A flat in a lane compound: 上海市杨浦区控江路1555弄12号302室."""
    road = rng.choice(district.roads)
    lane = rng.randrange(10, 1800, 5)
    building = rng.randint(1, 40)
    floors = rng.choice((6, 6, 6, 18, 24, 28))  # old 新村 walk-ups and newer towers
    room = rng.randint(1, floors) * 100 + rng.randint(1, 4)
    return f"{CITY}{district.name}{road}{lane}弄{building}号{room}室"


def business_address(rng: random.Random, district: District, suffix: str = "") -> str:
    """A street-front or works address: 上海市徐汇区宜山路700号 (with an optional part like 1层)."""
    road = rng.choice(district.roads)
    number = rng.randint(1, 2200)
    return f"{CITY}{district.name}{road}{number}号{suffix}"
