"""NATS JetStream: the event stream, the outbox and durable consumers with an inbox (the relay
between them is linli.relay).

Events leave a service only through its outbox (written in the business transaction) and
arrive only through a durable consumer whose writes commit together with an inbox row, so a
crash anywhere loses nothing and applies nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError

from linli import metrics
from linli.db import Connection, Pool, relay_woken_on_release, transaction
from linli.events import CloudEvent, EventType, decode, encode
from linli.jetstream import Puller
from linli.loops import Loops

log = logging.getLogger("linli.bus")

STREAM = "LINLI"
STREAM_SUBJECTS = ["linli.>"]
DEAD_LETTER_STREAM = "LINLI_DLQ"
DEAD_LETTER_PREFIX = "linli_dlq"
OUTBOX_CHANNEL_PREFIX = "linli_outbox_"

Handler = Callable[[Connection, CloudEvent], Awaitable[None]]
Effect = Callable[[CloudEvent], Awaitable[None]]  # acts outside PostgreSQL (see effect_subscription)


def servers(url: str) -> list[str]:
    """The servers of LINLI_NATS_URL: one URL, or several separated by commas (the nodes of a
    cluster; the client connects to any and fails over to the others)."""
    found = [part.strip() for part in url.split(",") if part.strip()]
    if not found:
        raise ValueError("LINLI_NATS_URL 为空: 请给出至少一个 nats:// 地址")
    return found


async def connect(url: str, *, name: str) -> NATS:
    """Connect to NATS (any server of a cluster), reconnecting for ever once connected."""
    return await nats.connect(
        servers(url), name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
        connect_timeout=5,
    )


async def ensure_streams(js: JetStreamContext, *, replicas: int | None = None) -> None:
    """Create or update the event stream and the dead-letter stream (idempotent).

    `replicas` (LINLI_STREAM_REPLICAS) is how many servers of a cluster keep each stream; when
    not configured, a new stream gets one and an existing one keeps what ops gave it (an update
    without it would shrink a three-way replicated stream back to one).
    """
    for config in (
        StreamConfig(name=STREAM, subjects=STREAM_SUBJECTS, duplicate_window=120.0),
        StreamConfig(name=DEAD_LETTER_STREAM, subjects=[f"{DEAD_LETTER_PREFIX}.>"]),
    ):
        try:
            info = await js.stream_info(config.name or "")
            config.num_replicas = replicas or info.config.num_replicas or 1
            await js.update_stream(config)
        except NotFoundError:
            config.num_replicas = replicas or 1
            with contextlib.suppress(nats.js.errors.BadRequestError):
                await js.add_stream(config)


def client_of(js: JetStreamContext) -> NATS:
    """The NATS connection a JetStream context speaks through (nats.py keeps it as _nc)."""
    nc: NATS = js._nc
    return nc


async def stop_task(task: asyncio.Task[None], *, grace: float = 10.0) -> None:
    """Cancel a background loop and wait for it, but never for ever.

    Python 3.11's asyncio.wait_for (used inside client libraries) can swallow a cancellation;
    the loops also check a stop flag, and the grace period bounds the wait.
    """
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        log.warning("task %s did not stop within %.0f s", task.get_name(), grace)


# ---------------------------------------------------------------- outbox (write side)


def woken(conn: Connection, rows: str, columns: str = "1") -> str:
    """`rows` as a subquery (one row per outbox row to write) whose rows wake the schema's
    outbox relay once the transaction commits: by NOTIFY, unless the relay runs in this process
    on the connection's pool, which then wakes it when the connection goes back (linli.db
    relay_woken_on_release). A row written wakes it; nothing written wakes nobody."""
    if relay_woken_on_release(conn):
        return f"(SELECT {columns} FROM {rows})"
    return (f"(SELECT {columns}, pg_notify('{OUTBOX_CHANNEL_PREFIX}' || current_schema(), '')"
            f" FROM {rows})")


def _write(conn: Connection, conflict: str) -> str:
    """The outbox row and the relay's wake-up in one statement, one round trip."""
    return ("WITH linli_outbox AS (INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3)"
            f"{conflict} RETURNING id) SELECT true FROM {woken(conn, 'linli_outbox')} AS woken")


