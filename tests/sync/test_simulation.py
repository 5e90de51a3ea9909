"""Seeded simulations of the whole protocol (sync/sim): G1, G2, G3, G5, G6, G7, G8 under faults.

The long run is ``bench/simulate.py --seeds 1000``; here a fast set of seeds, plus planted bugs
that the checks must catch (a check that cannot fail proves nothing).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import sync.server_core
from sync.merge import decide
from sync.records import ResultStatus
from sync.sim import scenario
from sync.sim.server import MemoryServerStore

SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_guarantees_hold_under_faults(seed):
    outcome = scenario.run(seed, steps=80)
    assert outcome.violations == [], "\n".join(outcome.violations + outcome.trace[-30:])


def test_the_fast_seeds_exercise_every_fault_and_the_interesting_merges():
    text = "\n".join(line for seed in range(12) for line in scenario.run(seed, steps=80).trace)
    for fault in ("request lost", "answer lost", "duplicated", "held back", "late push delivered",
                  "server crashed", "crashed mid-sync", "app restarted", "office reassign", "office cancel",
                  "rogue edit"):
        assert fault in text, fault


def test_a_run_is_reproducible_from_its_seed():
    a, b = scenario.run(7, steps=40), scenario.run(7, steps=40)
    assert a.trace == b.trace


def _plan_overwrite(current, mutation, spec, actor, context):
    """A planted bug: stale plan edits overwrite dispatch silently (last writer wins)."""
    d = decide(current, mutation, spec, actor, context)
    if d.status is ResultStatus.CONFLICT and mutation.collection == "job" and "route_order" in mutation.fields:
        return replace(d, status=ResultStatus.APPLIED, writes={**d.writes, "route_order": mutation.fields["route_order"]},
                       conflicts=())
    return d


def test_the_checks_catch_a_silent_last_writer_wins(monkeypatch):
    monkeypatch.setattr(sync.server_core, "decide", _plan_overwrite)
    found = [v for seed in range(40) for v in scenario.run(seed, steps=80).violations]
    assert any(v.startswith("G6") and "route_order" in v for v in found)


def test_the_checks_catch_replays_that_take_effect_twice(monkeypatch):
    monkeypatch.setattr(MemoryServerStore, "load_results", lambda self, ids: {})
    found = [v for seed in range(10) for v in scenario.run(seed, steps=80).violations]
    assert any("G2" in v for v in found)


def test_the_checks_catch_a_late_change_dropped_after_reassignment(monkeypatch):
    monkeypatch.setattr(MemoryServerStore, "previously_assigned", lambda self, tech, jobs: set())
    found = [v for seed in range(40) for v in scenario.run(seed, steps=80).violations]
    assert any(v.startswith("G8") for v in found)


def test_shrinking_finds_a_shorter_failing_prefix(monkeypatch):
    monkeypatch.setattr(sync.server_core, "decide", _plan_overwrite)
    failing = next(o for o in (scenario.run(s, steps=80) for s in range(40)) if o.violations)
    small = scenario.shrink(failing)
    assert small.violations and small.steps <= failing.steps
    assert scenario.run(failing.seed, small.steps).violations == small.violations
