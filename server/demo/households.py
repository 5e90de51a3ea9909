"""Demo households: customers with premises, meters, appliances, contacts and their inspection history."""

from __future__ import annotations

import datetime as dt
import uuid

from server.customers.models import Appliance, Customer, CustomerCategory, CustomerContact, Meter, Premises
from server.demo import addresses, catalog, names
from server.demo.context import Demo, Household
from server.demo.org import INTERVALS
from server.jobs.models import Appointment, AppointmentStatus, Job, JobSource, JobType
from sync.domain.jobs import JobStatus

CATEGORY_WEIGHTS = {"residential": 86, "commercial": 9, "industrial": 2, "heating": 3}
SPECIAL_CARE_SHARE = 0.05
# (reason, access note for the technician, relative's relation)
SPECIAL_CARE = (
    ("独居老人", "独居老人，上门前请先电话联系其子女", "女儿"),
    ("行动不便", "行动不便，开门较慢，请耐心等候", "儿子"),
    ("听力障碍", "听力障碍，敲门可能听不到，请先联系家属", "女儿"),
    ("视力障碍", "视力障碍，请当面口头说明检查结果", "儿子"),
    ("高龄老人（85岁以上）", "高龄老人，需家属在场签字", "孙女"),
    ("肢体残疾", "肢体残疾，请协助开关阀门", "居委会"),
)
RECENT_DAYS = 35  # the "recent past" the demo fills with finished work (server.demo.recent)
ACCESS_NOTES = ("门禁请按室号呼叫", "楼道灯坏，请带手电", "家中有狗，请敲门后等候", "工作日白天无人，请预约周末")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _inspection_age(demo: Demo, category: str) -> int | None:
    """Days since the last inspection: mostly not due, some due within a month, some overdue, a few never."""
    interval_days = INTERVALS[category] * 365 // 12
    r = demo.rng.random()
    if r < 0.03:
        return None
    if r < 0.23:  # inspected in the last five weeks (the KPI page's month: server.demo.recent)
        return demo.rng.randint(1, RECENT_DAYS)
    if r < 0.60:
        return demo.rng.randint(RECENT_DAYS + 1, interval_days - 36)
    if r < 0.80:
        return interval_days - demo.rng.randint(0, 35)
    return interval_days + demo.rng.randint(1, interval_days * 5 // 12)


def make_households(demo: Demo, count: int) -> None:
    """Create ``count`` households (about 5 % of the residential ones special-care) with their files."""
    rng, cid = demo.rng, demo.cid()
    categories = list(CATEGORY_WEIGHTS)
    chosen = [rng.choices(categories, weights=list(CATEGORY_WEIGHTS.values()))[0] for _ in range(count)]
    residential = [i for i, c in enumerate(chosen) if c == "residential"]
    care = set(rng.sample(residential, min(len(residential), max(2, round(count * SPECIAL_CARE_SHARE)))))
    centre_of = {name: i for i, site in enumerate(addresses.CENTRES) for name in site.districts}
    customers, premises_rows, contacts = [], [], []
    for i, category in enumerate(chosen):
        district = addresses.pick_district(rng)
        special = i in care
        if category == "residential":
            name, phone = names.person(rng, elder=special), names.mobile(rng)
            address = addresses.home_address(rng, district)
        else:
            name = names.business(rng, category)
            phone = names.mobile(rng) if rng.random() < 0.5 else names.landline(rng)
            address = addresses.business_address(rng, district, "1层" if category == "commercial" else "")
        reason, note, relation = rng.choice(SPECIAL_CARE) if special else ("", "", "")
        customer = Customer(
            company_id=cid, account_no=f"SJ{district.code[-3:]}{i + 1:06d}", name=name,
            category=CustomerCategory(category), phone=phone, special_care=special, special_care_reason=reason,
            notes=f"特殊关爱用户（{reason}），重点登记，优先安排上门" if special else "",
            created_at=demo.ago(days=rng.randint(200, 12 * 365)),
        )
        lat, lon = addresses.point_near(rng, district)
        access = note if special else (rng.choice(ACCESS_NOTES) if rng.random() < 0.15 else "")
        site = Premises(company_id=cid, customer=customer, address=address, district=district.name, lat=lat, lon=lon,
                        access_notes=access)
        customers.append(customer)
        premises_rows.append(site)
        if special:
            contacts.append(CustomerContact(
                company_id=cid, customer=customer, name=names.person(rng), phone=names.mobile(rng),
                relation=relation,
            ))
        demo.households.append(Household(customer, site, district.name, centre_of[district.name]))
    demo.flush(customers)
    demo.flush(premises_rows + contacts)
    demo.flush(_meters_and_appliances(demo))
    _inspection_history(demo)


def _meters_and_appliances(demo: Demo) -> list:
    rng, cid, today = demo.rng, demo.cid(), demo.today
    rows: list = []
    for h in demo.households:
        category = h.customer.category.value
        n_meters = 2 if (category != "residential" and rng.random() < 0.6) or rng.random() < 0.08 else 1
        for _ in range(n_meters):
            kind, model, years = rng.choice(catalog.METER_MODELS[category])
            r = rng.random()
            if r < 0.08:  # mandatory verification overdue (R15)
                due = today - dt.timedelta(days=rng.randint(5, 240))
            elif r < 0.14:  # due within the month
                due = today + dt.timedelta(days=rng.randint(1, 30))
            else:
                due = today + dt.timedelta(days=rng.randint(31, years * 365))
            installed = due - dt.timedelta(days=years * 365)
            meter = Meter(
                company_id=cid, premises_id=h.premises.id,
                serial=f"{rng.choice(('JT', 'GR', 'TC', 'HZ'))}{installed:%y}{rng.randrange(10**7):07d}",
                model=model, kind=kind, installed_on=installed, calibration_due_on=due,
                last_reading=round(rng.uniform(80, 4000 if category == "residential" else 90000), 1),
                last_read_at=demo.ago(days=rng.randint(20, 60)),
            )
            h.meters.append(meter)
        if category == "residential":
            kind, brands, models = catalog.HOME_STOVES[0]
            h.appliances.append(_appliance(demo, h, kind, rng.choice(brands), rng.choice(models)))
            if rng.random() < 0.78:
                kind, brands, models = catalog.HOME_HEATERS[1 if rng.random() < 0.15 else 0]
                h.appliances.append(_appliance(demo, h, kind, rng.choice(brands), rng.choice(models)))
                h.has_water_heater = True
        else:
            options = catalog.BUSINESS_APPLIANCES[category]
            for kind, brands in rng.sample(options, min(len(options), rng.randint(1, 3))):
                h.appliances.append(_appliance(demo, h, kind, rng.choice(brands), ""))
        rows.extend(h.meters)
        rows.extend(h.appliances)
    return rows


def _appliance(demo: Demo, h: Household, kind: str, brand: str, model: str) -> Appliance:
    installed = demo.today - dt.timedelta(days=demo.rng.randint(90, 12 * 365))
    return Appliance(company_id=demo.cid(), premises_id=h.premises.id, kind=kind, brand=brand, model=model,
                     installed_on=installed)


def _inspection_history(demo: Demo) -> None:
    """Each household's last inspection (and the one before, for the half-yearly ones): closed jobs."""
    rng = demo.rng
    by_centre: dict[int, list] = {}
    for tech in demo.technicians:
        index = next(i for i, c in enumerate(demo.centres) if c.id == tech.service_centre_id)
        by_centre.setdefault(index, []).append(tech)
    jobs, appointments = [], []
    for h in demo.households:
        category = h.customer.category.value
        months = INTERVALS[category]
        age = _inspection_age(demo, category)
        if age is None:
            h.inspection_due = demo.today
            continue
        last = demo.working_day_on_or_before(demo.today - dt.timedelta(days=age))
        h.last_inspection = last
        h.inspection_due = add_months(last, months)
        visits = [last] if months >= 12 else [last, demo.working_day_on_or_before(add_months(last, -months))]
        for day in reversed(visits):
            job, appointment = past_visit(demo, h, day, rng.choice(by_centre[h.centre]))
            jobs.append(job)
            appointments.append(appointment)
            h.last_job = job
    demo.flush(jobs)
    demo.flush(appointments)


def past_visit(demo: Demo, h: Household, day: dt.date, tech, job_type: JobType = JobType.SAFETY_INSPECTION,
               description: str = "", *, hour: int | None = None, late: int | None = None,
               created: dt.datetime | None = None) -> tuple[Job, Appointment]:
    """A closed visit on ``day``: agreed window (``hour``: its start, else a free hour of the technician's day),
    arrival ``late`` minutes after the window opened (else mostly on time), completion.

    The job's times are what the technician's tablet recorded; server.demo.recent adds what its sync did.
    """
    rng = demo.rng
    hour = hour if hour is not None else _free_hour(demo, tech, day)
    demo.booked.setdefault((tech.id, day), set()).add(hour)
    start = demo.at(day, hour)
    if late is None:
        late = rng.randint(0, 100) if rng.random() < 0.92 else rng.randint(125, 160)
    arrived = start + dt.timedelta(minutes=late)
    minutes = 40 if h.customer.category == CustomerCategory.RESIDENTIAL else 60
    completed = arrived + dt.timedelta(minutes=rng.randint(minutes - 10, minutes + 20))
    created = created or start - dt.timedelta(days=rng.randint(7, 20))
    job = Job(
        id=uuid.uuid4(), company_id=demo.cid(), ref=demo.ref(created.astimezone(demo.tz).date()), job_type=job_type,
        source=JobSource.INSPECTION_PLAN, status=JobStatus.CLOSED, customer_id=h.customer.id,
        premises_id=h.premises.id, service_centre_id=tech.service_centre_id,
        description=description or inspection_description(h), required_certifications=["gas_safety"],
        required_skills=["inspection"], duration_minutes=minutes, technician_id=tech.id, window_start=start,
        window_end=start + dt.timedelta(hours=2), en_route_at=arrived - dt.timedelta(minutes=20),
        arrived_at=arrived, work_started_at=arrived + dt.timedelta(minutes=3), completed_at=completed,
        departed_at=completed + dt.timedelta(minutes=5), satisfaction=rng.choice((5, 5, 5, 4, 4, 3)),
        created_at=created,
    )
    agreed = min(created + dt.timedelta(minutes=5), start)
    appointment = Appointment(
        company_id=demo.cid(), job_id=job.id, window_start=start, window_end=job.window_end,
        status=AppointmentStatus.ACTIVE, agreed_with=h.customer.name, agreed_at=agreed, created_at=agreed,
    )
    demo.past.append(job)
    return job, appointment


def _free_hour(demo: Demo, tech, day: dt.date) -> int:
    """A window start (09:00–15:00) at least two hours from the technician's other windows that day."""
    taken = demo.booked.get((tech.id, day), set())
    free = [hour for hour in range(9, 16) if all(abs(hour - t) >= 2 for t in taken)]
    return demo.rng.choice(free or list(range(9, 16)))


def inspection_description(h: Household) -> str:
    """What an inspection job says on the tablet."""
    if h.customer.category == CustomerCategory.RESIDENTIAL:
        text = "居民用户年度入户安全检查"
    else:
        text = "非居民用户半年度安全检查"
    if h.customer.special_care:
        text += f"（特殊关爱用户：{h.customer.special_care_reason}）"
    return text
