"""The demo organisation: group, region, company, centres, users, technicians and certifications."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.auth.models import Role, User
from server.demo.addresses import CENTRES
from server.demo.context import Demo
from server.demo.names import mobile
from server.org.models import Company, Group, Region, ServiceCentre
from server.people.models import Certification, Technician

COMPANY_CODE = "demo"
GROUP_NAME = "华东燃气集团"
REGION_NAME = "华东大区"
COMPANY_NAME = "申江燃气有限公司"
TIMEZONE = "Asia/Shanghai"
PASSWORD = "fieldsync-demo"
INTERVALS = {"residential": 12, "commercial": 6, "industrial": 6, "heating": 6}

# (username, staff number, name, centre index, skills, {certification: days until expiry})
# Negative days: expired. Exactly one certification is expired (沈国华's pressure work), and one
# expires within the month so the console's warning has something to show.
TECHNICIANS: tuple[tuple[str, str, str, int, list[str], dict[str, int]], ...] = (
    ("tech1", "SJ-1001", "陆建明", 0, ["inspection", "repair", "meter"],
     {"gas_safety": 610, "pressure_work": 420, "meter_work": 300}),
    ("tech2", "SJ-1002", "顾志强", 0, ["inspection", "repair", "complaint"],
     {"gas_safety": 540, "pressure_work": 700, "complaint_handling": 380}),
    ("tech3", "SJ-1003", "沈国华", 0, ["inspection", "meter"],
     {"gas_safety": 460, "meter_work": 250, "pressure_work": -18}),
    ("tech4", "SJ-1004", "朱晓东", 0, ["inspection", "meter"],
     {"gas_safety": 21, "meter_work": 520}),
    ("tech5", "SJ-1005", "徐卫东", 1, ["inspection", "repair"],
     {"gas_safety": 680, "pressure_work": 365}),
    ("tech6", "SJ-1006", "王海峰", 1, ["inspection", "repair", "complaint"],
     {"gas_safety": 330, "pressure_work": 590, "complaint_handling": 445}),
    ("tech7", "SJ-1007", "张立新", 1, ["inspection", "meter"],
     {"gas_safety": 720, "meter_work": 150}),
    ("tech8", "SJ-1008", "钱俊杰", 1, ["inspection", "repair", "meter"],
     {"gas_safety": 400, "meter_work": 610, "pressure_work": 275}),
)
# (username, role, display name, centre index or None)
OFFICE_USERS: tuple[tuple[str, Role, str, int | None], ...] = (
    ("dispatcher1", Role.DISPATCHER, "周敏", 0),
    ("service1", Role.CUSTOMER_SERVICE, "陈静", None),
    ("admin", Role.ADMIN, "李娜（系统管理员）", None),
)
USERNAMES = tuple(u[0] for u in OFFICE_USERS) + tuple(t[0] for t in TECHNICIANS)
CERT_PREFIX = {"gas_safety": "AQ", "pressure_work": "DY", "meter_work": "JL", "complaint_handling": "KF"}


def taken_elsewhere(session: Session, company_id: object | None) -> list[str]:
    """Demo usernames already used by another company (usernames are unique across companies)."""
    stmt = sa.select(User.username).where(User.username.in_(USERNAMES))
    if company_id is not None:
        stmt = stmt.where(User.company_id != company_id)
    return sorted(session.execute(stmt).scalars())


def make_company(session: Session) -> Company:
    """The group and region (reused when present) and a new demo company; flushed."""
    group = session.execute(sa.select(Group).where(Group.name == GROUP_NAME)).scalar_one_or_none()
    if group is None:
        group = Group(name=GROUP_NAME)
        session.add(group)
        session.flush()
    region = session.execute(
        sa.select(Region).where(Region.group_id == group.id, Region.name == REGION_NAME)
    ).scalar_one_or_none()
    if region is None:
        region = Region(group_id=group.id, name=REGION_NAME)
        session.add(region)
        session.flush()
    company = Company(
        region_id=region.id, code=COMPANY_CODE, name=COMPANY_NAME, timezone=TIMEZONE,
        inspection_interval_months=dict(INTERVALS),
    )
    session.add(company)
    session.flush()
    return company


def make_staff(demo: Demo, password_hash: str) -> None:
    """Service centres, office users, technicians with logins and certifications."""
    cid = demo.cid()
    demo.centres = [
        ServiceCentre(company_id=cid, name=c.name, address=c.address, lat=c.lat, lon=c.lon) for c in CENTRES
    ]
    demo.flush(demo.centres)
    users = []
    for username, role, name, centre in OFFICE_USERS:
        users.append(User(
            company_id=cid, username=username, display_name=name, role=role, password_hash=password_hash,
            service_centre_id=demo.centres[centre].id if centre is not None else None,
        ))
    for username, _staff_no, name, centre, _skills, _certs in TECHNICIANS:
        users.append(User(
            company_id=cid, username=username, display_name=name, role=Role.TECHNICIAN,
            password_hash=password_hash, service_centre_id=demo.centres[centre].id,
        ))
    demo.flush(users)
    demo.users = {u.username: u for u in users}
    rng = demo.rng
    techs = []
    for username, staff_no, name, centre, skills, _certs in TECHNICIANS:
        site = demo.centres[centre]
        techs.append(Technician(
            company_id=cid, user_id=demo.users[username].id, service_centre_id=site.id, staff_no=staff_no,
            name=name, phone=mobile(rng), skills=list(skills), start_lat=site.lat,
            start_lon=site.lon, shift_start=dt.time(8, 30), shift_end=dt.time(17, 30),
        ))
    demo.flush(techs)
    demo.technicians = techs
    certs = []
    for tech, (_u, staff_no, _n, _c, _s, held) in zip(techs, TECHNICIANS, strict=True):
        for kind, days_left in held.items():
            expires = demo.today + dt.timedelta(days=days_left)
            certs.append(Certification(
                company_id=cid, technician_id=tech.id, kind=kind,
                number=f"{CERT_PREFIX[kind]}{staff_no[3:]}{rng.randrange(10**5):05d}",
                issued_on=expires - dt.timedelta(days=3 * 365), expires_on=expires,
            ))
    demo.flush(certs)
