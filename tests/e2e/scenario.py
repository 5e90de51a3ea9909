"""Tablets working and syncing through the fault proxy against a real server: the shared scenario of
tests/e2e/test_faults_proxy.py and bench/faults.py."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.checks import check_convergence, check_delivery, fresh_copies
from tests.e2e.faultproxy import FaultPlan, FaultProxy
from tests.e2e.harness import Database, ServerProcess, seed
from tests.e2e.tablet import Tablet


@dataclass
class FaultRun:
    """What a run did and found."""

    tablets: int
    rounds: int
    seed: int
    mutations: int = 0
    syncs: int = 0
    failed_syncs: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    quiesce_seconds: float = 0.0

    def summary(self) -> str:
        """One line of figures."""
        injected = {k: v for k, v in sorted(self.faults.items()) if k not in ("requests", "pass")}
        return (f"tablets={self.tablets} rounds={self.rounds} seed={self.seed} mutations={self.mutations} "
                f"requests={self.faults.get('requests', 0)} faults={sum(injected.values())} {injected} "
                f"syncs={self.syncs} failed_syncs={self.failed_syncs} violations={len(self.violations)} "
                f"time={self.seconds:.1f}s quiesce={self.quiesce_seconds:.1f}s")


def run_faults(db: Database, server: ServerProcess, folder: Path, *, tablets: int, rounds: int, seed_: int,
               fault_rate: float = 0.35, jobs_each: int = 3, steps_per_round: int = 2, timeout: float = 2.0,
               time_limit: float = 600) -> FaultRun:
    """Seed ``tablets`` technicians, run ``rounds`` rounds of work + sync through a fault proxy, heal the
    network, sync every tablet to the end and check G1, G2, G3 and G5."""
    started = time.monotonic()
    run = FaultRun(tablets, rounds, seed_)
    seed(db, tablets, jobs_each)
    plan = FaultPlan.uniform(fault_rate, long_delay_s=timeout + 0.5)
    devices: list[Tablet] = []
    with FaultProxy(server.port, plan, seed_) as proxy, ThreadPoolExecutor(max_workers=min(tablets, 32)) as pool:
        for i in range(tablets):
            devices.append(Tablet.open(folder / f"tablet{i}.sqlite", proxy.url, f"tech{i}", f"tablet-{i}",
                                       login_url=server.url, seed=seed_ * 1000 + i, timeout=timeout,
                                       batch_size=7, page_size=25))
        # The first sync goes through the faults too; tablets keep trying (bounded) until they hold their day.
        first = list(pool.map(lambda t: t.sync_until_complete(timeout=120), devices))
        run.violations += [f"first sync of {t.name} never completed: {r.error}"
                           for t, r in zip(devices, first, strict=True) if not r.complete]

        def one_round(tablet: Tablet) -> None:
            for _ in range(tablet.rng.randint(1, steps_per_round)):
                tablet.work()
            tablet.sync_once()

        for _ in range(rounds):
            if time.monotonic() - started > time_limit:
                run.violations.append(f"time limit {time_limit} s reached before the last round")
                break
            list(pool.map(one_round, devices))
        # Quiescence: the network heals, every tablet syncs to the end.
        quiet = time.monotonic()
        proxy.enabled = False
        final = list(pool.map(lambda t: t.sync_until_complete(timeout=120), devices))
        # A second pass: changes another tablet's sync made (none here, but cheap) reach everyone.
        final = list(pool.map(lambda t: t.sync_until_complete(timeout=60), devices))
        run.quiesce_seconds = time.monotonic() - quiet
        run.violations += [f"{t.name} did not reach quiescence: {r.error}"
                           for t, r in zip(devices, final, strict=True) if not r.complete]
        run.faults = dict(proxy.stats)
    run.mutations = sum(len(t.made) for t in devices)
    run.syncs = sum(len(t.reports) for t in devices)
    run.failed_syncs = sum(1 for t in devices for r in t.reports if not r.complete)
    run.violations += check_delivery(db, devices)
    fresh = fresh_copies(devices, server.url, folder)
    run.violations += check_convergence(devices, fresh)
    for t in [*devices, *fresh.values()]:
        t.close()
    run.seconds = time.monotonic() - started
    return run
