"""The bus as ops see it: how far behind each durable consumer is, how full each stream is, and
whether each process can reach NATS.

The JetStream figures are read from JetStream's own API (the stream and consumer listings, the
same records `js.stream_info` and `js.consumer_info` return), so they are the server's, not a
process's guess.

Where it runs: one reader, in the worker (`linli worker`, /metrics on 8109), covers every stream
and every durable consumer of every service. The figures are the server's and so the same from
whichever process reads them: a second worker replica reports the same series under another
`instance`, and every alert and panel takes `max by (stream, consumer)`, never `sum`, so replicas
are never counted twice. Services do not read them: N replicas would ask the server N times for
one answer.

Every service and the worker also report `linli_dependency_up{service, dependency="nats"}`: whether
its own NATS connection is up, the same check as its /readyz, taken at scrape time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import nats.errors
from aiohttp import web
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo, StreamInfo
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from linli import metrics
from linli.config import Settings
from linli.http import NATS_CLIENT

log = logging.getLogger("linli.busmetrics")
T = TypeVar("T")
PAGE = 256  # JetStream's API lists at most this many streams or consumers per request


@dataclass(frozen=True)
class ConsumerFigures:
    stream: str
    consumer: str
    pending: int  # in the stream, matching the filter, not yet delivered
    ack_pending: int  # delivered, not yet acknowledged
    redelivered: int  # delivered more than once and still not acknowledged


@dataclass(frozen=True)
class StreamFigures:
    stream: str
    messages: int
    bytes: int
    limit_messages: int  # the stream's max_msgs, or the configured budget when it has none
    limit_bytes: int


@dataclass(frozen=True)
class Snapshot:
    streams: tuple[StreamFigures, ...]
    consumers: tuple[ConsumerFigures, ...]


async def _listed(page: Callable[[int], Awaitable[list[T]]]) -> list[T]:
    """Every item of a paged JetStream listing."""
    found: list[T] = []
    while True:
        batch = await page(len(found))
        found += batch
        if len(batch) < PAGE:
            return found


def _limit(value: int | None, budget: int) -> int:
    return value if value is not None and value > 0 else budget  # -1 means unlimited


def _stream(info: StreamInfo, settings: Settings) -> StreamFigures:
    return StreamFigures(
        stream=info.config.name or "", messages=info.state.messages, bytes=info.state.bytes,
        limit_messages=_limit(info.config.max_msgs, settings.stream_budget_messages),
        limit_bytes=_limit(info.config.max_bytes, settings.stream_budget_bytes))


def _consumer(info: ConsumerInfo) -> ConsumerFigures:
    return ConsumerFigures(
        stream=info.stream_name, consumer=info.name, pending=info.num_pending or 0,
        ack_pending=info.num_ack_pending or 0, redelivered=info.num_redelivered or 0)


async def _consumers(js: JetStreamContext, stream: str) -> list[ConsumerInfo]:
    return await _listed(lambda offset: js.consumers_info(stream, offset))


async def read(js: JetStreamContext, settings: Settings) -> Snapshot:
    """Every stream and every consumer on it, as JetStream reports them now."""
    streams = await _listed(lambda offset: js.streams_info(offset))
    consumers: list[ConsumerFigures] = []
    for info in streams:
        consumers += [_consumer(c) for c in await _consumers(js, info.config.name or "")]
    return Snapshot(streams=tuple(_stream(s, settings) for s in streams),
                    consumers=tuple(consumers))


class JetStreamGauges(Collector):
    """The last snapshot as gauges; only the families' names until a reader runs in this process."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.reachable: bool | None = None  # None: no reader in this process

    def show(self, snapshot: Snapshot | None) -> None:
        """A fresh snapshot, or None when JetStream could not be read (its series then vanish:
        old figures would be lies; linli_jetstream_up says why)."""
        self.snapshot, self.reachable = snapshot, snapshot is not None

    def forget(self) -> None:
        self.snapshot, self.reachable = None, None

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("linli_jetstream_up",
                               "1 when the last read of JetStream's API succeeded, else 0.")
        if self.reachable is not None:
            up.add_metric([], float(self.reachable))
        yield up
        yield from self._consumer_families()
        yield from self._stream_families()

    def _consumer_families(self) -> Iterable[Metric]:
        help_text = {
            "pending": "Messages in the stream for this durable consumer not yet delivered to it.",
            "ack_pending": "Messages delivered to this durable consumer and not yet acknowledged.",
            "redelivered": "Messages delivered to this consumer more than once, still unacknowledged.",
        }
        for field, text in help_text.items():
            family = GaugeMetricFamily(f"linli_jetstream_consumer_{field}_messages", text,
                                       labels=["stream", "consumer"])
            for c in self.snapshot.consumers if self.snapshot else ():
                family.add_metric([c.stream, c.consumer], float(getattr(c, field)))
            yield family

    def _stream_families(self) -> Iterable[Metric]:
        help_text = {
            "messages": "Messages stored in the stream.",
            "bytes": "Bytes stored in the stream.",
            "limit_messages": "The stream's max_msgs, or LINLI_STREAM_BUDGET_MESSAGES when unlimited.",
            "limit_bytes": "The stream's max_bytes, or LINLI_STREAM_BUDGET_BYTES when unlimited.",
        }
        for field, text in help_text.items():
            family = GaugeMetricFamily(f"linli_jetstream_stream_{field}", text, labels=["stream"])
            for s in self.snapshot.streams if self.snapshot else ():
                family.add_metric([s.stream], float(getattr(s, field)))
            yield family


