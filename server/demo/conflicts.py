"""Two open sync conflicts as the sync service records them (G6), so the conflicts inbox has work.

1. A tablet reordered its technician's day offline (route_order) after dispatch had already
   re-planned it: dispatch's order stands, the tablet's is kept in the record (plan_dispatch_wins).
2. The office and a tablet both edited a premises' access notes: both texts are kept, the tablet's
   attributed after the office's (notes_both_kept), for a dispatcher to tidy.
"""

from __future__ import annotations

import datetime as dt
import uuid

from server.customers.models import Premises
from server.demo.context import Demo
from server.jobs.models import Job
from server.people.models import Technician
from server.sync.models import SyncConflict
from sync import reasons as R
from sync.domain.jobs import JobStatus
from sync.merge import DISPATCHER, TECHNICIAN

OFFICE_NOTE = "请先电话联系，从小区东门进"
DEVICE_NOTE = "单元门密码 2580#；阳台有狗，已拴好"


def _device(tech: Technician) -> str:
    return f"tablet-{tech.staff_no.lower()}"


def make_conflicts(demo: Demo, jobs: list[Job]) -> list[SyncConflict]:
    """Record the two conflicts on today's dispatched routes (none when the demo has no such route)."""
    by_tech: dict[uuid.UUID, list[Job]] = {}
    for job in jobs:
        if job.status == JobStatus.DISPATCHED and job.route_order is not None:
            by_tech.setdefault(job.technician_id, []).append(job)
    routes = [sorted(route, key=lambda j: j.route_order) for _, route in sorted(by_tech.items(), key=lambda kv: str(kv[0]))
              if len(route) >= 2]
    if not routes:
        return []
    techs = {t.id: t for t in demo.technicians}
    rows = []
    # 1. The technician moved their second stop to the front while offline; dispatch had re-planned.
    route = routes[0]
    job, tech = route[1], techs[route[1].technician_id]
    rows.append(SyncConflict(
        company_id=demo.cid(), collection="job", row_id=str(job.id), field="route_order",
        server_value=job.route_order, device_value=1, rule=R.PLAN_DISPATCH_WINS,
        message=R.conflict_message(R.PLAN_DISPATCH_WINS, collection="job", field="route_order",
                                   server=job.route_order, device=1),
        assignee_role=TECHNICIAN, job_id=job.id, device_id=_device(tech), technician_id=tech.id,
        mutation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo:{job.id}:route_order")),
        created_at=demo.now - dt.timedelta(minutes=42),
    ))
    # 2. Both sides edited the access notes of another stop's premises: both texts kept.
    other = routes[-1][0]
    tech = techs[other.technician_id]
    premises = demo.session.get(Premises, other.premises_id)
    device_time = (demo.now - dt.timedelta(minutes=75)).astimezone(demo.tz).isoformat(timespec="minutes")
    premises.access_notes = f"{OFFICE_NOTE}\n\n[{tech.name}, {device_time}] {DEVICE_NOTE}"
    rows.append(SyncConflict(
        company_id=demo.cid(), collection="premises", row_id=str(premises.id), field="access_notes",
        server_value=OFFICE_NOTE, device_value=DEVICE_NOTE, rule=R.NOTES_BOTH_KEPT,
        message=R.conflict_message(R.NOTES_BOTH_KEPT, collection="premises", field="access_notes"),
        assignee_role=DISPATCHER, job_id=None, device_id=_device(tech), technician_id=tech.id,
        mutation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo:{premises.id}:access_notes")),
        created_at=demo.now - dt.timedelta(minutes=70),
    ))
    demo.flush(rows)
    return rows
