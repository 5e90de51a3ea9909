"""Invented but plausible Chinese names, business names and phone numbers for the demo."""

from __future__ import annotations

import random

# Common surnames, weighted towards those frequent in Shanghai (陆, 顾, 沈, 朱, 徐, 钱 …).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余杜叶程魏苏吕"
    "丁任卢姚沈钟姜崔谭陆范汪廖石金贾夏方邹熊白孟秦邱侯江薛顾毛郝龚邵万钱严戴孔汤"
    "陆顾沈朱徐钱陈张王"
)
GIVEN = (
    "伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "霞", "平",
    "刚", "华", "斌", "婷", "晨", "颖", "佳", "琳", "俊", "浩", "宇", "欣", "倩", "建华", "海燕", "雪梅",
    "佳怡", "子涵", "浩然", "晓东", "文杰", "丽娟", "志强", "晓燕", "家豪", "思远", "梦洁", "一鸣", "雨婷",
    "天宇", "敏华", "卫东", "美玲", "立新", "海峰", "红梅", "春燕", "俊杰", "振华", "慧敏", "晓峰", "嘉怡",
)
# Names more usual among people born in the 1930s–50s: many of the special-care customers.
GIVEN_ELDER = (
    "秀英", "桂英", "玉兰", "凤英", "建国", "国华", "根宝", "金宝", "杏娣", "雪珍", "美娣", "福根", "国庆",
    "志刚", "佩华", "宝珍", "秀珍", "桂芳", "阿毛", "金妹",
)


def person(rng: random.Random, elder: bool = False) -> str:
    """A surname and a given name, e.g. 陆建华."""
    return rng.choice(SURNAMES) + rng.choice(GIVEN_ELDER if elder else GIVEN)


_SHOP_PREFIX = (
    "福兴", "锦华", "和平", "新亚", "金桥", "永丰", "盛源", "华联", "东湖", "利民", "祥和", "鼎丰", "汇源",
    "荣昌", "宏达", "老城隍", "德隆", "同福", "春风", "兴旺",
)
_SHOPS = (
    "餐厅", "面馆", "酒家", "茶餐厅", "火锅店", "烘焙坊", "小吃店", "生煎馆", "馄饨店", "职工食堂", "宾馆",
    "洗衣店", "浴室", "饭店",
)
_WORKS = ("食品厂", "印染厂", "精密机械有限公司", "塑料制品有限公司", "包装材料有限公司", "热处理厂", "五金制品厂")
_HEATING = ("大厦集中供热锅炉房", "社区卫生服务中心锅炉房", "养老院锅炉房", "中学锅炉房", "酒店锅炉房", "商务楼锅炉房")


def business(rng: random.Random, category: str) -> str:
    """A business name fitting the customer category (commercial, industrial, heating)."""
    prefix = rng.choice(_SHOP_PREFIX)
    if category == "industrial":
        return f"上海{prefix}{rng.choice(_WORKS)}"
    if category == "heating":
        return f"{prefix}{rng.choice(_HEATING)}"
    shop = rng.choice(_SHOPS)
    if rng.random() < 0.3:
        return f"{rng.choice(SURNAMES)}记{shop}"
    return f"{prefix}{shop}"


_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                    "155", "156", "157", "158", "159", "180", "181", "182", "183", "185", "186", "187", "188", "189")


def mobile(rng: random.Random) -> str:
    """A mobile number in the 13x/15x/18x pattern with random (fake) digits."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random) -> str:
    """A Shanghai landline (021) with random digits, for businesses."""
    return f"021-{rng.choice('3456')}{rng.randrange(10**7):07d}"
