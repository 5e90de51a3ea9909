"""Tablets sync through a proxy that drops, delays, truncates, resets and duplicates requests: nothing is
lost or applied twice (G1, G2), every tablet converges with the server (G3), order holds (G5)."""

from __future__ import annotations

from tests.e2e.scenario import run_faults


def test_tablets_through_a_faulty_network_lose_nothing_and_converge(e2e_db, servers, tmp_path):
    server = servers(e2e_db)
    run = run_faults(e2e_db, server, tmp_path, tablets=4, rounds=6, seed_=7, time_limit=45)
    print(run.summary())
    assert run.mutations >= 40, run.summary()
    injected = {k for k, v in run.faults.items() if v and k not in ("requests", "pass")}
    # Every kind of fault met the tablets at least once (otherwise the test proves less than it says).
    assert {"drop_request", "drop_response", "delay", "truncate_request", "truncate_response"} <= injected
    assert any(k.startswith("duplicate") for k in injected) and any(k.startswith("reset") for k in injected)
    assert run.failed_syncs > 0  # the faults did bite
    assert run.violations == [], "\n".join(run.violations)
