"""Events per second from outbox to consumer, with p50/p99 latency, beside raw JetStream publish:
a backlog waiting in the outbox drained (the relay and the consumer flat out), writers and the
pipeline at once flat out (with the writers' own rate beside it), and a steady 500 events/s.

Run: `.venv/bin/python -m bench.bench_bus [--events N]`. Starts its own embedded PostgreSQL and
NATS in a temporary folder; every figure comes from the same run on the same servers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec

from bench import harness
from linli import bus, db
from linli.cli import event_loop
from linli.events import CloudEvent, EventType
from linli.relay import OutboxRelay
from linli.stack import EmbeddedStack

RESULTS = Path(__file__).parent / "results"


class Ping(msgspec.Struct):
    written_at: float


def ping_type(phase: str) -> EventType[Ping]:
    """One event type per phase, so a phase's consumer sees only its own events."""
    return EventType(name=f"linli.bench.ping_{phase}.sent", data=Ping, description="基准测试事件")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def raw_publish(js: bus.JetStreamContext, count: int) -> dict[str, float]:
    """nats-py straight to JetStream: one-at-a-time PubAcks and pipelined PubAcks."""
    payload = b"x" * 300
    started = time.perf_counter()
    for i in range(count // 5):
        await js.publish("linli.bench.raw.sync", payload, headers={"Nats-Msg-Id": f"s{i}{uuid.uuid4()}"})
    sync_rate = (count // 5) / (time.perf_counter() - started)
    started = time.perf_counter()
    acks = [await js.publish_async("linli.bench.raw.async", payload,
                                   headers={"Nats-Msg-Id": f"a{i}{uuid.uuid4()}"}) for i in range(count)]
    await asyncio.gather(*acks)
    async_rate = count / (time.perf_counter() - started)
    return {"publish_wait_each_ack_per_s": round(sync_rate), "publish_pipelined_per_s": round(async_rate)}


async def outbox_to_consumer(pool: db.Pool, js: bus.JetStreamContext, dsn: str, schema: str,
                             count: int, writers: int, rate: float | None = None) -> dict[str, float]:
    """Writers commit events (flat out, or paced at `rate` per second); a consumer takes them."""
    latencies: list[float] = []
    done = asyncio.Event()
    ping = ping_type("paced" if rate else "flat")

    async def apply(conn: db.Connection, event: CloudEvent) -> None:
        latencies.append(time.time() - ping.parse(event).written_at)
        if len(latencies) >= count:
            done.set()

    relay = OutboxRelay(pool=pool, js=js, dsn=dsn, schema=schema, batch=200)
    durable = f"bench-{uuid.uuid4().hex[:8]}"
    seen: list[str] = []

    async def handle(conn: db.Connection, event: CloudEvent) -> None:
        seen.append(event.id)  # a handler's transaction that rolled back would show here twice
        await apply(conn, event)

    group = bus.ConsumerGroup(pool=pool, js=js, subscriptions=[
        bus.Subscription(durable=durable, event=ping, handler=handle, batch=True)])
    relay_task = asyncio.create_task(relay.run())
    await group.start()

    async def writer(n: int) -> None:
        for i in range(n):
            if rate is not None:
                await asyncio.sleep(max(0.0, started + i * writers / rate - time.perf_counter()))
            async with db.transaction(pool) as conn:
                await bus.emit(conn, ping, subject="bench", data=Ping(written_at=time.time()))

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(writer(count // writers + (i < count % writers)) for i in range(writers)))
    # CPU per event counts this process: writers, relay and consumer
    found = await counted_once(pool, group, relay_task, done, durable, seen, count, (cpu, started))
    return {**found,
            "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
            "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1)}


async def counted_once(pool: db.Pool, group: bus.ConsumerGroup, relay_task: asyncio.Task[None],
                       done: asyncio.Event, durable: str, seen: list[str], count: int,
                       clock: tuple[float, float]) -> dict[str, float]:
    """Once `count` events were applied: stop, then count what arrived (none lost, none twice,
    as many inbox rows as events), the rate and the CPU per event since `clock` (CPU, wall)."""
    await asyncio.wait_for(done.wait(), timeout=300)
    elapsed, cpu = time.perf_counter() - clock[1], time.process_time() - clock[0]
    await asyncio.sleep(1)  # anything applied twice would arrive now
    await group.stop()
    relay_task.cancel()
    unique = len(set(seen))
    inbox = await pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", durable)
    return {"events": count, "applied_once": inbox, "lost": count - unique,
            "handled_more_than_once": len(seen) - unique,
            "per_s": round(count / elapsed), "cpu_us_per_event": round(cpu / count * 1e6)}


async def writers_alone(pool: db.Pool, count: int, writers: int) -> float:
    """Events/s the flat-out writers commit with no relay or consumer beside them (the
    outbox → consumer figure cannot pass it: the writers share this process); their rows are
    deleted after."""
    ping = ping_type("alone")

    async def writer(n: int) -> None:
        for _ in range(n):
            async with db.transaction(pool) as conn:
                await bus.emit(conn, ping, subject="bench", data=Ping(written_at=time.time()))

    started = time.perf_counter()
    await asyncio.gather(*(writer(count // writers + (i < count % writers)) for i in range(writers)))
    rate = count / (time.perf_counter() - started)
    await pool.execute("DELETE FROM outbox WHERE subject = $1", ping.name)
    return round(rate)


async def fill_outbox(pool: db.Pool, count: int) -> None:
    """`count` events of the backlog phase waiting in the outbox (NATS was away, say)."""
    ping = ping_type("backlog")
    for first in range(0, count, 500):
        async with db.transaction(pool) as conn:
            for _ in range(min(500, count - first)):
                await bus.emit(conn, ping, subject="bench", data=Ping(written_at=time.time()))


async def backlog_drained(pool: db.Pool, js: bus.JetStreamContext, dsn: str, schema: str,
                          count: int) -> dict[str, float]:
    """The relay and a durable consumer with its inbox start on `count` events waiting in the
    outbox (fill_outbox): events/s from outbox to applied, no writer in the way."""
    ping = ping_type("backlog")
    seen: list[str] = []
    done = asyncio.Event()

    async def handle(conn: db.Connection, event: CloudEvent) -> None:
        seen.append(event.id)  # a handler's transaction that rolled back would show here twice
        if len(seen) >= count:
            done.set()

    durable = f"bench-{uuid.uuid4().hex[:8]}"
    relay = OutboxRelay(pool=pool, js=js, dsn=dsn, schema=schema, batch=200)
    group = bus.ConsumerGroup(pool=pool, js=js, subscriptions=[
        bus.Subscription(durable=durable, event=ping, handler=handle, batch=True)])
    cpu, started = time.process_time(), time.perf_counter()
    relay_task = asyncio.create_task(relay.run())
    await group.start()
    return await counted_once(pool, group, relay_task, done, durable, seen, count, (cpu, started))


async def counted(stack: EmbeddedStack, phase: Any, events: int) -> dict[str, Any]:
    """A phase with the PostgreSQL statements and round trips per event counted."""
    await harness.statements_reset(stack.database_url)
    result = await phase
    return {**result, **harness.per_request(await harness.statements(stack.database_url), events)}


async def run(count: int) -> dict[str, object]:
    with harness.embedded() as stack:
        schema = "bench_bus"
        pool = await db.create_pool(stack.database_url, schema=schema, max_size=20)
        async with pool.acquire() as conn:
            await db.migrate(conn, schema=schema, migrations=None)
        nc = await bus.connect(stack.nats_url, name="bench")
        js = nc.jetstream()
        await bus.ensure_streams(js)
        raw = await raw_publish(js, count)
        await fill_outbox(pool, 2 * count)
        backlog = await counted(stack, backlog_drained(
            pool, js, stack.database_url, schema, 2 * count), 2 * count)
        alone = await writers_alone(pool, count, writers=8)
        flat_out = await counted(stack, outbox_to_consumer(
            pool, js, stack.database_url, schema, count, writers=8), count)
        flat_out["writers_alone_per_s"] = alone
        paced = await counted(stack, outbox_to_consumer(
            pool, js, stack.database_url, schema, count // 2, writers=4, rate=500.0), count // 2)
        await nc.close()
        await pool.close()
        return {"benchmark": "bus", "raw_jetstream": raw, "outbox_backlog_drained": backlog,
                "outbox_to_consumer_flat_out": flat_out,
                "outbox_to_consumer_paced_500_per_s": paced,
                "note": "writers, relay and consumer share this process (and its CPU, on uvloop as the"
                        " services); the flat-out"
                        " writers commit one event per transaction, so that figure cannot pass"
                        " writers_alone_per_s; the backlog figure is the relay and consumer alone"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--quick", action="store_true", help="500 events: checks it runs")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=event_loop) as runner:  # the services' loop (uvloop)
        harness.write("bus", runner.run(run(500 if args.quick else args.events)))


if __name__ == "__main__":
    main()
