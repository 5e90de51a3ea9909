"""Authorization matrix: every operation of the OpenAPI document x every role x own/other company.

The operations come from ``/api/v1/openapi.json``, so a new endpoint is covered as soon as it exists;
what each role may do comes from EXPECTATIONS below (per path prefix, longest match wins). An
operation no rule matches fails ``test_every_operation_has_an_expectation`` with a message saying
where to add it. Each request carries a minimal schema-valid body and query (found by schemathesis
from the same document) so it reaches the role check instead of stopping at validation.
"""

from __future__ import annotations

import functools
import re

import pytest

A, D, S = "allow", "deny", "scoped"  # S: a technician reaches their own rows only
OFFICE = {"admin": A, "dispatcher": A, "customer_service": A, "technician": D}
DISPATCH = {"admin": A, "dispatcher": A, "customer_service": D, "technician": D}
ADMIN = {"admin": A, "dispatcher": D, "customer_service": D, "technician": D}
EVERYONE = {"admin": A, "dispatcher": A, "customer_service": A, "technician": A}
TABLET = {"admin": D, "dispatcher": D, "customer_service": D, "technician": A}  # admin: 403 not_a_technician
PUBLIC = {("POST", "/api/v1/auth/login"), ("GET", "/api/v1/health")}

# (method or "*", path prefix, expectations). Add a row when a new endpoint fails the coverage test.
EXPECTATIONS: list[tuple[str, str, dict[str, str]]] = [
    ("*", "/api/v1/health", EVERYONE),
    ("*", "/api/v1/auth/login", EVERYONE),
    ("*", "/api/v1/auth/me", EVERYONE),
    ("*", "/api/v1/auth/logout", EVERYONE),
    ("*", "/api/v1/auth/revoke-device", DISPATCH),
    ("GET", "/api/v1/service-centres", EVERYONE),
    ("*", "/api/v1/service-centres", ADMIN),
    ("GET", "/api/v1/company/settings", EVERYONE),
    ("*", "/api/v1/company/settings", ADMIN),
    ("GET", "/api/v1/technicians", OFFICE),
    ("GET", "/api/v1/technicians/me", {"admin": A, "dispatcher": D, "customer_service": D, "technician": A}),
    ("GET", "/api/v1/technicians/{tech_id}", OFFICE | {"technician": S}),
    ("*", "/api/v1/technicians", DISPATCH),
    ("*", "/api/v1/certifications", DISPATCH),
    ("GET", "/api/v1/customers", OFFICE),
    ("GET", "/api/v1/customers/{customer_id}", OFFICE | {"technician": S}),
    ("GET", "/api/v1/customers/{customer_id}/", OFFICE),
    ("GET", "/api/v1/meters", OFFICE),
    ("*", "/api/v1/customers", DISPATCH),
    ("*", "/api/v1/premises", DISPATCH),
    ("*", "/api/v1/meters", DISPATCH),
    ("*", "/api/v1/appliances", DISPATCH),
    ("*", "/api/v1/contacts", DISPATCH),
    ("*", "/api/v1/jobs", OFFICE),
    ("PATCH", "/api/v1/jobs/{job_id}", DISPATCH),
    ("*", "/api/v1/jobs/{job_id}/status", DISPATCH),
    ("*", "/api/v1/jobs/{job_id}/assign", DISPATCH),
    ("*", "/api/v1/jobs/{job_id}/unassign", DISPATCH),
    ("*", "/api/v1/jobs/route", DISPATCH),
    ("*", "/api/v1/calls", OFFICE),
    ("*", "/api/v1/complaints", OFFICE),
    ("*", "/api/v1/calendar", OFFICE),
    ("PUT", "/api/v1/calendar/{year}", ADMIN),
    ("GET", "/api/v1/checklists/templates", EVERYONE),
    ("*", "/api/v1/checklists/templates", ADMIN),
    ("*", "/api/v1/checklists/for-job", OFFICE),
    ("*", "/api/v1/hazards", OFFICE),
    ("POST", "/api/v1/hazards/{hazard_id}/", DISPATCH),
    ("*", "/api/v1/daily-close", DISPATCH),
    ("*", "/api/v1/notifications", OFFICE),
    ("GET", "/api/v1/outages", OFFICE | {"technician": A}),
    ("*", "/api/v1/outages", DISPATCH),
    ("*", "/api/v1/follow-ups", OFFICE),
    ("POST", "/api/v1/follow-ups/{task_id}/outcome", {**OFFICE, "dispatcher": D}),
    ("*", "/api/v1/sync", TABLET),
    # Any signed-in user of the company; the hash itself is the capability (it reaches a tablet only in scope).
    ("*", "/api/v1/blobs", EVERYONE),
    ("*", "/api/v1/conflicts", DISPATCH),
    ("*", "/api/v1/audit", OFFICE),
    ("*", "/api/v1/planning", DISPATCH),
    ("GET", "/api/v1/planning/coverage", OFFICE),
    ("*", "/api/v1/kpis", OFFICE),
    ("*", "/api/v1/kpis.csv", OFFICE),
]
ROLES = ("admin", "dispatcher", "customer_service", "technician")
LAST = {("POST", "/api/v1/auth/logout")}  # ends the token: run after everything else
# Addressed by content, not by a row: another company's hash is just an upload of other bytes.
NOT_A_ROW = {("PUT", "/api/v1/blobs/{sha256}")}
# Bodies for operations whose documented schema is looser than their validation (the generated sample
# would stop at 422 before the role check): a valid body, so the matrix tests authorization.
SAMPLE_BODIES = {
    ("POST", "/api/v1/follow-ups/{task_id}/outcome"): {"status": "unreachable"},  # doc: any status; code: 2
    ("PATCH", "/api/v1/jobs/{job_id}"): {"priority": 2},  # an empty change is refused
    ("POST", "/api/v1/sync/push"): {  # doc: device_time any string; code: a date-time
        "protocol_version": 1, "device_id": "a-tablet", "device_time": "2026-01-05T08:00:00+08:00", "mutations": [],
    },
}


