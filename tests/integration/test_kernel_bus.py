"""The outbox, the relay and durable consumers against the real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import msgspec
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NoStreamResponseError

from linli import bus, db, metrics
from linli.config import Settings
from linli.events import CloudEvent, EventType
from linli.jetstream import Puller
from linli.relay import OutboxRelay
from tests.conftest import eventually
from tests.scratch_bus import fresh, scratch_bus


class NoteWritten(msgspec.Struct):
    note_id: uuid.UUID
    text: str


class Crash(Exception):
    """Stands for the process dying at that exact point."""


@dataclass
class Kernel:
    pool: db.Pool
    schema: str
    nc: NATS
    js: JetStreamContext
    note: EventType[NoteWritten]
    dsn: str

    def relay(self, **kw: object) -> OutboxRelay:
        return OutboxRelay(pool=self.pool, js=self.js, dsn=self.dsn, schema=self.schema, **kw)  # type: ignore[arg-type]

    async def write_note(self, text: str, compound_id: str | None = None,
                         pool: db.Pool | None = None) -> CloudEvent:
        """A business row and its event in one transaction (on the kernel's pool unless told)."""
        note_id = uuid.uuid4()
        async with db.transaction(pool or self.pool) as conn:
            await conn.execute("INSERT INTO notes (id, text) VALUES ($1, $2)", note_id, text)
            return await bus.emit(conn, self.note, subject=str(note_id), compound_id=compound_id,
                                  data=NoteWritten(note_id=note_id, text=text))

    async def stream_messages(self) -> list[CloudEvent]:
        """Every message of this test's event type in the stream (an ephemeral reader)."""
        pull = await self.js.pull_subscribe(self.note.name, stream=bus.STREAM)
        found: list[CloudEvent] = []
        while True:
            try:
                batch = await pull.fetch(batch=500, timeout=1)
            except TimeoutError:
                break
            for msg in batch:
                found.append(bus.decode(msg.data))
                await msg.ack()
        await pull.unsubscribe()
        return found

    async def notes_applied(self) -> int:
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM applied"))


@pytest.fixture
async def kernel(settings: Settings) -> AsyncIterator[Kernel]:
    async with scratch_bus(settings, "k_", name="kernel-test") as k:
        async with k.pool.acquire() as conn:
            await conn.execute("CREATE TABLE notes (id uuid PRIMARY KEY, text text NOT NULL)")
            await conn.execute("CREATE TABLE applied (note_id uuid NOT NULL, text text NOT NULL)")
        note = EventType(name=f"linli.{fresh('t')}.note.written", data=NoteWritten,
                         description="测试事件")
        yield Kernel(pool=k.pool, schema=k.schema, nc=k.nc, js=k.js, note=note,
                     dsn=settings.database_url)


async def test_relay_killed_between_publish_and_mark_publishes_once(kernel: Kernel) -> None:
    event = await kernel.write_note("顶楼太热")

    async def die() -> None:
        raise Crash

    with pytest.raises(Crash):
        await kernel.relay().relay_once(after_publish=die)
    async with kernel.pool.acquire() as conn:
        assert await conn.fetchval("SELECT sent_at FROM outbox WHERE id = $1", uuid.UUID(event.id)) is None
    assert await kernel.relay().drain() == 1  # a new relay finds the row and sends it again
    messages = await kernel.stream_messages()
    assert [m.id for m in messages] == [event.id]  # JetStream dropped the duplicate by Nats-Msg-Id
    assert messages[0].data["text"] == "顶楼太热"
    assert await kernel.relay().drain() == 0


async def test_two_relays_at_once_publish_each_event_once(kernel: Kernel) -> None:
    written = {(await kernel.write_note(f"第{i}条")).id for i in range(300)}
    first, second = kernel.relay(batch=20), kernel.relay(batch=20)
    sent = await asyncio.gather(first.drain(), second.drain())
    assert sum(sent) == 300
    assert all(n > 0 for n in sent), "both relays should have claimed work (SKIP LOCKED)"
    messages = await kernel.stream_messages()
    assert sorted(m.id for m in messages) == sorted(written)


async def test_batches_in_flight_together_reach_the_stream_in_outbox_order(kernel: Kernel) -> None:
    """The relay claims the next batch while the PubAcks of the one before are still coming;
    the stream still gets the events in the order they were written."""
    written = [(await kernel.write_note(f"第{i}条")).id for i in range(60)]
    assert await kernel.relay(batch=10, in_flight=3).drain() == 60
    assert [m.id for m in await kernel.stream_messages()] == written


async def test_an_event_no_stream_takes_stays_in_the_outbox(kernel: Kernel) -> None:
    """JetStream refusing a publish (no stream for its subject) fails the relay's pass: the row
    stays unsent, to be sent once the stream is there."""
    event = kernel.note.new(subject="s", data=NoteWritten(note_id=uuid.uuid4(), text="无处可去"))
    async with db.transaction(kernel.pool) as conn:
        await conn.execute("INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3)",
                           uuid.UUID(event.id), "nowhere." + fresh("s"), bus.encode(event))
    with pytest.raises(NoStreamResponseError):
        await kernel.relay().relay_once()
    async with kernel.pool.acquire() as conn:
        assert await conn.fetchval("SELECT sent_at FROM outbox WHERE id = $1",
                                   uuid.UUID(event.id)) is None


def relay_is_idle(schema: str) -> bool:
    """The relay finished a pass (it records the backlog last) and waits for a wake-up."""
    return any(sample.labels.get("service") == schema
               for family in metrics.OUTBOX_BACKLOG.collect() for sample in family.samples)


def sent(kernel: Kernel, event: CloudEvent) -> Callable[[], Awaitable[bool]]:
    async def marked() -> bool:
        async with kernel.pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT sent_at FROM outbox WHERE id = $1",
                                            uuid.UUID(event.id)))
    return marked


