"""The issues OpenAPI document comes from the route table and documents the typed flow."""

from __future__ import annotations

from linli import openapi
from services.issues.routes import ROUTES


def test_openapi_documents_transitions_and_open311() -> None:
    doc = openapi.build("Linli issues API", "1.0.0", ROUTES)
    status = doc["paths"]["/v1/compounds/{compound_id}/issues/{issue_id}/status"]["post"]
    assert "requestBody" in status and "issues:manage" in status["x-linli-access"]
    schemas = doc["components"]["schemas"]
    assert {"ToAccepted", "ToRejected", "ToDuplicate"} <= set(schemas)
    assert "reason" in schemas["ToRejected"]["required"]
    post = doc["paths"]["/open311/v2/requests.json"]["post"]
    assert "api_key" in post["summary"] and "security" not in post
    names = {p["name"] for p in doc["paths"]["/open311/v2/requests.json"]["get"]["parameters"]}
    assert {"jurisdiction_id", "service_request_id", "status", "page", "page_size"} <= names
