"""Planning benchmark: 300 jobs, 25 technicians, 2-hour windows and skills in one city.

Prints the VROOM solve time (target ≤ 5 s), total travel against the greedy nearest-neighbour
baseline (target ≥ 15 % shorter), jobs left unplaced by each, and any window/skill/shift violation
(target: none). Run: ``.venv/bin/python bench/planning_bench.py [--jobs 300 --technicians 25 --seeds 3]``
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.planning.vrp import PlanJob, PlanTechnician, nearest_neighbour, solve  # noqa: E402

# Central Shanghai, roughly the demo's service area.
LAT, LON, SPAN_LAT, SPAN_LON = 31.13, 121.36, 0.20, 0.24
# Every technician inspects; half also repair, some do meter work, a few hold the pressure-work ticket.
SKILL_SETS = [{"inspection", "gas_safety", "repair"}, {"inspection", "gas_safety", "meter", "meter_work"},
              {"inspection", "gas_safety", "repair", "pressure_work"}, {"inspection", "gas_safety"}]
# (needs, service minutes, share of the day's jobs)
JOB_NEEDS = [({"inspection", "gas_safety"}, 25, 0.60), ({"repair", "gas_safety"}, 40, 0.25),
             ({"meter", "meter_work"}, 30, 0.10), ({"repair", "pressure_work"}, 50, 0.05)]


def instance(seed: int, n_jobs: int, n_techs: int) -> tuple[list[PlanTechnician], list[PlanJob]]:
    """A reproducible day: technicians start at one of two centres; jobs spread over the city."""
    rng = random.Random(seed)
    centres = [(31.19, 121.44), (31.27, 121.52)]
    techs = []
    for i in range(n_techs):
        lat, lon = centres[i % 2]
        techs.append(PlanTechnician(f"t{i}", lat, lon, 8 * 3600 + 1800, 17 * 3600 + 1800,
                                    frozenset(SKILL_SETS[i % len(SKILL_SETS)])))
    jobs = []
    for j in range(n_jobs):
        needs, minutes, _ = rng.choices(JOB_NEEDS, weights=[w for *_, w in JOB_NEEDS])[0]
        start = rng.choice(range(9, 16)) * 3600
        jobs.append(PlanJob(f"j{j}", LAT + rng.random() * SPAN_LAT, LON + rng.random() * SPAN_LON, minutes * 60,
                            (start, start + 2 * 3600), frozenset(needs), priority=rng.choice([0, 0, 0, 20, 50])))
    return techs, jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--technicians", type=int, default=25)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for seed in range(args.seeds):
        techs, jobs = instance(seed, args.jobs, args.technicians)
        plan, greedy = solve(techs, jobs), nearest_neighbour(techs, jobs)
        saving = 100 * (1 - plan.travel_s / greedy.travel_s)
        rows.append({"seed": seed, "solve_s": round(plan.solve_ms / 1000, 2),
                     "travel_h": round(plan.travel_s / 3600, 1), "greedy_travel_h": round(greedy.travel_s / 3600, 1),
                     "shorter_pct": round(saving, 1), "unplaced": len(plan.unassigned),
                     # fair when the two place different numbers of jobs
                     "travel_min_per_job": round(plan.travel_s / 60 / (len(jobs) - len(plan.unassigned)), 1),
                     "greedy_travel_min_per_job": round(greedy.travel_s / 60 / (len(jobs) - len(greedy.unassigned)), 1),
                     "greedy_unplaced": len(greedy.unassigned), "violations": len(plan.violations)})
        print(f"seed {seed}: solve {rows[-1]['solve_s']} s, travel {rows[-1]['travel_h']} h vs greedy "
              f"{rows[-1]['greedy_travel_h']} h ({rows[-1]['shorter_pct']}% shorter), unplaced {len(plan.unassigned)} "
              f"(greedy {len(greedy.unassigned)}), violations {len(plan.violations)}")
        for v in plan.violations[:5]:
            print("  violation:", v)
    summary = {
        "jobs": args.jobs, "technicians": args.technicians, "seeds": args.seeds,
        "solve_s_max": max(r["solve_s"] for r in rows),
        "shorter_pct_mean": round(statistics.mean(r["shorter_pct"] for r in rows), 1),
        "travel_min_per_job": round(statistics.mean(r["travel_min_per_job"] for r in rows), 1),
        "greedy_travel_min_per_job": round(statistics.mean(r["greedy_travel_min_per_job"] for r in rows), 1),
        "unplaced_total": sum(r["unplaced"] for r in rows),
        "greedy_unplaced_total": sum(r["greedy_unplaced"] for r in rows),
        "violations": sum(r["violations"] for r in rows),
        "command": "python bench/planning_bench.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