async def test_relay_wakes_on_its_own_pools_writes_and_on_notify_not_polling(
        kernel: Kernel) -> None:
    relay = kernel.relay(idle_check_seconds=120)  # a poll would take two minutes
    heard: list[str] = []
    listener = await asyncpg.connect(kernel.dsn)
    channel = bus.OUTBOX_CHANNEL_PREFIX + kernel.schema
    await listener.add_listener(channel, lambda *args: heard.append(args[-1]))
    # another replica's pool on the same schema: its relay runs elsewhere, so it notifies
    elsewhere = await db.create_pool(kernel.dsn, schema=kernel.schema, max_size=1)
    task = asyncio.create_task(relay.run())
    try:
        # LISTEN precedes the first pass; once the pass is over only a wake-up sends more
        await eventually(lambda: relay_is_idle(kernel.schema))
        # well short of the two-minute safety pass: woken when the connection went back
        await eventually(sent(kernel, await kernel.write_note("电梯坏了")), within=60)
        await listener.execute(f"SELECT pg_notify('{channel}', 'marker')")
        await eventually(lambda: "marker" in heard)
        # notifications arrive in commit order: the write before the marker sent none
        assert heard == ["marker"]
        await eventually(sent(kernel, await kernel.write_note("水管漏水", pool=elsewhere)),
                         within=60)  # woken by its NOTIFY
        assert heard == ["marker", ""]
    finally:
        await relay.stop(task)
        await elsewhere.close()
        await listener.close()
    assert task.done(), "stopping the relay must end its loop"
    assert not kernel.pool.relay_wakes, "a stopped relay is woken by nobody"  # type: ignore[attr-defined]


async def test_a_connection_closed_after_writing_an_event_still_wakes_the_relay(
        kernel: Kernel) -> None:
    relay = kernel.relay(idle_check_seconds=120)  # a poll would take two minutes
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: relay_is_idle(kernel.schema))
        note_id = uuid.uuid4()
        event = kernel.note.new(subject=str(note_id), data=NoteWritten(note_id=note_id, text="停电"))
        async with kernel.pool.acquire() as conn:
            await bus.write_event(conn, event)  # committed on its own, without a NOTIFY
            conn.terminate()  # broken after COMMIT: the pool closes it instead of resetting it
        await eventually(sent(kernel, event), within=60)
    finally:
        await relay.stop(task)