def expectation(method: str, path: str) -> dict[str, str] | None:
    """The rule for an operation: the longest matching prefix, a method-specific rule before ``*``."""
    best, best_key = None, (-1, -1)
    for rule_method, prefix, expect in EXPECTATIONS:
        if rule_method not in ("*", method):
            continue
        if not (path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/")):
            continue
        key = (len(prefix), rule_method != "*")
        if key > best_key:
            best, best_key = expect, key
    return best


@functools.cache
def _operations(app) -> list[tuple[str, str, object]]:
    """(method, path template, schemathesis operation) for every operation of the document."""
    import schemathesis

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    ops = [(op.method.upper(), op.path, op) for op in (r.ok() for r in schema.get_all_operations())]
    return sorted(ops, key=lambda o: (o[:2] in LAST, o[1], o[0]))


@functools.cache
def _minimal_input(app, method: str, path: str) -> tuple[object, dict, dict]:
    """A schema-valid (body, query, path parameters) of an operation: hypothesis' first, derandomized
    example (no shrinking: that costs minutes), kept for the session."""
    import hypothesis
    import schemathesis

    from sync import PROTOCOL_VERSION

    op = next(o for m, p, o in _operations(app) if (m, p) == (method, path))
    found = []

    @hypothesis.settings(database=None, max_examples=1, derandomize=True, phases=[hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck), deadline=None)
    @hypothesis.given(case=op.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE))
    def first(case) -> None:
        found.append(case)

    first()
    case = found[0]
    body = case.body if type(case.body).__name__ != "NotSet" else None
    body = SAMPLE_BODIES.get((method, path), body)
    if isinstance(body, dict) and "protocol_version" in body:
        body["protocol_version"] = PROTOCOL_VERSION  # the tablet's real version, so sync reaches the token check
    return body, dict(case.query or {}), dict(case.path_parameters or {})


def _call(client, app, method: str, path: str, ids: dict[str, str], headers: dict[str, str]):
    """Send the operation's sample request with ``ids`` in the path; (status, body text)."""
    body, query, generated = _minimal_input(app, method, path)
    url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), generated.get(m.group(1)))), path)
    kwargs = {"json": body} if body is not None else {}
    resp = client.open(url, method=method, query_string=query, headers=headers, buffered=False, **kwargs)
    status, text = resp.status_code, ""
    if "text/event-stream" not in resp.headers.get("Content-Type", ""):
        text = resp.get_data().decode("utf-8", errors="replace")
    resp.close()
    return status, text


def _known_path(path: str, ids: dict[str, str]) -> bool:
    """Whether every id in the path names a real row (else a 404 says nothing about authorization)."""
    return all(name in ids for name in re.findall(r"\{(\w+)\}", path))