async def write_event(conn: Connection, event: CloudEvent) -> None:
    """Add an event to the outbox in the caller's transaction and wake the relay at commit."""
    await conn.execute(_write(conn, ""), uuid.UUID(event.id), event.type, encode(event))


async def write_events(conn: Connection, events: Sequence[CloudEvent], *,
                       once: bool = False) -> None:
    """Add many events to the outbox in the caller's transaction in ONE statement (a bulk use
    case, e.g. a CSV import), waking the relay once at commit. `once`: an id already in the
    outbox is left alone (writers that retry with fixed event ids, as write_event_once).

    The relay sends by (created_at, id): the rows get the statement's start plus their position
    in microseconds, strictly increasing, so the events go out in the order given, as if written
    one by one (one timestamp for all would leave their order to the random ids)."""
    if events:
        await _write_many(conn, events, once=once, at=None, after=0)


class EventsInOrder:
    """One transaction's events written to the outbox in several statements, a chunk at a time
    (a bulk use case that never holds all its events at once), going out in the order written.

    As with write_events, a row's created_at is a start plus its position in microseconds, but
    the start is the FIRST statement's and the position runs on over every chunk, so the order
    holds by construction: with each statement's own start it would rest on the clock (a chunk's
    positions reaching past the next statement's start, the clock set back in between)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.started: datetime | None = None  # the first statement's start
        self.written = 0

    async def write(self, events: Sequence[CloudEvent]) -> None:
        """The next events, after every one written before (the relay is woken at commit)."""
        if events:
            self.started = await _write_many(self.conn, events, once=False, at=self.started,
                                             after=self.written)
            self.written += len(events)


async def _write_many(conn: Connection, events: Sequence[CloudEvent], *, once: bool,
                      at: datetime | None, after: int) -> datetime | None:
    """The events in one statement, the i-th (from 1) created at `at` (the statement's start
    when None) + `after` + i microseconds; returns that start (None when `once` left every
    event alone)."""
    started: datetime | None = await conn.fetchval(
        "WITH run AS (SELECT coalesce($4::timestamptz, statement_timestamp()) AS at),"
        " linli_outbox AS (INSERT INTO outbox (id, subject, payload, created_at)"
        " SELECT e.id::uuid, e.subject, e.payload,"
        " run.at + ($5::bigint + e.n) * interval '1 microsecond'"
        " FROM run, unnest($1::text[], $2::text[], $3::bytea[]) WITH ORDINALITY"
        " AS e (id, subject, payload, n)"
        f"{' ON CONFLICT (id) DO NOTHING' if once else ''} RETURNING 1)"
        " SELECT run.at FROM run,"
        f" {woken(conn, '(SELECT 1 FROM linli_outbox LIMIT 1) AS one')} AS woken",
        [e.id for e in events], [e.type for e in events],  # PostgreSQL parses the ids
        [encode(e) for e in events], at, after)
    return started


async def write_event_once(conn: Connection, event: CloudEvent) -> bool:
    """Like write_event, but an id already in the outbox is left alone and gives False (and
    wakes nobody).

    For writers that retry with a fixed event id (Temporal activities), so a retry is harmless.
    """
    written = await conn.fetchval(_write(conn, " ON CONFLICT (id) DO NOTHING"),
                                  uuid.UUID(event.id), event.type, encode(event))
    return bool(written)


def outbox_cte(conn: Connection, event: CloudEvent, *, after: str, first: int,
               filled: tuple[str, str] | None = None) -> tuple[str, list[Any]]:
    """The event's outbox row as a CTE (`linli_outbox`) of a use case's single statement on
    `conn`, for a use case whose rows and event commit in one round trip: written (and the relay
    woken at commit) once per row the CTE named `after` returns, so nothing when that wrote
    nothing. Returns the CTE's SQL, with parameters numbered from `first`, and their values.

    `filled` is (a placeholder string the event carries exactly once, an SQL text expression
    over the `after` row): for a field only the statement knows (a column of a row it reads),
    the payload carries the expression's value, as a JSON string, in the placeholder's place."""
    payload = encode(event)
    values = [uuid.UUID(event.id), event.type]
    if filled is None:
        return (f"linli_outbox AS (INSERT INTO outbox (id, subject, payload)"
                f" SELECT ${first}, ${first + 1}, ${first + 2} FROM {woken(conn, after)}"
                " AS woken)"), [*values, payload]
    placeholder, expression = filled
    head, mark, tail = payload.partition(msgspec.json.encode(placeholder))
    if not mark or mark in tail:
        raise ValueError(f"the event carries {placeholder!r} not exactly once")
    return (f"linli_outbox AS (INSERT INTO outbox (id, subject, payload)"
            f" SELECT ${first}, ${first + 1}, ${first + 2}::bytea"
            f" || convert_to(to_json(woken.filled::text)::text, 'UTF8') || ${first + 3}::bytea"
            f" FROM {woken(conn, after, f'{expression} AS filled')} AS woken)"
            ), [*values, head, tail]


async def emit(
    conn: Connection, kind: EventType[Any], *, subject: str, data: msgspec.Struct,
    compound_id: str | None = None,
) -> CloudEvent:
    """Build an event of a catalogued type and write it to the outbox."""
    event = kind.new(subject=subject, data=data, compound_id=compound_id)
    await write_event(conn, event)
    return event


# ---------------------------------------------------------------- durable consumers


@dataclass(frozen=True)
class Subscription:
    """A durable consumer: which event type it takes and what it does with it."""

    durable: str
    event: EventType[Any]
    handler: Handler
    # the handler only writes through its connection (no call to anything outside PostgreSQL),
    # so a fetched lane may be applied in one transaction, and re-applied one by one after a
    # failure rolled it back
    batch: bool = False
    effect: Effect | None = None  # set by effect_subscription()


def effect_subscription(durable: str, event: EventType[Any], effect: Effect) -> Subscription:
    """A consumer whose whole effect lies outside PostgreSQL and changes nothing when repeated
    (a Temporal signal the workflow dedupes, a start under a fixed workflow id). The consumer
    runs it holding no connection and writes the inbox row once it succeeded (apply_effect),
    so a fetched batch is applied side by side however small the pool, and the pool stays free
    for the rest of the process. A crash between the effect and the row repeats the effect on
    redelivery, as a crash between effect and commit did before; after the row, a redelivery
    is a duplicate."""

    async def handler(conn: Connection, received: CloudEvent) -> None:  # never batched
        await effect(received)

    return Subscription(durable, event, handler, effect=effect)


class ConsumerGroup:
    """Runs a service's durable consumers; replicas sharing a durable split the work."""

    # how many fetched messages one round applies: a batched subscription's lane is one
    # transaction, so it takes more at once; other lanes each hold a pooled connection
    TAKE_BATCHED, TAKE_ONE_BY_ONE = 200, 20
    LANES_AT_ONCE = 8  # lanes applied side by side, each with a connection of the pool

    def __init__(
        self, *, pool: Pool, js: JetStreamContext, subscriptions: Sequence[Subscription],
        max_deliver: int = 5, ack_wait: float = 30.0, loops: Loops | None = None,
    ) -> None:
        self.pool, self.js = pool, js
        self.loops = loops or Loops()
        self.subscriptions = list(subscriptions)
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._lanes = asyncio.Semaphore(self.LANES_AT_ONCE)
        self.applied: Counter[str] = Counter()  # events this replica applied, by durable

    async def start(self) -> None:
        """Create the consumers (idempotent) and start pulling."""
        self._stopping = False
        for sub in self.subscriptions:
            pull = await self._subscribe(sub)
            self._tasks.append(self.loops.spawn(f"consumer {sub.durable}", self._consume(sub, pull)))

    async def _subscribe(self, sub: Subscription) -> Puller:
        """The durable pull consumer (created unless it exists) and a puller of its messages."""
        try:
            await self.js.consumer_info(STREAM, sub.durable)
        except NotFoundError:
            await self.js.add_consumer(STREAM, ConsumerConfig(
                name=sub.durable,
                durable_name=sub.durable,
                filter_subject=sub.event.name,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self.ack_wait,
                max_ack_pending=1000,
            ))
        take = self.TAKE_BATCHED if sub.batch else self.TAKE_ONE_BY_ONE
        puller = Puller(client_of(self.js), stream=STREAM, durable=sub.durable, batch=take)
        await puller.start()
        return puller

    def _consume(self, sub: Subscription, first: Puller) -> Callable[[], Awaitable[None]]:
        """The supervised loop of one durable: a restart subscribes afresh (a failed ack or
        dead-letter publish ends a run; the unacked messages come back after ack_wait).

        A pull may get nothing more after the client reconnects to a restarted server
        (nats-io/nats.py#504), so a reconnect ends the run too.
        """
        pulls = [first]

        async def run() -> None:
            pull = pulls.pop() if pulls else await self._subscribe(sub)
            reconnects = self._reconnects()
            pulling = asyncio.create_task(self._pull(sub, pull), name=f"{sub.durable}-pull")
            try:
                while not pulling.done():
                    await asyncio.wait({pulling}, timeout=1)
                    if not pulling.done() and self._reconnects() != reconnects:
                        raise ConnectionError("NATS 已重连, 重新订阅")
                pulling.result()
            finally:
                if not pulling.done():
                    pulling.cancel()
                    await asyncio.wait({pulling}, timeout=10)
                with contextlib.suppress(Exception):
                    await pull.stop()

        return run

    def _reconnects(self) -> int:
        stats = getattr(getattr(self.js, "_nc", None), "stats", None) or {}
        return int(stats.get("reconnects", 0))

    async def stop(self) -> None:
        """Stop pulling; unacked messages are redelivered to another replica."""
        self._stopping = True
        await asyncio.gather(*(stop_task(task) for task in self._tasks))
        self._tasks.clear()

    async def _pull(self, sub: Subscription, pull: Puller) -> None:
        while not self._stopping:
            try:
                messages = await pull.take()
            except nats.js.errors.APIError:
                raise  # the consumer is gone or refuses: the run ends, a restart subscribes
            except (nats.errors.Error, OSError) as exc:
                log.warning("consumer %s pull failed: %s", sub.durable, str(exc) or repr(exc))
                await asyncio.sleep(1)
                continue
            if messages:
                await self.apply_batch(sub, messages)

    async def apply_batch(self, sub: Subscription, messages: Sequence[Msg]) -> None:
        """Apply a fetched batch: one compound's events one after another in stream order (its
        notice board shows them in the order they happened), different compounds concurrently.

        Order holds within one consumer and replica while nothing fails; a redelivered event
        (nak, crash) comes later, and the inbox still makes each event count once.
        """
        lanes: dict[object, list[tuple[Msg, CloudEvent | None]]] = {}
        for msg in messages:
            event = _decoded(msg)
            lane: object = event.compoundid if event is not None else None
            if lane is None:
                # applied together in one transaction, in stream order; else on its own
                lane = _NO_COMPOUND if sub.batch else object()
            lanes.setdefault(lane, []).append((msg, event))
        await asyncio.gather(*(self._apply_in_order(sub, lane) for lane in lanes.values()))

    async def _apply_in_order(self, sub: Subscription,
                              lane: Sequence[tuple[Msg, CloudEvent | None]]) -> None:
        # a lane holds a pooled connection while it applies, so only so many go at once; an
        # effect subscription holds none while its effect waits (apply_effect): all go at once
        async with self._lanes if sub.effect is None else contextlib.nullcontext():
            if sub.batch and len(lane) > 1 and await self._apply_together(sub, lane):
                return
            for msg, event in lane:
                await self.handle(sub, msg, event)

    async def _apply_together(self, sub: Subscription,
                              lane: Sequence[tuple[Msg, CloudEvent | None]]) -> bool:
        """A lane's events and their inbox rows in ONE transaction, in order, then acked.
        False (nothing written) when one does not decode or its handler fails: the caller then
        applies them one by one, so one bad event neither holds back nor drops the others."""
        events = [event for _, event in lane if event is not None]
        if len(events) < len(lane):
            return False
        applied: set[str] = set()
        try:
            async with transaction(self.pool) as conn:
                fresh = {str(r["event_id"]) for r in await conn.fetch(
                    "INSERT INTO inbox (consumer, event_id, event_type) SELECT $1, id::uuid, kind"
                    " FROM unnest($2::text[], $3::text[]) AS e (id, kind)"
                    " ON CONFLICT DO NOTHING RETURNING event_id", sub.durable,
                    [e.id for e in events], [e.type for e in events])}  # PG parses the ids
                for event in events:
                    if event.id in fresh and event.id not in applied:
                        await sub.handler(conn, event)
                        applied.add(event.id)
        except Exception as exc:  # every event gets its own try in handle()
            log.warning("consumer %s: batch of %d rolled back, one by one now: %r",
                        sub.durable, len(lane), exc)
            return False
        self.applied[sub.durable] += len(applied)
        outcomes = Counter((e.type, "applied" if e.id in applied else "duplicate") for e in events)
        for (kind, outcome), count in outcomes.items():
            metrics.EVENTS_CONSUMED.labels(sub.durable, kind, outcome).inc(count)
        for msg, _ in lane:
            await msg.ack()
        return True

    async def handle(self, sub: Subscription, msg: Msg, event: CloudEvent | None = None) -> None:
        """Apply one message once: handler writes + inbox row in one transaction, then ack.
        `event` is the message already decoded, if it was."""
        if event is None:
            try:
                event = decode(msg.data)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                await self._dead_letter(sub, msg, "undecodable", f"不是有效的 CloudEvent: {exc}")
                return
        try:
            applied = await apply_once(self.pool, sub, event)
        except Exception as exc:  # the handler's failure must not stop the consumer
            metrics.EVENTS_CONSUMED.labels(sub.durable, event.type, "failed").inc()
            log.exception("consumer %s failed on event %s", sub.durable, event.id)
            if msg.metadata.num_delivered >= self.max_deliver:
                await self._dead_letter(sub, msg, event.type, repr(exc))
            else:
                await msg.nak(delay=min(2 ** msg.metadata.num_delivered * 0.1, 5.0))
            return
        if applied:
            self.applied[sub.durable] += 1
        outcome = "applied" if applied else "duplicate"
        metrics.EVENTS_CONSUMED.labels(sub.durable, event.type, outcome).inc()
        await msg.ack()

    async def _dead_letter(self, sub: Subscription, msg: Msg, kind: str, error: str) -> None:
        await self.js.publish(
            f"{DEAD_LETTER_PREFIX}.{sub.durable}",
            msg.data,
            headers={"Linli-Error": error[:500], "Linli-Consumer": sub.durable},
        )
        metrics.EVENTS_DEAD_LETTERED.labels(sub.durable, kind).inc()
        await msg.term()