class DependencyGauges(Collector):
    """linli_dependency_up: each watched connection of this process, checked at scrape time."""

    def __init__(self) -> None:
        self._probes: dict[tuple[str, str], list[Callable[[], bool]]] = {}

    def watch(self, service: str, dependency: str, probe: Callable[[], bool]) -> Callable[[], None]:
        """Report `probe()`; returns the function that stops reporting it."""
        probes = self._probes.setdefault((service, dependency), [])
        probes.append(probe)

        def unwatch() -> None:
            probes.remove(probe)
            if not probes:
                self._probes.pop((service, dependency), None)

        return unwatch

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "linli_dependency_up", "1 when this process's connection to the dependency is up "
            "(the check /readyz makes), else 0.", labels=["service", "dependency"])
        for (service, dependency), probes in sorted(self._probes.items()):
            # two apps of one service in a process (tests) report as one: up only if all are
            family.add_metric([service, dependency], float(all(p() for p in probes)))
        yield family


JETSTREAM = JetStreamGauges()
DEPENDENCIES = DependencyGauges()
metrics.REGISTRY.register(JETSTREAM)
metrics.REGISTRY.register(DEPENDENCIES)


def _connected(nc: NATS | None) -> bool:
    return nc is not None and nc.is_connected


def nats_dependency(service: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """Cleanup context: report the service's NATS connection as linli_dependency_up."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        unwatch = DEPENDENCIES.watch(service, "nats", lambda: _connected(app.get(NATS_CLIENT)))
        yield
        unwatch()

    return context


async def watch_bus(nc: NATS, js: JetStreamContext, settings: Settings) -> None:
    """The worker's task: its own NATS dependency gauge, and JetStream read every
    settings.bus_metrics_seconds, until cancelled."""
    unwatch = DEPENDENCIES.watch("worker", "nats", lambda: _connected(nc))
    try:
        while True:
            try:
                JETSTREAM.show(await read(js, settings))
            except (nats.errors.Error, OSError) as exc:  # nats' TimeoutError is an OSError
                log.warning("JetStream figures unavailable: %s", exc)
                JETSTREAM.show(None)
            await asyncio.sleep(settings.bus_metrics_seconds)
    finally:
        JETSTREAM.forget()
        unwatch()
