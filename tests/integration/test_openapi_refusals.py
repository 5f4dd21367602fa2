"""Every OpenAPI document states the refusals each operation can give (issue 9): 503 with
Retry-After everywhere (an outage of the database, the bus, Temporal or another service),
401/403 where a token is needed, 404 where the path names something, 400/413/415/422 where a
body is read, 409 where something changes; each in the error format the route really uses."""

from __future__ import annotations

from typing import Any

import pytest

from linli.config import Settings
from tests.conftest import AppFactory
from tests.integration.test_fuzz import SERVICES

METHODS = ("get", "post", "put", "patch", "delete")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items()
            for method, op in item.items() if method in METHODS]


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_every_operation_documents_its_refusals(
    service: str, serve: AppFactory, settings: Settings,
) -> None:
    client = await serve(SERVICES[service])
    document = await (await client.get("/openapi.json")).json()
    checked = 0
    for method, path, op in operations(document):
        if "system" in op["tags"]:
            continue
        responses = op["responses"]
        unavailable = responses["503"]
        assert "Retry-After" in unavailable["headers"], (method, path)
        assert unavailable["content"], (method, path)  # problem+json, or Open311's array
        if op.get("security"):
            assert {"401", "403"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= set(responses), (method, path)
        if method != "get":
            assert {"409", "422"} <= set(responses), (method, path)
        for code, answer in responses.items():
            if code[0] in "45":
                assert answer["description"] and answer["content"], (method, path, code)
        checked += 1
    assert checked > 3
