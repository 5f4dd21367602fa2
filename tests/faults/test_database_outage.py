"""A database outage answers 503 problem+json with Retry-After, never 500, and the service
comes back by itself when the database does (issue 9). Runs its own PostgreSQL, so stopping
it disturbs no other test."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from linli.stack import EmbeddedStack, Ports
from tests.conftest import PROBLEM, TokenFactory, bearer
from tests.faults.conftest import ServiceProcess, until


@pytest.fixture
def own_postgres(scratch: Path) -> Iterator[EmbeddedStack]:
    servers = EmbeddedStack(scratch / "pg", Ports.free(), run_nats=False, run_temporal=False,
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


async def keyed_writer(session: aiohttp.ClientSession, url: str, staff: dict[str, str],
                       names: list[str], seen: list[int]) -> None:
    """Create each compound with its own key, retrying the same key until it is answered 201."""
    for name in names:
        headers = {**staff, "Idempotency-Key": f"load-{name}"}
        while True:
            try:
                async with session.post(url, json={"name": name, "community": "c", "street": "s"},
                                        headers=headers) as r:
                    seen.append(r.status)
                    if r.status == 201:
                        break
                    assert r.status == 503, await r.text()
                    await asyncio.sleep(float(r.headers["Retry-After"]) / 10)
            except aiohttp.ClientError:
                await asyncio.sleep(0.2)


async def test_a_crashed_and_restarted_database_under_load_creates_each_keyed_write_once(
    spawn: Callable[..., ServiceProcess], own_postgres: EmbeddedStack, token: TokenFactory,
) -> None:
    directory = spawn("directory", database_url=own_postgres.database_url)
    staff = bearer(token(roles=["street_office"], compounds=["*"]))
    batches = [[f"重启{w}-{i}" for i in range(25)] for w in range(6)]
    seen: list[int] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        load = asyncio.gather(*(keyed_writer(session, directory.url + "/v1/compounds", staff,
                                             batch, seen) for batch in batches))

        async def some_written() -> bool:
            return seen.count(201) >= 40
        await until("a first part of the load written", some_written)
        (_, postmaster), = own_postgres.processes
        os.killpg(postmaster.pid, signal.SIGKILL)  # a crash: it restarts in recovery mode
        postmaster.wait(10)

        async def refused() -> bool:
            return 503 in seen
        await until("the load answered 503 while the database is down", refused)
        own_postgres.processes.clear()
        own_postgres.start_postgres()
        await asyncio.wait_for(load, timeout=180)
    assert set(seen) <= {201, 503}  # never a 500
    conn = await asyncpg.connect(own_postgres.database_url)
    try:
        rows = await conn.fetch("SELECT name, count(*) AS n FROM directory.compounds GROUP BY name")
    finally:
        await conn.close()
    assert {r["name"]: r["n"] for r in rows} == {n: 1 for batch in batches for n in batch}