def test_every_operation_has_an_expectation(app):
    missing = [f"{m} {p}" for m, p, _ in _operations(app) if expectation(m, p) is None]
    assert not missing, (
        "these endpoints are not in the authorization matrix; add a row per path prefix and role to "
        f"EXPECTATIONS in tests/server/test_authz_matrix.py: {missing}"
    )


def test_anonymous_gets_401_everywhere_but_login_and_health(app, client, two_tenants):
    tenant, _ = two_tenants
    wrong = []
    for method, path, _ in _operations(app):
        status, _text = _call(client, app, method, path, tenant.ids, {})
        if (method, path) not in PUBLIC and status != 401:
            wrong.append(f"{method} {path}: {status}")
    assert not wrong, "anonymous requests not refused with 401:\n" + "\n".join(wrong)
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_authentication_comes_before_validation(client, two_tenants):
    # Found by this matrix: with @requires below @blp.arguments, an anonymous bad body got 422 naming
    # the fields, and a technician's bad body 422 instead of 403. @requires now sits under @blp.route.
    tenant, _ = two_tenants
    assert client.post("/api/v1/customers", json={"colour": "red"}).status_code == 401
    resp = client.post("/api/v1/customers", json={"colour": "red"}, headers=tenant.headers["technician"])
    assert resp.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_the_table_allows(app, client, two_tenants, role):
    tenant, other = two_tenants
    foreign = {v for k, v in other.ids.items() if k not in ("year",)} | {"b客户"}
    wrong = []
    for method, path, _ in _operations(app):
        if (method, path) in PUBLIC:
            continue  # no role applies: the sample login's made-up credentials are a 401 for everyone
        expect = (expectation(method, path) or {}).get(role)
        status, text = _call(client, app, method, path, tenant.ids, tenant.headers[role])
        label = f"{method} {path} as {role}: {status}"
        if status >= 500:
            wrong.append(f"{label} (server error)")
        elif expect == D and status != 403:
            wrong.append(f"{label}, expected 403")
        elif expect in (A, S) and status in (401, 403):
            wrong.append(f"{label}, expected to be let in")
        elif expect in (A, S) and method == "GET" and "{" in path and _known_path(path, tenant.ids) and status == 404:
            wrong.append(f"{label}, own company's row not found")
        if 200 <= status < 300 and any(value in text for value in foreign):
            wrong.append(f"{label} shows the other company's data")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_another_companys_ids_are_404(app, client, two_tenants, role):
    tenant, other = two_tenants
    ids = tenant.ids | {k: v for k, v in other.ids.items() if k != "year"}
    wrong = []
    for method, path, _ in _operations(app):
        if "{" not in path or path.endswith("{year}") or (method, path) in LAST | NOT_A_ROW:
            continue
        expect = (expectation(method, path) or {}).get(role)
        status, _text = _call(client, app, method, path, ids, tenant.headers[role])
        if expect in (A, S) and status != 404 or expect == D and status not in (403, 404):
            wrong.append(f"{method} {path} as {role} with company B's id: {status}")
    assert not wrong, "\n".join(wrong)


def test_technician_reaches_no_other_technicians_rows(app, client, two_tenants):
    tenant, _ = two_tenants
    ids = tenant.ids | tenant.peer_ids
    wrong = []
    for method, path, _ in _operations(app):
        if not any(f"{{{name}}}" in path for name in tenant.peer_ids) or (method, path) in LAST:
            continue
        status, _text = _call(client, app, method, path, ids, tenant.headers["technician"])
        if status not in (403, 404):
            wrong.append(f"{method} {path} with another technician's row: {status}")
    assert not wrong, "\n".join(wrong)


def test_a_revoked_tablet_is_refused_everywhere_it_was_let_in(app, client, two_tenants):
    tenant, _ = two_tenants
    resp = client.post("/api/v1/auth/revoke-device", json={"device_id": "a-tablet"}, headers=tenant.headers["dispatcher"])
    assert resp.get_json()["revoked"] == 1 and resp.get_json()["wipe"] is True
    wrong = []
    for method, path, _ in _operations(app):
        if (expectation(method, path) or {}).get("technician") not in (A, S) or (method, path) in PUBLIC:
            continue
        status, text = _call(client, app, method, path, tenant.ids, tenant.headers["technician"])
        if status != 401 or method != "HEAD" and "device_revoked" not in text:
            wrong.append(f"{method} {path}: {status}")
    assert not wrong, "a revoked tablet's token still opened:\n" + "\n".join(wrong)
