"""The guarantees of ARCHITECTURE.md checked on a simulation that reached quiescence.

Each check reads what people would see: the server's rows and conflict records, each tablet's
rows and parked changes. Values the simulation writes are unique (route orders, note tokens,
timestamps), so "was this value lost?" has a precise answer.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sync import reasons as R
from sync.collections import REGISTRY
from sync.domain.jobs import WORK_DONE, path_exists
from sync.records import Mutation, Op, ResultStatus
from sync.scope import compute_scope, key_of
from sync.server_core import visible_row

if TYPE_CHECKING:
    from sync.sim.scenario import Simulation


def check_all(sim: Simulation) -> list[str]:
    """Every violation found, each naming its guarantee."""
    out: list[str] = list(sim.server.scope_violations)
    for check in (check_nothing_lost, check_order, check_convergence, check_values_kept, check_status_legal):
        out += check(sim)
    for d in sim.devices:
        out += d.store.violations
    return out


def _answered(sim: Simulation) -> list[tuple[Any, Mutation, Any]]:
    """(device, mutation, device's recorded result) for every mutation a device got an answer to."""
    rows = []
    for d in sim.devices:
        for m in d.store.made:
            result = d.store.acked.get(m.mutation_id) or (d.store.parked.get(m.mutation_id) or (None, None))[1]
            rows.append((d, m, result))
    return rows


def check_nothing_lost(sim: Simulation) -> list[str]:
    """G1/G2/G8: every change was answered once, the server kept what it acknowledged, and no late
    change of a reassigned job was dropped as out of scope."""
    out = []
    for d, m, result in _answered(sim):
        if result is None:
            out.append(f"G1: {d.principal.device_id} {m.collection} {m.mutation_id[:8]} never answered")
            continue
        stored = sim.store.results.get(m.mutation_id)
        if stored is None:
            out.append(f"G1: the server has no answer for acknowledged {m.mutation_id[:8]}")
        elif stored.result.status != result.status:
            out.append(f"G2: {m.mutation_id[:8]} answered {result.status} to the device, {stored.result.status} stored")
        created = result.status is not ResultStatus.REJECTED and m.op is Op.CREATE
        if created and sim.store.row(m.collection, m.row_id) is None:
            out.append(f"G1: acknowledged {m.collection} {m.row_id[:8]} is not on the server")
        if result.reason == R.OUT_OF_SCOPE and m.mutation_id not in d.rogue:
            out.append(f"G8: {d.principal.device_id}'s change {m.mutation_id[:8]} to its own job was dropped as out of scope")
        if m.mutation_id in d.rogue and result.reason != R.OUT_OF_SCOPE:
            out.append(f"G7: a change outside the technician's scope was answered {result.status} {result.reason}")
    return out


def check_order(sim: Simulation) -> list[str]:
    """G5: each device's mutations took effect in the order they were made."""
    out = []
    for d in sim.devices:
        position = {m.mutation_id: i for i, m in enumerate(d.store.made)}
        applied = [position[mid] for dev, mid in sim.store.applied_order if dev == d.principal.device_id]
        if applied != sorted(applied):
            out.append(f"G5: {d.principal.device_id}'s changes took effect out of order: {applied}")
    return out


def check_convergence(sim: Simulation) -> list[str]:
    """G3/G7/G8: after quiescence each tablet holds exactly the server's rows of its scope."""
    out = []
    for d in sim.devices:
        scope = compute_scope(sim.store, d.principal)
        expected = {}
        for name, spec in REGISTRY.items():
            for row in sim.store.rows[name].values():
                if not row.deleted and scope.admits(spec.scope, key_of(spec.scope, row.id, row.data)):
                    expected[(name, row.id)] = visible_row(spec, row)
        held = {k: r for k, r in d.store.rows.items() if not r.deleted}
        for key in expected.keys() - held.keys():
            out.append(f"G3: {d.principal.device_id} is missing {key[0]} {key[1][:8]}")
        for key in held.keys() - expected.keys():
            out.append(f"G7: {d.principal.device_id} still holds {key[0]} {key[1][:8]} outside its scope")
        for key in expected.keys() & held.keys():
            if expected[key] != held[key]:
                out.append(f"G3: {d.principal.device_id}'s {key[0]} {key[1][:8]} differs: "
                           f"v{held[key].version} vs server v{expected[key].version}")
        if d.store.deferred:
            out.append(f"G8: {d.principal.device_id} kept revoked rows with nothing pending: {len(d.store.deferred)}")
    return out


def _history(sim: Simulation, collection: str, field: str) -> dict[str, list[tuple[Any, str]]]:
    values: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for _version, coll, row_id, data, who in sorted(sim.store.history, key=lambda h: h[0]):
        if coll == collection and field in data and (not values[row_id] or values[row_id][-1][0] != data[field]):
            values[row_id].append((data[field], who))
    return values


def _conflict_values(sim: Simulation, collection: str, field: str) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = defaultdict(set)
    for c in sim.store.conflicts.values():
        if c.collection == collection and c.field == field:
            seen[c.row_id].update({repr(c.server_value), repr(c.device_value)})
    return seen


def check_values_kept(sim: Simulation) -> list[str]:
    """G6: every value anyone wrote is the current one, was overwritten by someone who had seen it,
    or is kept in a conflict record. Note tokens appear at most once (G2)."""
    out = []
    answered = [(d, m, r) for d, m, r in _answered(sim) if r is not None and r.status is not ResultStatus.REJECTED]
    # Route order (a plan field): unique values from the office (1000+) and the devices (2000+).
    history = _history(sim, "job", "route_order")
    recorded = _conflict_values(sim, "job", "route_order")
    seen_by_writer: dict[str, set[Any]] = defaultdict(set)
    for _d, m, _r in answered:
        if m.collection == "job" and "route_order" in m.fields:
            seen_by_writer[m.row_id].add(m.base.get("route_order"))
    for job_id, values in history.items():
        for i, (value, _who) in enumerate(values[:-1]):
            knowingly = value in seen_by_writer[job_id] or values[i + 1][1] == "office"
            if not knowingly and repr(value) not in recorded[job_id]:
                out.append(f"G6: route_order {value} of job {job_id[:8]} was overwritten unseen and not recorded")
    for d, m, _r in answered:
        if m.collection == "job" and "route_order" in m.fields and m.mutation_id not in d.rogue:
            value = m.fields["route_order"]
            overwritten_knowingly = value in seen_by_writer[m.row_id]  # e.g. by the next change in its batch
            if (value not in [v for v, _ in history[m.row_id]] and repr(value) not in recorded[m.row_id]
                    and not overwritten_knowingly):
                out.append(f"G6: {d.principal.device_id}'s route_order {value} for {m.row_id[:8]} vanished")
    # Access notes (free text from both sides): every token survives in the text or a conflict record.
    records = defaultdict(str)
    for c in sim.store.conflicts.values():
        if c.field == "access_notes":
            records[c.row_id] += f" {c.server_value} {c.device_value}"
    written = [(p, t) for p, t in sim.office_tokens]
    for _d, m, _r in answered:
        if m.collection == "premises":
            written.append((m.row_id, m.fields["access_notes"].split()[-1]))
    for premises, token in written:
        text = sim.store.row("premises", premises).data["access_notes"].split()  # type: ignore[union-attr]
        if token not in text and token not in records[premises].split():
            out.append(f"G6: note token {token} on premises {premises[:8]} was lost")
        if text.count(token) > 1:
            out.append(f"G2: note token {token} on premises {premises[:8]} appears {text.count(token)} times")
    # Facts: a captured time is on the job, or in a conflict record if another was captured first.
    for _d, m, _r in answered:
        for name in ("en_route_at", "arrived_at", "work_started_at", "completed_at"):
            if m.collection == "job" and name in m.fields:
                now = sim.store.row("job", m.row_id).data.get(name)  # type: ignore[union-attr]
                kept = any(c.row_id == m.row_id and c.field == name and c.device_value == m.fields[name]
                           for c in sim.store.conflicts.values())
                if now != m.fields[name] and not kept:
                    out.append(f"G6: {name} {m.fields[name]} of job {m.row_id[:8]} was lost")
    return out


def check_status_legal(sim: Simulation) -> list[str]:
    """A merge never yields an illegal transition; work done on site beats a cancellation, recorded."""
    out = []
    overrides = {(c.row_id, c.server_value) for c in sim.store.conflicts.values() if c.rule == R.WORK_DONE_BEATS_OFFICE}
    for job_id, values in _history(sim, "job", "status").items():
        for (old, _), (new, who) in zip(values, values[1:], strict=False):
            if path_exists(old, new):
                continue
            if who == "device" and new in WORK_DONE and (job_id, old) in overrides:
                continue
            out.append(f"status: job {job_id[:8]} went {old} -> {new} ({who})")
    return out
