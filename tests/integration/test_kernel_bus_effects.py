"""Effect subscriptions (linli.bus.effect_subscription): a consumer whose effect lies outside
PostgreSQL (the worker's bridge signalling Temporal) runs it holding no connection and records
the event in its inbox afterwards, against the real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from linli import bus, db
from linli.config import Settings
from linli.events import CloudEvent, EventType
from linli.relay import OutboxRelay
from tests.scratch_bus import fresh, scratch_bus


class Knocked(msgspec.Struct):
    door: int


@dataclass
class Bench:
    pool: db.Pool  # two connections: fewer than the events a burst brings
    js: JetStreamContext
    dsn: str
    schema: str
    kind: EventType[Knocked]

    async def publish(self, doors: range) -> list[CloudEvent]:
        async with db.transaction(self.pool) as conn:
            events = [await bus.emit(conn, self.kind, subject=str(door), data=Knocked(door))
                      for door in doors]
        relay = OutboxRelay(pool=self.pool, js=self.js, dsn=self.dsn, schema=self.schema)
        await relay.drain()
        return events

    async def recorded(self, durable: str) -> int:
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1",
                                           durable))


@pytest.fixture
async def bench(settings: Settings) -> AsyncIterator[Bench]:
    async with scratch_bus(settings, "e_", name="kernel-effect-test", max_size=2) as k:
        kind = EventType(name=f"linli.{fresh('t')}.door.knocked", data=Knocked,
                         description="测试事件")
        yield Bench(pool=k.pool, js=k.js, dsn=settings.database_url, schema=k.schema, kind=kind)


async def test_a_burst_larger_than_the_pool_is_applied_side_by_side_once_each(bench: Bench) -> None:
    """Twenty events in one batch, two connections: every effect is under way at the same time
    (none holds a connection while it waits), each event is recorded once, and a redelivered
    one is a duplicate that does not run the effect again."""
    events = await bench.publish(range(20))
    in_flight, all_in_flight = 0, asyncio.Event()
    runs: Counter[str] = Counter()

    async def knock(event: CloudEvent) -> None:
        nonlocal in_flight
        runs[event.id] += 1
        in_flight += 1
        if in_flight == len(events):
            all_in_flight.set()
        await all_in_flight.wait()  # effects holding one of two connections never get here

    sub = bus.effect_subscription(fresh("fx"), bench.kind, knock)
    group = bus.ConsumerGroup(pool=bench.pool, js=bench.js, subscriptions=[sub])
    # the batch is gathered whole first, so the test does not depend on how a fetch splits
    pull = await bench.js.pull_subscribe(bench.kind.name, durable=sub.durable)
    batch: list[Msg] = []
    async with asyncio.timeout(30):
        while len(batch) < len(events):
            batch += await pull.fetch(batch=len(events) - len(batch), timeout=5)
        await group.apply_batch(sub, batch)  # would never end if an effect held a connection
    await pull.unsubscribe()
    assert group.applied[sub.durable] == len(events)
    assert runs == {e.id: 1 for e in events}
    assert await bench.recorded(sub.durable) == len(events)
    assert await bus.apply_effect(bench.pool, sub, events[0]) is False  # redelivered: duplicate
    assert runs[events[0].id] == 1


async def test_a_failed_effect_records_nothing_and_its_redelivery_runs_it_again(
        bench: Bench) -> None:
    (event,) = await bench.publish(range(1))
    attempts: list[int] = []

    async def knock_once_the_second_time(received: CloudEvent) -> None:
        attempts.append(bench.kind.parse(received).door)
        if len(attempts) == 1:
            raise RuntimeError("工作流服务暂时不可用")

    sub = bus.effect_subscription(fresh("fy"), bench.kind, knock_once_the_second_time)
    with pytest.raises(RuntimeError):
        await bus.apply_effect(bench.pool, sub, event)
    assert await bench.recorded(sub.durable) == 0  # not recorded: a redelivery tries again
    assert await bus.apply_effect(bench.pool, sub, event) is True
    assert await bus.apply_effect(bench.pool, sub, event) is False
    assert attempts == [0, 0]
    async with bench.pool.acquire() as conn:
        assert await conn.fetchval("SELECT event_type FROM inbox WHERE event_id = $1",
                                   uuid.UUID(event.id)) == bench.kind.name