def subscription(kernel: Kernel, durable: str, *, fail: bool = False) -> bus.Subscription:
    async def apply(conn: db.Connection, event: CloudEvent) -> None:
        data = kernel.note.parse(event)
        await conn.execute("INSERT INTO applied (note_id, text) VALUES ($1, $2)", data.note_id, data.text)
        if fail:
            raise RuntimeError("处理失败")

    return bus.Subscription(durable=durable, event=kernel.note, handler=apply)


async def test_consumer_crash_after_commit_before_ack_applies_once(kernel: Kernel) -> None:
    await kernel.write_note("水泵电费")
    await kernel.relay().drain()
    sub = subscription(kernel, fresh("c"))
    group = bus.ConsumerGroup(pool=kernel.pool, js=kernel.js, subscriptions=[sub], ack_wait=1.0)
    await group.start()
    await group.stop()  # the durable consumer now exists
    pull = await kernel.js.pull_subscribe_bind(sub.durable, stream=bus.STREAM)
    (msg,) = await pull.fetch(batch=1, timeout=5)
    assert await bus.apply_once(kernel.pool, sub, bus.decode(msg.data))
    # …and the process dies here, before msg.ack(): JetStream redelivers after ack_wait.
    await pull.unsubscribe()
    duplicates = metrics.EVENTS_CONSUMED.labels(sub.durable, kernel.note.name, "duplicate")
    await group.start()
    try:
        await eventually(lambda: duplicates._value.get() >= 1)
    finally:
        await group.stop()
    assert duplicates._value.get() == 1
    assert await kernel.notes_applied() == 1
    info = await kernel.js.consumer_info(bus.STREAM, sub.durable)
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_one_compounds_events_apply_in_the_order_they_happened(kernel: Kernel) -> None:
    """A fetched batch mixes two compounds: each compound's events apply in stream order even
    when an earlier one takes longer (a notice board shows them in the order they happened)."""
    east, west = str(uuid.uuid4()), str(uuid.uuid4())
    for n in range(6):
        for compound in (east, west):
            await kernel.write_note(str(n), compound_id=compound)
    await kernel.relay().drain()  # all twelve wait in the stream before the consumer starts
    applied: dict[str | None, list[int]] = {east: [], west: []}

    async def slower_when_earlier(conn: db.Connection, event: CloudEvent) -> None:
        n = int(kernel.note.parse(event).text)
        await asyncio.sleep(0.05 * (6 - n))  # applied side by side, later ones would finish first
        applied[event.compoundid].append(n)

    sub = bus.Subscription(durable=fresh("o"), event=kernel.note, handler=slower_when_earlier)
    group = bus.ConsumerGroup(pool=kernel.pool, js=kernel.js, subscriptions=[sub])
    await group.start()
    try:
        await eventually(lambda: group.applied[sub.durable] == 12)
    finally:
        await group.stop()
    assert applied == {east: list(range(6)), west: list(range(6))}


async def test_a_batched_lane_applies_in_order_once_and_one_bad_event_holds_back_no_other(
        kernel: Kernel) -> None:
    """A consumer whose handler only writes through its connection applies a fetched lane in
    one transaction; when one event fails there, the lane is rolled back and applied one by one:
    the others count once, in stream order, and the bad one alone goes to the dead letters."""
    compound = str(uuid.uuid4())
    for n in range(8):
        await kernel.write_note("坏" if n == 3 else str(n), compound_id=compound)
    await kernel.relay().drain()  # all eight wait in the stream: one fetch, one lane
    order: list[int] = []

    async def apply(conn: db.Connection, event: CloudEvent) -> None:
        note = kernel.note.parse(event)
        if note.text == "坏":
            raise ValueError("处理失败")
        await conn.execute("INSERT INTO applied (note_id, text) VALUES ($1, $2)", note.note_id,
                           note.text)
        order.append(int(note.text))  # also when rolled back: the retry shows as a repeat

    sub = bus.Subscription(durable=fresh("b"), event=kernel.note, handler=apply, batch=True)
    dead = metrics.EVENTS_DEAD_LETTERED.labels(sub.durable, kernel.note.name)
    group = bus.ConsumerGroup(pool=kernel.pool, js=kernel.js, subscriptions=[sub], max_deliver=2,
                              ack_wait=2.0)
    await group.start()
    try:
        await eventually(lambda: dead._value.get() == 1 and group.applied[sub.durable] == 7)
    finally:
        await group.stop()
    assert await kernel.notes_applied() == 7  # nothing of the rolled-back lane stayed
    async with kernel.pool.acquire() as conn:
        rows = await conn.fetch("SELECT text FROM applied")
    assert sorted(int(r["text"]) for r in rows) == [0, 1, 2, 4, 5, 6, 7]
    committed = [n for n in order if n != 3]
    assert committed[-7:] == [0, 1, 2, 4, 5, 6, 7]  # one by one, in stream order


