"""Idempotency keys never stick: a request killed or cut off mid-transaction leaves nothing,
so its retry runs; a committed one leaves its answer, so its retry gets it (issue 9)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import aiohttp
import asyncpg
import pytest

from linli.config import Settings
from tests.conftest import PROBLEM, TokenFactory, bearer
from tests.faults.conftest import ServiceProcess, blocked_backend

APPLICATION = "linli-directory"


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(settings.database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as client:
        yield client


def creator(token: TokenFactory) -> dict[str, str]:
    return bearer(token(roles=["street_office"], compounds=["*"]))


async def create(session: aiohttp.ClientSession, service: ServiceProcess, headers: dict[str, str],
                 name: str) -> tuple[int, dict[str, object], dict[str, str]]:
    body = {"name": name, "community": "幂等社区", "street": "幂等街道"}
    async with session.post(service.url + "/v1/compounds", json=body, headers=headers) as r:
        return r.status, await r.json(content_type=None), dict(r.headers)


async def count(db: asyncpg.Connection, name: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM directory.compounds WHERE name = $1", name))


async def lock_compounds(db: asyncpg.Connection) -> asyncpg.transaction.Transaction:
    """Hold inserts into compounds back, so a request stops mid-transaction where we want."""
    tx = db.transaction()
    await tx.start()
    await db.execute("LOCK TABLE directory.compounds IN SHARE MODE")
    return tx


async def test_a_killed_process_leaves_no_key_behind_and_the_retry_creates_once(
    spawn: Callable[..., ServiceProcess], db: asyncpg.Connection,
    session: aiohttp.ClientSession, token: TokenFactory,
) -> None:
    directory = spawn("directory")
    headers = {**creator(token), "Idempotency-Key": str(uuid.uuid4())}
    name = f"崩溃小区-{uuid.uuid4().hex[:6]}"
    held = await lock_compounds(db)
    first = asyncio.create_task(create(session, directory, headers, name))
    await blocked_backend(db, APPLICATION)
    directory.kill()  # mid-request: its key and its compound are in one open transaction
    with pytest.raises(aiohttp.ClientError):
        await first
    await held.rollback()
    directory.start()
    status, created, _ = await create(session, directory, headers, name)
    assert status == 201, created
    status, again, replayed = await create(session, directory, headers, name)
    assert status == 201 and again == created and replayed["Idempotent-Replayed"] == "true"
    assert await count(db, name) == 1


async def test_a_cut_connection_answers_503_and_the_retry_creates_once(
    spawn: Callable[..., ServiceProcess], db: asyncpg.Connection,
    session: aiohttp.ClientSession, token: TokenFactory,
) -> None:
    directory = spawn("directory")
    headers = {**creator(token), "Idempotency-Key": str(uuid.uuid4())}
    name = f"断线小区-{uuid.uuid4().hex[:6]}"
    held = await lock_compounds(db)
    first = asyncio.create_task(create(session, directory, headers, name))
    backend = await blocked_backend(db, APPLICATION)
    await db.execute("SELECT pg_terminate_backend($1)", backend)
    status, problem, answer_headers = await first
    await held.rollback()
    assert status == 503, problem
    assert answer_headers["Content-Type"].startswith(PROBLEM)
    assert problem["type"] == "urn:linli:problem:service-unavailable"
    assert int(answer_headers["Retry-After"]) > 0
    assert await count(db, name) == 0  # all or nothing
    status, created, _ = await create(session, directory, headers, name)
    assert status == 201, created
    assert await count(db, name) == 1


async def test_a_retry_while_the_first_runs_waits_then_gets_409_and_later_the_answer(
    spawn: Callable[..., ServiceProcess], db: asyncpg.Connection,
    session: aiohttp.ClientSession, token: TokenFactory,
) -> None:
    directory = spawn("directory")
    headers = {**creator(token), "Idempotency-Key": str(uuid.uuid4())}
    name = f"并发小区-{uuid.uuid4().hex[:6]}"
    held = await lock_compounds(db)
    first = asyncio.create_task(create(session, directory, headers, name))
    await blocked_backend(db, APPLICATION)
    status, problem, _ = await create(session, directory, headers, name)
    assert status == 409 and problem["type"] == "urn:linli:problem:idempotency-in-progress"
    await held.rollback()
    status, created, _ = await first
    assert status == 201, created
    status, again, replayed = await create(session, directory, headers, name)
    assert status == 201 and again == created and replayed["Idempotent-Replayed"] == "true"
    assert await count(db, name) == 1
