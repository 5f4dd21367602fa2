"""The shared HTTP shape: health, metrics, OpenAPI, and failures that leak nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec
import pytest
from aiohttp import web

from linli.app import service_app
from linli.auth import PUBLIC, allow
from linli.config import Settings
from linli.http import Call, Route
from tests.conftest import AppFactory, TokenFactory, bearer


class EchoIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str


async def explode(call: Call) -> dict[str, str]:
    raise RuntimeError("database password is hunter2")


async def echo(call: Call) -> EchoIn:
    return call.body


def kernel_app(settings: Settings) -> web.Application:
    routes = [
        Route("GET", "/v1/explode", explode, "总是失败", access=PUBLIC),
        Route("POST", "/v1/echo/{compound_id}", echo, "回显", body=EchoIn, response=EchoIn,
              access=allow("community")),
    ]
    return service_app(name="kernel_http", settings=settings, routes=routes,
                       migrations=None)


async def test_unexpected_failure_is_a_500_problem_without_internals(serve: AppFactory) -> None:
    client = await serve(kernel_app)
    r = await client.get("/v1/explode")
    assert r.status == 500 and r.content_type == "application/problem+json"
    text = await r.text()
    assert "hunter2" not in text and "Traceback" not in text
    body = await r.json()
    assert body["type"] == "urn:linli:problem:internal-error"
    assert body["request_id"] == r.headers["X-Request-Id"]


async def test_health_metrics_and_openapi(serve: AppFactory, token: TokenFactory) -> None:
    client = await serve(kernel_app)
    assert (await client.get("/livez")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"database": "ok", "nats": "ok", "loops": "ok"}
    headers = bearer(token(roles=["community"], compounds=["c1"]))
    for _ in range(3):
        assert (await client.post("/v1/echo/c1", json={"text": "你好"}, headers=headers)).status == 200
    text = await (await client.get("/metrics")).text()
    line = ('linli_http_requests_total{method="POST",route="/v1/echo/{compound_id}",'
            'service="kernel_http",status="200"}')
    assert any(row.startswith(line) and float(row.split()[-1]) >= 3 for row in text.splitlines())
    assert "/v1/echo/c1" not in text  # raw paths never become labels
    spec = await (await client.get("/openapi.json")).json()
    assert spec["openapi"] == "3.1.0"
    op = spec["paths"]["/v1/echo/{compound_id}"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EchoIn"}
    assert spec["components"]["schemas"]["EchoIn"]["required"] == ["text"]
    assert "roles: community" in op["x-linli-access"]


async def test_access_lines_name_refusals_and_failures_at_info(
        serve: AppFactory, token: TokenFactory, caplog: pytest.LogCaptureFixture) -> None:
    """At INFO a refused or failed request is one access line (with its request id); a
    successful one is at DEBUG, counted in the metrics instead."""
    client = await serve(kernel_app)
    headers = bearer(token(roles=["community"], compounds=["c1"]))
    with caplog.at_level(logging.INFO, logger="linli.http"):
        assert (await client.post("/v1/echo/c1", json={"text": "好"}, headers=headers)).status == 200
        refused = await client.post("/v1/echo/c1", json={"text": 1}, headers=headers)
        failed = await client.get("/v1/explode")
    lines = [r for r in caplog.records if r.getMessage() == "request"]
    assert [(r.levelno, r.status, r.request_id) for r in lines] == [  # type: ignore[attr-defined]
        (logging.INFO, 422, refused.headers["X-Request-Id"]),
        (logging.INFO, 500, failed.headers["X-Request-Id"])]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="linli.http"):
        ok = await client.post("/v1/echo/c1", json={"text": "好"}, headers=headers)
    assert [(r.levelno, r.status, r.request_id) for r in caplog.records  # type: ignore[attr-defined]
            if r.getMessage() == "request"] == [(logging.DEBUG, 200, ok.headers["X-Request-Id"])]


async def test_readyz_reports_a_missing_database(serve: AppFactory, settings: Settings) -> None:
    client = await serve(kernel_app)
    from linli.http import POOL

    await client.app[POOL].close()
    r = await client.get("/readyz")
    assert r.status == 503
    assert (await r.json())["checks"]["database"].startswith("unavailable")


def test_every_service_has_the_same_shape() -> None:
    """A service is one app, one route table, its events and consumers, its migrations; its
    use cases sit either beside them or in sub-domain packages that have the same files."""
    root = Path(__file__).resolve().parents[2] / "services"
    service_files = {"app.py", "routes.py", "events.py", "consumers.py"}
    domain_files = {"handlers.py", "service.py", "store.py", "models.py"}
    for service in sorted(p for p in root.iterdir() if (p / "app.py").exists()):
        missing = service_files - {f.name for f in service.iterdir()}
        assert not missing, f"{service.name} lacks {sorted(missing)}"
        assert sorted((service / "migrations").glob("*.sql")), f"{service.name} has no migrations"
        domains = [service] if (service / "handlers.py").exists() else sorted(
            p for p in service.iterdir() if (p / "__init__.py").exists())
        assert domains, f"{service.name} has neither handlers.py nor sub-domain packages"
        for domain in domains:
            missing = domain_files - {f.name for f in domain.iterdir()}
            assert not missing, f"{domain.relative_to(root)} lacks {sorted(missing)}"
            handlers = (domain / "handlers.py").read_text()
            assert "SELECT " not in handlers and "INSERT " not in handlers, \
                f"SQL in {domain.relative_to(root)} handlers"
