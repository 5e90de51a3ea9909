"""A seeded simulation: technicians edit offline, the office edits, the network misbehaves, devices
and the server crash; then everyone syncs to quiescence and the guarantees are checked.

``run(seed, steps)`` is deterministic for a seed: the same seed and step count replay the same
run, and fewer steps replay a prefix of it (how bench/simulate.py shrinks a failing trace).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from sync.engine import SyncEngine
from sync.records import BlobRef, Principal
from sync.sim.checks import check_all
from sync.sim.device import MemoryDeviceStore
from sync.sim.network import DeviceCrash, Faults, FaultyTransport, SimServer
from sync.sim.server import MemoryServerStore
from sync.sim.world import World, build_world

NEXT_STEP = {"dispatched": "en_route", "en_route": "on_site", "on_site": "in_progress", "in_progress": "completed"}
STEP_FACT = {"en_route": "en_route_at", "on_site": "arrived_at", "in_progress": "work_started_at",
             "completed": "completed_at"}


@dataclass
class Device:
    """One technician's tablet: its store (survives crashes), engine and transport (do not)."""

    principal: Principal
    store: MemoryDeviceStore
    transport: FaultyTransport
    engine: SyncEngine
    rogue: set[str] = field(default_factory=set)  # mutation ids aimed outside scope on purpose


@dataclass
class Outcome:
    """The result of one simulated run."""

    seed: int
    steps: int
    violations: list[str]
    trace: list[str]


