"""A small company to simulate: technicians, households, jobs, a checklist template and a price list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sync.sim.server import MemoryServerStore


def sim_id(*parts: object) -> str:
    """A reproducible UUID for a simulated row."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, ".".join(str(p) for p in parts) + ".fieldsync.sim"))


@dataclass
class World:
    """The ids of what ``build_world`` created."""

    technicians: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    template_id: str = ""
    outsider_job: str = ""  # assigned to a technician with no tablet in the run; never reassigned


def build_world(store: MemoryServerStore, technicians: int = 2, jobs_per_technician: int = 3,
                chargeable_every: int = 3) -> World:
    """Seed the office's rows: each technician has dispatched jobs at their own households."""
    world = World()
    world.template_id = sim_id("template")
    store.office_put("checklist_template", world.template_id, {
        "code": "SAFETY", "version_no": 1, "name": "安全检查", "name_en": "Safety inspection",
        "job_type": "safety_inspection", "customer_categories": [], "active": True, "published_at": None,
        "items": [{"key": "leak_test", "label": "燃气泄漏检测", "type": "pass_fail_na", "required": True}],
    })
    store.office_put("price_item", sim_id("price", 1), {
        "code": "P-101", "name": "燃气软管", "name_en": "Gas hose", "kind": "part", "unit": "根",
        "unit_price_cents": 4500, "active": True,
    })
    n = 0
    for t in range(technicians + 1):
        tech = sim_id("tech", t)
        outsider = t == technicians
        if not outsider:
            world.technicians.append(tech)
        store.office_put("technician", tech, {"staff_no": f"T{t:05d}", "name": f"师傅{t}", "phone": "", "skills": [],
                                              "user_id": None, "service_centre_id": None, "start_lat": None,
                                              "start_lon": None, "shift_start": "08:30", "shift_end": "17:30",
                                              "active": True})
        for j in range(1 if outsider else jobs_per_technician):
            n += 1
            customer, premises, job = sim_id("cust", n), sim_id("prem", n), sim_id("job", n)
            store.office_put("customer", customer, {"account_no": f"A{n:06d}", "name": f"用户{n}",
                                                    "category": "residential", "phone": "", "special_care": False,
                                                    "special_care_reason": "", "notes": "", "id_number": "secret"})
            store.office_put("premises", premises, {"customer_id": customer, "address": f"{n} 号", "district": "",
                                                    "lat": 31.2, "lon": 121.4, "access_notes": ""})
            store.office_put("meter", sim_id("meter", n), {"premises_id": premises, "serial": f"M{n}", "model": "",
                                                           "kind": "diaphragm", "installed_on": None,
                                                           "calibration_due_on": "2027-01-01", "status": "active",
                                                           "last_reading": None, "last_read_at": None})
            store.office_put("job", job, {
                "ref": f"GD-{n:04d}", "job_type": "safety_inspection", "source": "inspection_plan", "priority": 3,
                "status": "dispatched", "customer_id": customer, "premises_id": premises,
                "chargeable": chargeable_every > 0 and n % chargeable_every == 0,
                "technician_id": tech, "route_order": j + 1, "window_start": "2026-11-27T09:00:00+08:00",
                "window_end": "2026-11-27T11:00:00+08:00", "description": "", "eta": None, "arrived_at": None,
                "en_route_at": None, "work_started_at": None, "completed_at": None, "departed_at": None,
                "could_not_complete_reason": None, "could_not_complete_note": "", "satisfaction": None,
                "cancelled_reason": "",
            })
            if outsider:
                world.outsider_job = job
            else:
                world.jobs.append(job)
    return world
