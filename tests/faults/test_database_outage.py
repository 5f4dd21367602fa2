"""A database outage answers 503 problem+json with Retry-After, never 500, and the service
comes back by itself when the database does (issue 9). Runs its own PostgreSQL, so stopping
it disturbs no other test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from linli.stack import EmbeddedStack, Ports
from tests.conftest import PROBLEM, TokenFactory, bearer
from tests.faults.conftest import ServiceProcess, until


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedStack]:
    servers = EmbeddedStack(tmp_path / "pg", Ports.free(), run_nats=False, run_temporal=False,
                            temporal_ui=False)
    servers.start()
    yield servers
    servers.stop()


async def answer(session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str],
                 json: object = None) -> tuple[int, dict[str, object], dict[str, str]]:
    async with session.request(method, url, json=json, headers=headers) as r:
        return r.status, await r.json(content_type=None), dict(r.headers)


async def test_a_stopped_database_answers_503_then_the_service_recovers(
    spawn: Callable[..., ServiceProcess], own_postgres: EmbeddedStack, token: TokenFactory,
) -> None:
    directory = spawn("directory", database_url=own_postgres.database_url)
    staff = bearer(token(roles=["street_office"], compounds=["*"]))
    keyed = {**staff, "Idempotency-Key": str(uuid.uuid4())}
    body = {"name": "停库小区", "community": "c", "street": "s"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        own_postgres.stop()
        for method, path, headers, json in [("GET", "/v1/compounds", staff, None),
                                            ("POST", "/v1/compounds", keyed, body)]:
            status, problem, headers_seen = await answer(session, method, directory.url + path,
                                                         headers, json)
            assert status == 503, problem
            assert headers_seen["Content-Type"].startswith(PROBLEM)
            assert problem["type"] == "urn:linli:problem:service-unavailable"
            assert "数据库" in str(problem["detail"])
            assert int(headers_seen["Retry-After"]) > 0
        status, ready, _ = await answer(session, "GET", directory.url + "/readyz", {})
        assert status == 503 and ready["checks"]["database"] != "ok"  # type: ignore[index]

        own_postgres.start_postgres()

        async def listed() -> bool:
            status, _, _ = await answer(session, "GET", directory.url + "/v1/compounds", staff)
            return status == 200
        await until("compounds listed again after the restart", listed)
        status, created, _ = await answer(session, "POST", directory.url + "/v1/compounds",
                                          keyed, body)
        assert status == 201, created
        status, again, replayed = await answer(session, "POST", directory.url + "/v1/compounds",
                                               keyed, body)
        assert status == 201 and again == created and replayed["Idempotent-Replayed"] == "true"
        status, page, _ = await answer(session, "GET", directory.url + "/v1/compounds", staff)
        assert [c["name"] for c in page["items"]] == ["停库小区"]  # type: ignore[index]