class Simulation:
    """The actors and the world of one seeded run."""

    def __init__(self, seed: int, technicians: int = 3, jobs_per_technician: int = 2, faults: Faults | None = None):
        self.rng = random.Random(seed)
        self.store = MemoryServerStore()
        self.world: World = build_world(self.store, technicians, jobs_per_technician, chargeable_every=0)
        self.server = SimServer(self.store)
        self.faults = faults or Faults(drop_request=0.08, drop_response=0.08, duplicate=0.08, delay=0.05,
                                       server_crash=0.04, device_crash=0.04)
        self.trace: list[str] = []
        self.tick = 0
        self.devices = [self._device(i, tech) for i, tech in enumerate(self.world.technicians)]
        self.office_tokens: list[tuple[str, str]] = []  # (premises id, token) the office wrote

    def _device(self, i: int, tech: str) -> Device:
        principal = Principal(tech, f"dev-{i}", f"师傅{i}")
        store = MemoryDeviceStore(principal.device_id)
        transport = FaultyTransport(self.server, principal, random.Random(self.rng.random()), self.faults)
        return Device(principal, store, transport, self._engine(store, transport))

    def _engine(self, store: MemoryDeviceStore, transport: FaultyTransport) -> SyncEngine:
        return SyncEngine(store, transport, batch_size=self.rng.choice([1, 3, 50]), page_size=self.rng.choice([2, 7, 500]),
                          rng=self.rng.random, clock=lambda: float(self.tick))

    def _stamp(self) -> str:
        self.tick += 1
        return f"2026-11-27T{8 + self.tick // 3600 % 12:02d}:{self.tick // 60 % 60:02d}:{self.tick % 60:02d}+08:00"

    def log(self, text: str) -> None:
        self.trace.append(f"{len(self.trace):4d} {text}")

    # --- one step ---------------------------------------------------------------------------------

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.25:
            self.office_action()
        elif roll < 0.65:
            self.device_action(self.rng.choice(self.devices))
        elif roll < 0.95:
            self.sync(self.rng.choice(self.devices))
        else:
            d = self.rng.choice(self.devices)
            d.engine = self._engine(d.store, d.transport)
            self.log(f"{d.principal.device_id} app restarted")

    def sync(self, d: Device, faults: bool = True) -> bool:
        d.transport.faults = self.faults if faults else Faults.none()
        d.transport.device_time = self._stamp()
        try:
            report = d.engine.sync()
        except DeviceCrash:
            d.engine = self._engine(d.store, d.transport)  # the store survives; the engine's memory does not
            self.log(f"{d.principal.device_id} crashed mid-sync ({'; '.join(d.transport.log[-3:])})")
            return False
        self.log(f"{d.principal.device_id} sync: pushed {report.pushed} pulled {report.pulled_rows} "
                 f"revoked {report.revoked} error {report.error} [{'; '.join(d.transport.log[-3:])}]")
        d.transport.log.clear()
        return report.complete

    def office_action(self) -> None:
        job_id = self.rng.choice(self.world.jobs)
        job = self.store.row("job", job_id)
        assert job is not None
        kind = self.rng.choice(["reassign", "route", "cancel", "notes", "reschedule", "priority"])
        self.tick += 1
        if kind == "reassign" and job.data["status"] in ("dispatched", "scheduled", "en_route"):
            tech = self.rng.choice(self.world.technicians)
            self.store.office_put("job", job_id, {"technician_id": tech})
        elif kind == "route":
            self.store.office_put("job", job_id, {"route_order": 1000 + self.tick})
        elif kind == "cancel" and job.data["status"] in ("dispatched", "scheduled", "en_route"):
            self.store.office_put("job", job_id, {"status": "cancelled"})
        elif kind == "notes":
            premises = job.data["premises_id"]
            token = f"o{self.tick}"
            old = self.store.row("premises", premises).data["access_notes"]  # type: ignore[union-attr]
            self.store.office_put("premises", premises, {"access_notes": f"{old} {token}".strip()})
            self.office_tokens.append((premises, token))
        elif kind == "reschedule" and job.data["status"] in ("dispatched", "scheduled"):
            self.store.office_put("job", job_id, {"status": "scheduled" if job.data["status"] == "dispatched"
                                                  else "dispatched"})
        elif kind == "priority":
            self.store.office_put("job", job_id, {"priority": self.rng.randint(1, 4)})
        else:
            return
        self.log(f"office {kind} job {job_id[:8]} -> {self.store.row('job', job_id).data.get('technician_id', '')[:8]} "
                 f"status {self.store.row('job', job_id).data['status']}")

    def device_action(self, d: Device) -> None:
        s = d.store
        mine = [j for j in self.world.jobs if (v := s.view("job", j)) is not None and v.get("technician_id") ==
                d.principal.technician_id]
        kind = self.rng.choice(["advance", "advance", "route", "notes", "note", "answer", "event", "rogue", "illegal"])
        if kind == "rogue":  # a buggy or tampered client aims at a job it never had (G7)
            m = s.update("job", self.world.outsider_job, {"route_order": 1})
            d.rogue.add(m.mutation_id)
            self.log(f"{d.principal.device_id} rogue edit of someone else's job")
            return
        if not mine:
            return
        job_id = self.rng.choice(mine)
        job = s.view("job", job_id) or {}
        stamp = self._stamp()
        if kind == "advance":
            nxt = NEXT_STEP.get(job.get("status", ""))
            if nxt is None:
                return
            if nxt == "completed":
                png = f"photo {d.principal.device_id} {stamp}".encode()
                sha = hashlib.sha256(png).hexdigest()
                s.add_blob(BlobRef(sha, "image/png", len(png)), png)
                s.create("cleanup_confirmation", {"job_id": job_id, "customer_confirmed": True, "confirmed_at": stamp,
                                                  "photo_sha256": sha})
            fields: dict[str, Any] = {"status": nxt}
            if job.get(STEP_FACT[nxt]) is None:
                fields[STEP_FACT[nxt]] = stamp
            s.update("job", job_id, fields)
        elif kind == "route":
            s.update("job", job_id, {"route_order": 2000 + self.tick})
        elif kind == "notes":
            premises = job["premises_id"]
            old = (s.view("premises", premises) or {}).get("access_notes", "")
            s.update("premises", premises, {"access_notes": f"{old} d{self.tick}".strip()})
        elif kind == "note":
            s.create("note", {"job_id": job_id, "text": f"note {self.tick}", "author_name": "师傅", "written_at": stamp})
        elif kind == "answer":
            s.create("checklist_answer", {"job_id": job_id, "template_id": self.world.template_id,
                                          "item_key": "leak_test", "value": {"value": "pass"}, "answered_at": stamp})
        elif kind == "event":
            s.create("visit_event", {"job_id": job_id, "kind": "running_late", "at": stamp, "eta": stamp})
        elif kind == "illegal":
            s.update("job", job_id, {"status": "closed"})
        self.log(f"{d.principal.device_id} {kind} on job {job_id[:8]}")

    # --- the end ------------------------------------------------------------------------------------

    def quiesce(self) -> list[str]:
        """Stop editing, heal the network, deliver what it held, and sync everyone until nothing moves."""
        for d in self.devices:
            d.transport.faults = Faults.none()
            for kind, body in d.transport.held:
                getattr(self.server, kind)(d.principal, body)
            d.transport.held.clear()
        for _ in range(4):
            for d in self.devices:
                for _attempt in range(10):
                    if self.sync(d, faults=False) and not d.store.outbox:
                        break
        problems = []
        for d in self.devices:
            if d.store.outbox:
                problems.append(f"G1: {d.principal.device_id} still has {len(d.store.outbox)} unsent changes")
        return problems


def run(seed: int, steps: int = 80, **kwargs: Any) -> Outcome:
    """Run one seed for ``steps`` steps, reach quiescence, and check every guarantee."""
    sim = Simulation(seed, **kwargs)
    violations: list[str] = []
    try:
        for _ in range(steps):
            sim.step()
        violations += sim.quiesce()
    except AssertionError as exc:  # the in-memory store's own G2 tripwire
        violations.append(str(exc))
    violations += check_all(sim)
    return Outcome(seed, steps, violations, sim.trace)


def shrink(outcome: Outcome, **kwargs: Any) -> Outcome:
    """The shortest prefix of a failing run that still fails (runs are prefix-deterministic)."""
    lo, hi, best = 0, outcome.steps, outcome
    while lo < hi:
        mid = (lo + hi) // 2
        attempt = run(outcome.seed, mid, **kwargs)
        if attempt.violations:
            best, hi = attempt, mid
        else:
            lo = mid + 1
    return best

