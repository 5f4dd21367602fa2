"""The bus gauges (linli/busmetrics.py) against the real NATS: a consumer that stops falls behind
in linli_jetstream_consumer_pending_messages, redeliveries show, and a service that loses NATS
says so in linli_dependency_up and /readyz."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from prometheus_client.parser import text_string_to_metric_families

from linli import bus, busmetrics, db, metrics
from linli.config import Settings
from linli.events import CloudEvent, EventType, encode
from linli.stack import EmbeddedStack, Ports
from tests.scratch_bus import fresh, scratch_bus


class Chimed(msgspec.Struct):
    n: int


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(text: str | None = None) -> Samples:
    """The samples of a /metrics text (default: this process's registry)."""
    body = metrics.render().decode() if text is None else text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def until(what: str, probe: Callable[[], Awaitable[bool] | bool], within: float = 20) -> None:
    """Poll until `probe` holds; fail naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        outcome = probe()
        if await outcome if isinstance(outcome, Awaitable) else outcome:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within:.0f} s")


@dataclass
class Bus:
    nc: NATS
    js: JetStreamContext
    pool: db.Pool
    chime: EventType[Chimed]

    async def publish(self, count: int) -> None:
        for n in range(count):
            event = self.chime.new(subject=str(n), data=Chimed(n=n))
            await self.js.publish(event.type, encode(event), headers={"Nats-Msg-Id": event.id})

    def pending(self, durable: str, field: str = "pending") -> float | None:
        return sample(scrape(), f"linli_jetstream_consumer_{field}_messages",
                      stream=bus.STREAM, consumer=durable)


@pytest.fixture
async def linli_bus(settings: Settings) -> AsyncIterator[Bus]:
    """A NATS connection, a schema with the inbox, an event type of this test alone, and the
    worker's reader of JetStream running in this process, reading every 0.2 s."""
    async with scratch_bus(settings, "bm_", name="busmetrics-test") as k:
        chime = EventType(name=f"linli.{fresh('t')}.bell.chimed", data=Chimed,
                          description="测试事件")
        reader = asyncio.create_task(busmetrics.watch_bus(
            k.nc, k.js, settings.with_overrides(bus_metrics_seconds=0.2)))
        try:
            yield Bus(nc=k.nc, js=k.js, pool=k.pool, chime=chime)
        finally:
            await bus.stop_task(reader)


async def test_a_stopped_consumer_falls_behind_in_the_gauge_and_catches_up(
        linli_bus: Bus, settings: Settings) -> None:
    async def ignore(conn: db.Connection, event: CloudEvent) -> None:
        return None

    durable = fresh("lag")
    group = bus.ConsumerGroup(pool=linli_bus.pool, js=linli_bus.js, subscriptions=[
        bus.Subscription(durable=durable, event=linli_bus.chime, handler=ignore)])
    await group.start()
    await linli_bus.publish(3)
    await until("the running consumer takes all three",
                lambda: linli_bus.pending(durable) == 0 and linli_bus.pending(durable, "ack_pending") == 0
                and (sample(scrape(), "linli_events_consumed_total", consumer=durable,
                            type=linli_bus.chime.name, outcome="applied") or 0) == 3)
    await group.stop()  # the consumer's process is gone; events keep coming
    # …once the pull it had open on the server expires (else the server hands it events)
    await until("no pull left waiting", lambda: _no_pull_waiting(linli_bus.js, durable))
    await linli_bus.publish(5)
    await until("pending 5 once it stopped", lambda: linli_bus.pending(durable) == 5)
    await linli_bus.publish(2)
    await until("pending grows to 7", lambda: linli_bus.pending(durable) == 7)
    samples = scrape()
    assert sample(samples, "linli_jetstream_up") == 1
    assert sample(samples, "linli_dependency_up", service="worker", dependency="nats") == 1
    assert (sample(samples, "linli_jetstream_stream_messages", stream=bus.STREAM) or 0) >= 10
    # the event stream has no limits of its own: the gauges carry the configured budget
    assert sample(samples, "linli_jetstream_stream_limit_messages", stream=bus.STREAM) == \
        settings.stream_budget_messages
    assert sample(samples, "linli_jetstream_stream_limit_bytes", stream=bus.STREAM) == \
        settings.stream_budget_bytes
    await group.start()
    try:
        await until("caught up again", lambda: linli_bus.pending(durable) == 0
                    and linli_bus.pending(durable, "ack_pending") == 0)
    finally:
        await group.stop()
        await linli_bus.js.delete_consumer(bus.STREAM, durable)


async def _no_pull_waiting(js: JetStreamContext, durable: str) -> bool:
    return (await js.consumer_info(bus.STREAM, durable)).num_waiting == 0


async def test_an_unacknowledged_redelivery_shows_until_acked(linli_bus: Bus) -> None:
    durable = fresh("redo")
    config = ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT, ack_wait=30)
    pull = await linli_bus.js.pull_subscribe(linli_bus.chime.name, durable=durable,
                                             stream=bus.STREAM, config=config)
    try:
        await linli_bus.publish(1)
        (first,) = await pull.fetch(batch=1, timeout=5)
        await first.nak()  # the handler failed: JetStream delivers it again
        (again,) = await pull.fetch(batch=1, timeout=5)
        assert again.metadata.num_delivered == 2
        await until("one message in redelivery, one unacked",
                    lambda: linli_bus.pending(durable, "redelivered") == 1
                    and linli_bus.pending(durable, "ack_pending") == 1)
        await again.ack()
        await until("redelivery cleared by the ack",
                    lambda: linli_bus.pending(durable, "redelivered") == 0)
    finally:
        await pull.unsubscribe()
        await linli_bus.js.delete_consumer(bus.STREAM, durable)


