"""Fuzz the API from its own OpenAPI document (schemathesis): no 5xx, responses as documented.

A short pass per role here (3 examples per operation and mode); a long one by
``.venv/bin/python bench/fuzz.py --examples N``.
"""

from __future__ import annotations

import pytest

from tests.fixtures.hardening import format_findings, fuzz_api


@pytest.mark.parametrize("role", ["dispatcher", "technician"])
def test_generated_requests_get_no_5xx_and_documented_responses(app, two_tenants, role):
    # Bounded by count, not by clock (3 examples per operation and mode: ~20 s on an idle 2-core machine).
    tenant, _ = two_tenants
    report = fuzz_api(app, tenant.headers[role], role, tenant.ids, examples=3)
    assert report.operations >= 100 and report.requests >= report.operations
    assert not report.findings, f"{len(report.findings)} finding(s):\n{format_findings(report)}"


def test_masked_id_number_matches_the_documented_response_schema(client, two_tenants):
    # Found by the fuzzer: the input pattern was documented for the (masked) output too.
    import jsonschema_rs

    tenant, _ = two_tenants
    resp = client.patch(f"/api/v1/customers/{tenant.ids['customer_id']}", json={"id_number": "310101199001011234"},
                        headers=tenant.headers["dispatcher"])
    assert resp.status_code == 200
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = doc["components"]["schemas"]["CustomerDetail"]["properties"]["id_number"]
    assert "*" in resp.get_json()["id_number"]  # masked for a dispatcher, as R19 wants
    jsonschema_rs.validate(documented, resp.get_json()["id_number"])


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/planning/optimise", {}),
    ("POST", "/api/v1/planning/commit", {"routes": [{"technician_id": "00000000-0000-4000-8000-000000000000",
                                                      "job_ids": []}]}),
    ("GET", "/api/v1/planning/etas", None),
])
def test_a_day_at_the_edge_of_the_calendar_is_422_not_500(client, dispatcher, method, path, body, day):
    # Found by the fuzzer: {"day": "0001-01-01"} made local midnight overflow into year 0 (a 500).
    _, _, headers = dispatcher
    if body is None:
        resp = client.get(f"{path}?day={day}", headers=headers)
    else:
        resp = client.open(path, method=method, json=body | {"day": day}, headers=headers)
    assert resp.status_code == 422, resp.get_json()
    assert "day" in str(resp.get_json()["errors"])