async def test_failing_handler_goes_to_dead_letter_after_bounded_redelivery(kernel: Kernel) -> None:
    event = await kernel.write_note("无法处理")
    await kernel.relay().drain()
    sub = subscription(kernel, fresh("d"), fail=True)
    dead = metrics.EVENTS_DEAD_LETTERED.labels(sub.durable, kernel.note.name)
    letters = await kernel.js.pull_subscribe(f"{bus.DEAD_LETTER_PREFIX}.{sub.durable}",
                                             stream=bus.DEAD_LETTER_STREAM)
    group = bus.ConsumerGroup(pool=kernel.pool, js=kernel.js, subscriptions=[sub], max_deliver=3,
                              ack_wait=2.0)
    await group.start()
    try:
        (letter,) = await letters.fetch(batch=1, timeout=15)
    finally:
        await group.stop()
    assert bus.decode(letter.data).id == event.id
    assert letter.headers and "处理失败" in letter.headers["Linli-Error"]
    assert dead._value.get() == 1
    assert await kernel.notes_applied() == 0  # every failed attempt rolled back


async def test_migrations_twice_change_nothing_and_detect_edits(settings: Settings, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "0001_first.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    schema = fresh("m_")
    pool = await db.create_pool(settings.database_url, schema=schema)
    try:
        async def run() -> list[str]:
            async with pool.acquire() as conn:
                return await db.migrate(conn, schema=schema, migrations=folder)

        first, second = await asyncio.gather(run(), run())  # two replicas starting at once
        assert sorted([first, second], key=len) == [[], ["linli/0001_kernel.sql", "linli/0002_pruning.sql",
                                                   "0001_first.sql"]]
        assert await run() == []
        (folder / "0001_first.sql").write_text("CREATE TABLE things (id bigint PRIMARY KEY);")
        with pytest.raises(db.MigrationError):
            await run()
    finally:
        await pool.close()


async def test_write_event_once_keeps_the_first_write_of_an_id(kernel: Kernel) -> None:
    event = kernel.note.new(subject="n1", data=NoteWritten(note_id=uuid.uuid4(), text="重试"))
    async with db.transaction(kernel.pool) as conn:
        assert await bus.write_event_once(conn, event) is True
    async with db.transaction(kernel.pool) as conn:  # a retried activity writes it again
        assert await bus.write_event_once(conn, event) is False
    await kernel.relay().drain()
    assert [m.id for m in await kernel.stream_messages()] == [event.id]


async def test_a_stopped_puller_hands_back_what_it_fetched_ahead(kernel: Kernel) -> None:
    """The puller asks for the next batch while the caller applies the last; when it stops
    (a deploy, a reconnect) those messages come again at once, not after the ack wait, and
    none is lost."""
    for n in range(4):
        await kernel.write_note(f"第{n}条")
    await kernel.relay().drain()
    durable = fresh("ahead")
    await kernel.js.add_consumer(bus.STREAM, ConsumerConfig(
        name=durable, durable_name=durable, filter_subject=kernel.note.name,
        ack_policy=AckPolicy.EXPLICIT, ack_wait=3600))  # an hour: only a hand-back is quick
    first = Puller(kernel.nc, stream=bus.STREAM, durable=durable, batch=2)
    await first.start()
    taken = await first.take()
    for msg in taken:
        await msg.ack()
    await eventually(lambda: len(first.ready) == 4 - len(taken))  # fetched ahead, not taken
    await first.stop()
    second = Puller(kernel.nc, stream=bus.STREAM, durable=durable, batch=2)
    await second.start()
    again: list[str] = []

    async def taken_again() -> bool:
        again.extend(bus.decode(msg.data).id for msg in await second.take())
        return len(again) == 4 - len(taken)

    await eventually(taken_again)
    await second.stop()
    seen = {bus.decode(msg.data).id for msg in taken} | set(again)
    assert len(seen) == 4


async def test_many_events_written_at_once_go_out_in_their_order_and_notify_once(
        kernel: Kernel) -> None:
    """write_events (a bulk use case's events in one statement): the relay sends by
    (created_at, id), so the rows must keep the order given; the relay elsewhere is woken by
    one NOTIFY at commit, and nothing written wakes nobody."""
    heard: list[str] = []
    listener = await asyncpg.connect(kernel.dsn)
    channel = bus.OUTBOX_CHANNEL_PREFIX + kernel.schema
    await listener.add_listener(channel, lambda *args: heard.append(args[-1]))
    elsewhere = await db.create_pool(kernel.dsn, schema=kernel.schema, max_size=1)
    try:
        async with db.transaction(elsewhere) as conn:
            await bus.write_events(conn, [])
        events = [kernel.note.new(subject=str(uuid.uuid4()),
                                  data=NoteWritten(note_id=uuid.uuid4(), text=f"第{i}条"))
                  for i in range(2000)]
        async with db.transaction(elsewhere) as conn:
            await bus.write_events(conn, events)
        async with kernel.pool.acquire() as conn:
            rows = await conn.fetch("SELECT id FROM outbox WHERE id = ANY($1::uuid[])"
                                    " ORDER BY created_at, id", [uuid.UUID(e.id) for e in events])
        assert [str(r["id"]) for r in rows] == [e.id for e in events]
        await listener.execute(f"SELECT pg_notify('{channel}', 'marker')")
        await eventually(lambda: "marker" in heard)
        assert heard == ["", "marker"]  # in commit order: the empty write sent none
    finally:
        await elsewhere.close()
        await listener.close()


async def test_events_written_in_chunks_of_one_transaction_go_out_in_their_order(
        kernel: Kernel) -> None:
    """EventsInOrder (a bulk use case writing its events a chunk a statement): every row is the
    FIRST statement's start plus its position in the whole run, one microsecond apart, so no
    later statement's start (nor a clock set back) can put a chunk before or among the rows of
    the one before; the relay sends them as given."""
    events = [kernel.note.new(subject=str(uuid.uuid4()),
                              data=NoteWritten(note_id=uuid.uuid4(), text=f"第{i}条"))
              for i in range(7)]
    async with db.transaction(kernel.pool) as conn:
        outbox = bus.EventsInOrder(conn)
        for chunk in (events[:3], [], events[3:6], events[6:]):
            await outbox.write(chunk)
    async with kernel.pool.acquire() as conn:
        rows = await conn.fetch("SELECT id, payload, created_at FROM outbox"
                                " WHERE id = ANY($1::uuid[]) ORDER BY created_at, id",
                                [uuid.UUID(e.id) for e in events])
    assert [str(r["id"]) for r in rows] == [e.id for e in events]
    assert [bytes(r["payload"]) for r in rows] == [bus.encode(e) for e in events]
    first = rows[0]["created_at"]
    assert [r["created_at"] - first for r in rows] == [
        dt.timedelta(microseconds=i) for i in range(len(events))]


async def test_events_written_at_once_again_are_written_once(kernel: Kernel) -> None:
    """write_events(once=True) (a workflow's events retried with their fixed ids): a second
    write after a first that got only some of them in adds what is missing, in order, and
    leaves what is there alone."""
    events = [kernel.note.new(subject=str(uuid.uuid4()),
                              data=NoteWritten(note_id=uuid.uuid4(), text=f"第{i}条"))
              for i in range(3)]
    async with db.transaction(kernel.pool) as conn:
        await bus.write_events(conn, events[:1], once=True)
    async with db.transaction(kernel.pool) as conn:
        await bus.write_events(conn, events, once=True)
    async with kernel.pool.acquire() as conn:
        rows = await conn.fetch("SELECT id, payload FROM outbox WHERE id = ANY($1::uuid[])"
                                " ORDER BY created_at, id", [uuid.UUID(e.id) for e in events])
    assert [str(r["id"]) for r in rows] == [e.id for e in events]
    assert [bytes(r["payload"]) for r in rows] == [bus.encode(e) for e in events]