async def test_series_of_a_stopped_reader_vanish(settings: Settings) -> None:
    nc = await bus.connect(settings.nats_url, name="busmetrics-test")
    try:
        reader = asyncio.create_task(busmetrics.watch_bus(
            nc, nc.jetstream(), settings.with_overrides(bus_metrics_seconds=0.2)))
        await until("the reader's first read", lambda: sample(scrape(), "linli_jetstream_up") == 1)
        await bus.stop_task(reader)
    finally:
        await nc.close()
    samples = scrape()
    assert sample(samples, "linli_jetstream_up") is None
    assert not any(name.startswith("linli_jetstream_") for name, _ in samples)
    assert sample(samples, "linli_dependency_up", service="worker", dependency="nats") is None


async def test_a_service_that_loses_nats_reports_it_in_metrics_and_readyz(settings: Settings) -> None:
    from services.directory.app import create_app

    private = EmbeddedStack(Path(tempfile.mkdtemp(prefix="linli-nats-")), Ports.free(),
                            run_postgres=False, run_temporal=False)
    private.start()
    client = TestClient(TestServer(create_app(settings.with_overrides(nats_url=private.nats_url)),
                                   host="127.0.0.1", port=0))
    await client.start_server()
    try:
        async def nats_up() -> float | None:
            response = await client.get("/metrics")
            return sample(scrape(await response.text()), "linli_dependency_up",
                          service="directory", dependency="nats")

        assert await nats_up() == 1
        assert (await client.get("/readyz")).status == 200
        private.stop()  # NATS goes away under the running service
        await until("the gauge says NATS is down", lambda: _equals(nats_up(), 0.0))
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["checks"]["nats"] == "unavailable"
    finally:
        await client.close()
        private.stop()


async def _equals(value: Awaitable[float | None], expected: float) -> bool:
    return await value == expected


def test_every_scrape_reports_unique_series() -> None:
    """Two apps of one service in a process (as in tests) give one series, not a duplicate
    Prometheus would reject."""
    unwatch = [busmetrics.DEPENDENCIES.watch("twice", "nats", lambda: True),
               busmetrics.DEPENDENCIES.watch("twice", "nats", lambda: False)]
    try:
        lines = [line for line in metrics.render().decode().splitlines()
                 if line.startswith('linli_dependency_up{') and 'service="twice"' in line]
        assert lines == ['linli_dependency_up{dependency="nats",service="twice"} 0.0']
    finally:
        for stop in unwatch:
            stop()