_NO_COMPOUND = object()


def _decoded(msg: Msg) -> CloudEvent | None:
    """The message's event, None when it is no valid CloudEvent (it goes to the dead letters)."""
    try:
        return decode(msg.data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


async def apply_once(pool: Pool, sub: Subscription, event: CloudEvent) -> bool:
    """Run the handler unless the inbox already has this event; False for a duplicate."""
    if sub.effect is not None:
        return await apply_effect(pool, sub, event)
    async with transaction(pool) as conn:
        fresh = await conn.fetchval(
            "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            sub.durable,
            uuid.UUID(event.id),
            event.type,
        )
        if not fresh:
            return False
        await sub.handler(conn, event)
    return True


async def apply_effect(pool: Pool, sub: Subscription, event: CloudEvent) -> bool:
    """Run an effect subscription's effect unless the inbox already has the event, then record
    it; False for a duplicate. No connection is held while the effect waits."""
    assert sub.effect is not None
    event_id = uuid.UUID(event.id)
    async with pool.acquire() as conn:
        if await conn.fetchval("SELECT true FROM inbox WHERE consumer = $1 AND event_id = $2",
                               sub.durable, event_id):
            return False
    await sub.effect(event)
    async with pool.acquire() as conn:
        fresh = await conn.fetchval(
            "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true", sub.durable, event_id, event.type)
    return bool(fresh)  # another replica recorded it meanwhile: it ran twice, harmlessly
