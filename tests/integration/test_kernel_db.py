"""The pool sends nothing on release (linli.db.keep_session), yet a connection handed to the next
use case carries nothing of the last one: an unfinished transaction is rolled back, its SET
LOCAL settings and transaction advisory locks end with it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from linli import db
from linli.config import Settings

SCHEMA = "kernel_db_test"


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[db.Pool]:
    pool = await db.create_pool(settings.database_url, schema=SCHEMA, max_size=1)
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        await conn.execute("CREATE TABLE IF NOT EXISTS notes (id uuid PRIMARY KEY)")
    try:
        yield pool
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
        await pool.close()


async def test_a_use_case_cut_off_mid_transaction_leaves_nothing_to_the_next(pool: db.Pool) -> None:
    note, started = uuid.uuid4(), asyncio.Event()

    async def cut_off() -> None:
        async with pool.acquire() as conn:
            tx = conn.transaction()  # not managed by `async with`: as if the task died inside
            await tx.start()
            await conn.execute("INSERT INTO notes (id) VALUES ($1)", note)
            await conn.execute("SET LOCAL lock_timeout = 1234")
            await conn.execute("SELECT pg_advisory_xact_lock(42)")
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(cut_off())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with pool.acquire() as conn:  # max_size=1: the very connection the task had
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM notes WHERE id = $1", note) == 0
        assert await conn.fetchval("SHOW lock_timeout") == "0"
        assert await conn.fetchval("SELECT pg_try_advisory_xact_lock(42)")
        assert await conn.fetchval("SHOW search_path") == f"{SCHEMA},public"



async def test_use_cases_waiting_for_a_connection_get_it_in_the_order_they_asked(pool: db.Pool) -> None:
    """A released connection goes to the longest waiting use case, not to one that asks just
    then (asyncpg alone gives it to the newcomer, so under load a request could wait on and on)."""
    served: list[str] = []

    async def use_case(name: str) -> None:
        async with pool.acquire():
            served.append(name)

    holding = pool.acquire()
    await holding.__aenter__()
    waiting = [asyncio.create_task(use_case(name)) for name in ("first", "second")]
    await asyncio.sleep(0)  # one turn of the loop: both tasks run up to their wait
    await holding.__aexit__(None, None, None)
    await use_case("newcomer")  # asks the moment the connection comes back
    await asyncio.gather(*waiting)
    assert served == ["first", "second", "newcomer"]


async def test_a_pool_that_stays_full_says_so_and_keeps_its_turns(pool: db.Pool) -> None:
    async with pool.acquire():
        with pytest.raises(db.DatabaseUnavailable, match="连接池已满"):
            async with pool.acquire(timeout=0.2):
                pass
        waiter = asyncio.create_task(pool.acquire(timeout=10).__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()  # a request cut off while it waits gives its turn back
        with pytest.raises(asyncio.CancelledError):
            await waiter
    for _ in range(3):  # every turn came back: the single connection is had again and again
        async with pool.acquire(timeout=1) as conn:
            assert await conn.fetchval("SELECT 1") == 1



async def test_a_timeout_inside_a_use_case_keeps_its_healthy_connection(pool: db.Pool) -> None:
    """A deadline inside a use case (asyncio.timeout raises TimeoutError, an OSError) says
    nothing of the connection: it goes back to the pool rolled back, not closed and opened anew
    (the relay waits for its PubAcks under such a deadline, holding its transaction)."""
    async with pool.acquire() as conn:
        before = await conn.fetchval("SELECT pg_backend_pid()")
    note = uuid.uuid4()
    with pytest.raises(TimeoutError):
        async with db.transaction(pool) as conn:
            await conn.execute("INSERT INTO notes (id) VALUES ($1)", note)
            async with asyncio.timeout(0.05):
                await asyncio.Event().wait()  # a wait of the use case that never ends
    async with pool.acquire() as conn:  # max_size=1: the same backend, what it wrote undone
        assert await conn.fetchval("SELECT pg_backend_pid()") == before
        assert await conn.fetchval("SELECT count(*) FROM notes WHERE id = $1", note) == 0


@pytest.mark.parametrize("cut_off", ["own timeout", "statement_timeout"])
async def test_a_query_cut_off_by_a_deadline_keeps_its_connection_usable(
        pool: db.Pool, cut_off: str) -> None:
    """A query that ran past its own timeout (asyncpg cancels it) or the server's
    statement_timeout: the connection goes back rolled back and serves the next use case, which
    sees nothing of the cancelled query."""
    async with pool.acquire() as conn:
        before = await conn.fetchval("SELECT pg_backend_pid()")
    with pytest.raises((TimeoutError, asyncpg.QueryCanceledError)):
        async with db.transaction(pool) as conn:
            await conn.execute("INSERT INTO notes (id) VALUES ($1)", uuid.uuid4())
            if cut_off == "own timeout":
                await conn.execute("SELECT pg_sleep(5)", timeout=0.1)
            else:
                await conn.execute("SET LOCAL statement_timeout = 100")
                await conn.execute("SELECT pg_sleep(5)")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") == before
        assert await conn.fetchval("SELECT 1") == 1
        assert await conn.fetchval("SELECT count(*) FROM notes") == 0


async def test_a_connection_whose_server_ended_is_replaced_and_its_turn_comes_back(
        pool: db.Pool) -> None:
    """A connection whose server process ended under a use case is closed, not handed on, and
    the pool keeps every turn: with one connection, the next use case gets a fresh one (a lost
    turn would leave the pool \"full\" for good after as many outages as connections)."""
    async with pool.acquire() as conn:
        before = await conn.fetchval("SELECT pg_backend_pid()")
    for _ in range(2):  # twice: a single connection's turn must come back each time
        with pytest.raises(db.BROKEN_CONNECTION):
            async with pool.acquire() as conn:
                await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        async with pool.acquire(timeout=5) as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") != before
