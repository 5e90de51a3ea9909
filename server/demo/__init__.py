"""``fieldsync demo-data``: a believable Shanghai city gas company to try the system with.

申江燃气有限公司 (code ``demo``) of 华东燃气集团: two service centres, a dispatcher, eight technicians,
customer service and an admin; a few hundred households with their files and inspection history;
checklists, a price list, the last five weeks' finished work (server.demo.recent: what the KPI page, the
daily close and the follow-up calls show, with a few deliberate misses), today's and tomorrow's work, and
two open sync conflicts to review. The load is seeded (the same data on every load, its dates relative to
today) and idempotent: a second run finds the company and changes nothing; ``reset=True`` deletes the demo
company's rows first.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from server.db import audit_enabled, utcnow
from server.extensions import db
from server.org.models import Company

__all__ = ["load_demo"]


def load_demo(households: int = 300, reset: bool = False) -> list[str]:
    """Load the demo company (inside an app context); returns lines summarising what is there."""
    from server.auth.service import hash_password
    from server.demo import org
    from server.demo.reset import delete_company

    if households < 1:
        raise ValueError("households must be at least 1")
    started = time.perf_counter()
    session = db.session
    lines: list[str] = []
    existing = session.execute(sa.select(Company).where(Company.code == org.COMPANY_CODE)).scalar_one_or_none()
    clash = org.taken_elsewhere(session, existing.id if existing else None)
    if clash:
        raise RuntimeError(f"usernames already used by another company: {', '.join(clash)}")
    if existing is not None and not reset:
        lines.append(f"demo company {existing.name} ({existing.code}) is already loaded; nothing changed "
                     "(use --reset to delete it and load it afresh)")
        if not _has_work_today(existing):
            lines.append("its days have passed: no jobs are planned for today; use --reset for fresh routes")
        return lines + _summary(existing) + _logins()
    token = audit_enabled.set(False)  # the audit log of a bulk load says nothing; leave it out for speed
    try:
        if existing is not None:
            removed = delete_company(session, existing)
            lines.append(f"reset: deleted {removed} rows of the old demo company")
        company = _load(session, households, hash_password(org.PASSWORD))
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        audit_enabled.reset(token)
    seconds = time.perf_counter() - started
    lines.append(f"loaded demo company {company.name} ({company.code}) in {seconds:.1f} s")
    return lines + _summary(company) + _logins()


def _load(session, households: int, password_hash: str) -> Company:
    from server.demo import conflicts, hazards, history, office, org, recent, specials, work
    from server.demo import households as homes
    from server.demo.context import Demo

    company = org.make_company(session)
    demo = Demo(session=session, company=company, tz=ZoneInfo(company.timezone), now=utcnow())
    org.make_staff(demo, password_hash)
    office.make_templates(demo)
    office.make_price_list(demo)
    homes.make_households(demo, households)
    found = hazards.make_hazards(demo)
    history.make_fixed_hazard(demo, set())
    recent.make_recent(demo)
    planner = work.Planner(demo)
    for stage in specials.plan_specials(demo, planner, found):
        demo.flush(stage)
    # About half the households get a visit in the two days, 6–8 per technician per day at full size.
    per_day = max(1, min(8, households // (4 * len(demo.technicians))))
    work.fill_days(demo, planner, per_day)
    jobs = work.materialise(demo, planner)
    specials.link_rectifications(demo, planner)
    conflicts.make_conflicts(demo, jobs)
    office.make_hotline_calls(demo)
    office.make_outage(demo)
    return company


def _has_work_today(company: Company) -> bool:
    from server.jobs.models import Job

    tz = ZoneInfo(company.timezone)
    start = dt.datetime.combine(utcnow().astimezone(tz).date(), dt.time(0), tzinfo=tz)
    return _count(Job, company.id, Job.window_start >= start) > 0


def _count(model, company_id, *where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model).where(model.company_id == company_id, *where)
    return int(db.session.execute(stmt).scalar())


def _summary(company: Company) -> list[str]:
    """What the demo company holds now, read back from the database."""
    from server.customers.models import Customer, Meter
    from server.demo.households import RECENT_DAYS
    from server.followups.models import FollowUpStatus, FollowUpTask
    from server.jobs.models import Job, ServiceCall
    from server.notifications.models import OutageNotice
    from server.people.models import Certification, Technician
    from server.sync.models import ConflictStatus, SyncConflict
    from server.visits.models import Hazard, HazardStatus, PriceItem

    cid = company.id
    tz = ZoneInfo(company.timezone)
    now = utcnow()
    today = now.astimezone(tz).date()
    categories = Counter(db.session.execute(
        sa.select(Customer.category).where(Customer.company_id == cid)).scalars())
    day_start = dt.datetime.combine(today, dt.time(0), tzinfo=tz)
    open_jobs = db.session.execute(
        sa.select(Job.window_start, Job.technician_id).where(
            Job.company_id == cid, Job.status.in_(["new", "scheduled", "dispatched"]))
    ).all()
    on_day = Counter(
        ((w.astimezone(tz).date() - today).days if w else None, t is not None) for w, t in open_jobs
        if w is None or w >= day_start
    )
    cat_text = "、".join(f"{k.value} {v}" for k, v in sorted(categories.items(), key=lambda kv: -kv[1]))
    return [
        f"  time zone {company.timezone}; today there is {today:%Y-%m-%d}",
        f"  households: {sum(categories.values())} ({cat_text}); "
        f"special care {_count(Customer, cid, Customer.special_care.is_(True))}",
        f"  meters: {_count(Meter, cid)} ({_count(Meter, cid, Meter.calibration_due_on < today)} past verification)",
        f"  technicians: {_count(Technician, cid)}; expired certifications: "
        f"{_count(Certification, cid, Certification.expires_on < today)}",
        f"  jobs today: {on_day[(0, True)]} assigned, {on_day[(0, False)]} unassigned; "
        f"tomorrow: {on_day[(1, True)]} assigned, {on_day[(1, False)]} unassigned; "
        f"without a window: {on_day[(None, False)] + on_day[(None, True)]}",
        f"  open hazards: {_count(Hazard, cid, Hazard.status != HazardStatus.FIXED)} "
        f"({_count(Hazard, cid, Hazard.status != HazardStatus.FIXED, Hazard.rectify_by < now)} past deadline); "
        f"hotline calls awaiting an answer: {_count(ServiceCall, cid, ServiceCall.answered_at.is_(None))}; "
        f"outage notices: {_count(OutageNotice, cid)}; price items: {_count(PriceItem, cid)}",
        f"  last {RECENT_DAYS} days: {_count(Job, cid, Job.completed_at >= now - dt.timedelta(days=RECENT_DAYS))} "
        f"visits finished; follow-up calls made {_count(FollowUpTask, cid, FollowUpTask.status == FollowUpStatus.DONE)}, "
        f"to make {_count(FollowUpTask, cid, FollowUpTask.status != FollowUpStatus.DONE)} "
        "(the console's KPIs, daily close and follow-ups)",
        f"  open sync conflicts to review: {_count(SyncConflict, cid, SyncConflict.status == ConflictStatus.OPEN)}",
    ]


def _logins() -> list[str]:
    from server.demo import org

    users = ", ".join(u[0] for u in org.OFFICE_USERS) + ", tech1 … tech8"
    return [f"logins: {users}", f"password for all: {org.PASSWORD}"]
