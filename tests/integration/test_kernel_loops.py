"""Background loops are supervised: a consumer whose dead-letter publish fails and a relay
whose LISTEN connection is cut come back by themselves, and /readyz names a loop that is
down (issue 9). The dependencies are really broken: a stream deleted, a backend terminated."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from aiohttp import web

from linli import bus, db, metrics
from linli.app import service_app
from linli.config import Settings
from linli.events import CloudEvent
from linli.loops import Loops
from tests.conftest import AppFactory
from tests.integration.test_kernel_bus import Kernel
from tests.integration.test_kernel_bus import kernel as kernel_fixture  # noqa: F401

T = TypeVar("T")


@pytest.fixture
def kernel(kernel_fixture: Kernel) -> Kernel:  # noqa: F811
    """test_kernel_bus's schema, pool and NATS connection."""
    return kernel_fixture


async def until(what: str, probe: Callable[[], Awaitable[T | None]], within: float = 60.0) -> T:
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within:.0f} s (last seen: {last!r})")


async def dead_letters(kernel: Kernel, durable: str) -> list[bytes]:
    letters = await kernel.js.pull_subscribe(f"{bus.DEAD_LETTER_PREFIX}.{durable}",
                                             stream=bus.DEAD_LETTER_STREAM)
    try:
        return [m.data for m in await letters.fetch(batch=10, timeout=1)]
    except TimeoutError:
        return []
    finally:
        await letters.unsubscribe()


async def test_a_consumer_whose_dead_letter_publish_fails_is_restarted(kernel: Kernel) -> None:
    applied: list[str] = []

    async def handler(conn: db.Connection, event: CloudEvent) -> None:
        if event.data["text"] == "毒":
            raise ValueError("不可处理")
        applied.append(event.data["text"])

    sub = bus.Subscription(durable=f"loops-{uuid.uuid4().hex[:8]}", event=kernel.note,
                           handler=handler)
    loops = Loops(settle=0.5)
    name = f"consumer {sub.durable}"
    restarts = metrics.LOOP_RESTARTS.labels(name)
    before = restarts._value.get()
    consumers = bus.ConsumerGroup(pool=kernel.pool, js=kernel.js, subscriptions=[sub],
                                  max_deliver=1, ack_wait=1.0, loops=loops)
    await consumers.start()
    await kernel.js.delete_stream(bus.DEAD_LETTER_STREAM)  # the dead-letter publish will fail
    try:
        relay = kernel.relay()
        await kernel.write_note("毒")
        await relay.drain()

        async def failed() -> dict[str, str] | None:
            return loops.not_running().get(name) and loops.not_running()
        down = await until("the consumer reported down", failed)
        assert "错误" in down[name]
        assert restarts._value.get() > before
    finally:
        await bus.ensure_streams(kernel.js)
    try:
        await until("the poison dead-lettered once the stream is back",
                    lambda: dead_letters(kernel, sub.durable))
        await kernel.write_note("好")
        await relay.drain()

        async def recovered() -> bool:
            return applied == ["好"] and not loops.not_running()
        await until("the restarted consumer applying new events", recovered)
    finally:
        await consumers.stop()


async def relay_backend(kernel: Kernel, known: set[int]) -> int | None:
    async with kernel.pool.acquire() as conn:
        pid: int | None = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
            " AND NOT (pid = ANY($2::int[])) LIMIT 1", f"linli-{kernel.schema}-relay", list(known))
    return pid


async def test_a_relay_whose_listen_connection_is_cut_listens_again(kernel: Kernel) -> None:
    relay = kernel.relay(idle_check_seconds=3600)  # only NOTIFY wakes it within the test
    loops = Loops(settle=0.5)
    task = loops.spawn("relay under test", relay.run)
    try:
        first = await until("the relay listening", lambda: relay_backend(kernel, set()))
        async with kernel.pool.acquire() as conn:
            await conn.execute("SELECT pg_terminate_backend($1)", first)
        await until("the relay listening on a new connection",
                    lambda: relay_backend(kernel, {first}))
        event = await kernel.write_note("重连之后")

        async def sent() -> bool:
            async with kernel.pool.acquire() as conn:
                return bool(await conn.fetchval("SELECT sent_at FROM outbox WHERE id = $1",
                                                uuid.UUID(event.id)))
        await until("the event relayed after a NOTIFY on the new connection", sent)
    finally:
        await relay.stop(task)


async def test_readyz_names_a_loop_that_is_not_running(
    settings: Settings, serve: AppFactory,
) -> None:
    gate = asyncio.Event()
    rounds: list[int] = []

    async def sweep(pool: db.Pool) -> None:
        rounds.append(1)
        if not gate.is_set():
            raise RuntimeError("依赖不可用")  # a sweep's loop body failing outright

    from linli.app import LOOPS

    def create(s: Settings) -> web.Application:
        app = service_app(name="loopcheck", settings=s, routes=[], migrations=None)
        app.on_startup.append(lambda a: _spawn_failing(a, sweep, gate))
        return app

    client = await serve(create)

    async def unready() -> dict[str, object] | None:
        response = await client.get("/readyz")
        body: dict[str, object] = await response.json()
        return body if response.status == 503 else None
    body = await until("readyz 503 while the loop is down", unready)
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert "loop flaky-sweep" in checks and "flaky-sweep" in checks["loops"]
    gate.set()

    async def ready() -> bool:
        return (await client.get("/readyz")).status == 200
    await until("readyz 200 once the loop runs again", ready)
    assert client.app is not None and not client.app[LOOPS].not_running()


async def _spawn_failing(app: web.Application, sweep: Callable[[db.Pool], Awaitable[None]],
                         gate: asyncio.Event) -> None:
    from linli.app import LOOPS, POOL

    loops = app[LOOPS]
    loops.settle = 0.5

    async def run() -> None:
        while True:
            await sweep(app[POOL])
            await asyncio.sleep(0.2)
    task = loops.spawn("flaky-sweep", run)

    async def cancel(_: web.Application) -> None:
        task.cancel()
    app.on_cleanup.append(cancel)
