"""Health, the OpenAPI document and the one error shape for bad input."""


def test_health_reports_the_database(client):
    resp = client.get("/api/v1/health")
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "ok"


def test_openapi_is_generated_from_schemas(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["info"]["title"] == "fieldsync"
    assert "/api/v1/auth/login" in doc["paths"]
    assert "Login" in doc["components"]["schemas"]


def test_malformed_json_is_400_with_the_error_shape(client):
    resp = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["reason"] == "malformed_json" and body["code"] == 400


def test_missing_and_unknown_fields_are_named(client):
    resp = client.post("/api/v1/auth/login", json={"username": "a", "colour": "red"})
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]["json"]
    assert "password" in errors and "colour" in errors


def test_oversized_body_is_413(client, app):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    resp = client.post("/api/v1/auth/login", data=big, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["reason"] == "payload_too_large"


def test_unknown_route_is_json_404(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.get_json()["reason"] == "not_found"


def test_nul_characters_are_refused_on_every_database(client, dispatcher):
    # PostgreSQL cannot store NUL in text: without this rule the fuzzer got a 500 there.
    _, _, headers = dispatcher
    resp = client.post("/api/v1/customers", headers=headers,
                       json={"account_no": "A1", "name": "张\u0000伟", "category": "residential"})
    assert resp.status_code == 422 and "NUL" in resp.get_json()["message"]
    resp = client.get("/api/v1/customers?q=a%00b", headers=headers)
    assert resp.status_code == 422 and resp.get_json()["errors"]["query"]


def test_the_text_backslash_u0000_is_not_a_nul(client, dispatcher):
    _, _, headers = dispatcher
    resp = client.post("/api/v1/customers", headers=headers,
                       json={"account_no": "A2", "name": "字面 \\u0000", "category": "residential"})
    assert resp.status_code == 201, resp.get_json()
