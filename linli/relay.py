"""The outbox relay: publishes a schema's unsent outbox rows to JetStream, then marks them sent.

A crash between publish and mark sends a row again; the Nats-Msg-Id header (the row's id) makes
JetStream store it once, and the consumers' inbox applies it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import asyncpg
import nats
from nats.js import JetStreamContext

from linli import metrics
from linli.bus import OUTBOX_CHANNEL_PREFIX, client_of, stop_task
from linli.db import Pool, transaction
from linli.jetstream import Publisher

log = logging.getLogger("linli.relay")


class OutboxRelay:
    """Publishes unsent outbox rows of one schema; several relays may run at once.

    Up to `in_flight` batches are out at once, each in its own transaction (SKIP LOCKED keeps
    them apart): the next batch is claimed and sent while the PubAcks of the one before are
    still coming. Claim and send take turns under one lock, so the stream gets the rows in the
    order they were claimed; a batch that fails is sent again later, after newer ones.
    """

    def __init__(
        self, *, pool: Pool, js: JetStreamContext, dsn: str, schema: str,
        batch: int = 200, in_flight: int = 2, idle_check_seconds: float = 5.0,
    ) -> None:
        self.pool, self.js, self.dsn, self.schema = pool, js, dsn, schema
        self.batch, self.in_flight = batch, in_flight
        self.idle_check_seconds = idle_check_seconds
        self.publisher = Publisher.for_client(client_of(js))
        self._claiming = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._backlog_at = 0.0

    async def relay_once(self, *, after_publish: Callable[[], Awaitable[None]] | None = None,
                         full: asyncio.Event | None = None) -> int:
        """Claim a batch (SKIP LOCKED), publish it, wait for every PubAck, mark it sent.
        `full` is set as soon as a claim comes back full."""
        async with transaction(self.pool) as conn:
            async with self._claiming:
                rows = await conn.fetch(
                    "SELECT id, subject, payload FROM outbox WHERE sent_at IS NULL"
                    " ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
                    self.batch,
                )
                if not rows:
                    return 0
                acks = await self.publisher.send(
                    [(r["subject"], bytes(r["payload"]), str(r["id"])) for r in rows])
            if full is not None and len(rows) == self.batch:
                full.set()
            async with asyncio.timeout(10):
                await acks.wait()
            if after_publish is not None:
                await after_publish()  # tests use this to crash between publish and mark
            await conn.execute(
                "UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY($1::uuid[])",
                [r["id"] for r in rows],
            )
        for subject, count in Counter(r["subject"] for r in rows).items():
            metrics.EVENTS_PUBLISHED.labels(subject).inc(count)
        return len(rows)

    async def drain(self) -> int:
        """Relay until a batch comes back short (a row committed later wakes the relay again);
        while batches come back full, `in_flight` of them are out at once. Returns how many
        rows went out."""
        full = asyncio.Event()  # a claim came back full: more are waiting

        async def one_after_another() -> int:
            total = 0
            while True:
                sent = await self.relay_once(full=full)
                total += sent
                if sent < self.batch:
                    return total

        tasks = [asyncio.create_task(one_after_another())]
        waiter = asyncio.create_task(full.wait())
        try:
            await asyncio.wait({tasks[0], waiter}, return_when=asyncio.FIRST_COMPLETED)
            if not tasks[0].done():
                tasks += [asyncio.create_task(one_after_another())
                          for _ in range(self.in_flight - 1)]
            return sum(await asyncio.gather(*tasks))
        finally:  # one failed or the relay stops: none goes on alone
            for task in (waiter, *tasks):
                task.cancel()
            await asyncio.gather(waiter, *tasks, return_exceptions=True)

    async def run(self) -> None:
        """Relay for ever: wake on NOTIFY or when a connection of our pool that wrote events is
        released (linli.db), with a slow safety pass for missed wake-ups.

        A lost LISTEN connection raises, so the supervisor (linli.loops) connects again.
        """
        listener = await asyncpg.connect(
            self.dsn, server_settings={"application_name": f"linli-{self.schema}-relay"})
        channel = OUTBOX_CHANNEL_PREFIX + self.schema
        await listener.add_listener(channel, lambda *_: self._wake.set())
        listener.add_termination_listener(lambda _: self._wake.set())
        # writers on our pool in this process wake us on release instead of by NOTIFY
        local: set[Callable[[], None]] = getattr(self.pool, "relay_wakes", set())
        local.add(self._wake.set)
        try:
            while not self._stopping:
                if listener.is_closed():
                    raise ConnectionError("outbox relay lost its LISTEN connection")
                self._wake.clear()
                try:
                    if not await self.drain() or time.monotonic() - self._backlog_at >= 1:
                        await self._record_backlog()  # idle, or at most once a second when busy
                except (OSError, asyncpg.PostgresError, nats.errors.Error, TimeoutError) as exc:
                    log.warning("outbox relay pass failed, will retry: %s", exc)
                    await asyncio.sleep(1)
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.idle_check_seconds):
                        await self._wake.wait()
        finally:
            local.discard(self._wake.set)
            listener.terminate()

    async def stop(self, task: asyncio.Task[None]) -> None:
        """Stop the relay running in `task`; a row it was publishing stays unsent, not lost."""
        self._stopping = True
        self._wake.set()
        await stop_task(task)

    async def _record_backlog(self) -> None:
        self._backlog_at = time.monotonic()
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                " AS age FROM outbox WHERE sent_at IS NULL"
            )
        metrics.OUTBOX_BACKLOG.labels(self.schema).set(row["n"])
        metrics.OUTBOX_OLDEST_AGE.labels(self.schema).set(float(row["age"]))
