"""The live inbox: a Server-Sent Events stream per person, fed through NATS core subjects so
any replica serves anyone.

New notifications and notice-board posts are claimed by one replica (FOR UPDATE SKIP LOCKED on
`pushed_at`) and published to `notify_live.person.<person>` or `notify_live.compound.<id>`;
every stream subscribes to its person's and compounds' subjects. The SSE event id is the row's
position in one sequence, so a reconnect with Last-Event-ID replays what came after it from
the database. Publishing happens before the claim commits: a push may repeat, never be lost,
and each stream drops what it has already sent (ids only grow).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from linli import problems
from linli.app import LOOPS
from linli.bus import stop_task
from linli.db import Pool, transaction
from linli.http import NATS_CLIENT, POOL, SETTINGS
from services.notify import store
from services.notify.keys import LIVE, STREAMS
from services.notify.metrics import SSE_OPEN
from services.notify.service import to_notice, to_notification

log = logging.getLogger("linli.notify.live")
CHANNEL = "linli_notify_live"
SUBJECT = "notify_live"  # outside the event stream's `linli.>`: core NATS, nothing stored
REPLAY_LIMIT = 500  # a longer absence reloads the inbox instead (the page sees `replay` cut)
_SAFE = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass(frozen=True)
class LiveConfig:
    batch: int = 200
    idle_seconds: float = 2.0
    ping_seconds: float = 15.0
    queue: int = 1000  # a stream this far behind is closed; the browser reconnects and replays
    push: bool = True  # False: this replica only serves streams (others claim and publish)


def person_subject(person_id: str) -> str:
    key = person_id if _SAFE.fullmatch(person_id) else hashlib.sha256(person_id.encode()).hexdigest()
    return f"{SUBJECT}.person.{key}"


def compound_subject(compound_id: uuid.UUID | str) -> str:
    return f"{SUBJECT}.compound.{compound_id}"


_encode = msgspec.json.Encoder().encode


def notification_event(row: store.Row, unread: int) -> dict[str, Any]:
    return {"event": "notification", "id": row["seq"],
            "data": {"notification": to_notification(row), "unread": unread}}


def notice_event(row: store.Row) -> dict[str, Any]:
    return {"event": "notice", "id": row["seq"], "data": {"notice": to_notice(row)}}


def unread_event(unread: int) -> dict[str, Any]:
    return {"event": "unread", "id": None, "data": {"unread": unread}}


class LivePusher:
    """Publishes each new notification and notice once (per claim) to NATS core."""

    def __init__(self, *, pool: Pool, nc: NATS, config: LiveConfig) -> None:
        self.pool, self.nc, self.config = pool, nc, config
        self.wake = asyncio.Event()
        self.stopping = False

    async def push_once(self) -> int:
        async with transaction(self.pool) as conn:
            people = await store.claim_unpushed_notifications(conn, limit=self.config.batch)
            boards = await store.claim_unpushed_notices(conn, limit=self.config.batch)
            for row in people:
                await self.nc.publish(person_subject(row["person_id"]),
                                      _encode(notification_event(row, row["unread"])))
            for row in boards:
                await self.nc.publish(compound_subject(row["compound_id"]), _encode(notice_event(row)))
            await self.nc.flush()  # published before the claim commits: repeated, never lost
        return len(people) + len(boards)

    async def run(self, dsn: str) -> None:
        """Push for ever: wake on NOTIFY from new rows, else look again every idle period."""
        listener = await asyncpg.connect(dsn)
        await listener.add_listener(CHANNEL, lambda *_: self.wake.set())
        try:
            while not self.stopping:
                if listener.is_closed():  # the supervisor (linli.loops) connects again
                    raise ConnectionError("live pusher lost its LISTEN connection")
                self.wake.clear()
                try:
                    while await self.push_once():
                        pass
                except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                    log.warning("live push pass failed, will retry: %s", exc)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.config.idle_seconds):
                        await self.wake.wait()
        finally:
            listener.terminate()


def live_context(config: LiveConfig) -> Callable[[web.Application], AsyncIterator[None]]:
    """Cleanup context running the pusher beside the service; open streams end at shutdown."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        app[STREAMS] = set()
        if not config.push:
            yield
            return
        pusher = LivePusher(pool=app[POOL], nc=app[NATS_CLIENT], config=config)
        dsn = app[SETTINGS].database_url
        task = app[LOOPS].spawn("notify-live", lambda: pusher.run(dsn))
        yield
        pusher.stopping = True
        pusher.wake.set()
        await stop_task(task)

    return context


async def close_streams(app: web.Application) -> None:
    """on_shutdown: end every open stream so the server need not wait for them."""
    for queue in list(app.get(STREAMS, ())):
        queue.put_nowait(None)


async def publish_unread(app: web.Application, person_id: str) -> None:
    """The person's unread count to their open streams (after reading in the inbox)."""
    async with app[POOL].acquire() as conn:
        unread = await store.unread_count(conn, person_id=person_id)
    await app[NATS_CLIENT].publish(person_subject(person_id), _encode(unread_event(unread)))


def last_event_id(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


async def _replay(app: web.Application, person_id: str, compounds: list[uuid.UUID],
                  after: int) -> list[dict[str, Any]]:
    async with app[POOL].acquire() as conn:
        rows = await store.live_since(conn, person_id=person_id, compound_ids=compounds,
                                      after=after, limit=REPLAY_LIMIT)
        mine = await store.notifications_by_id(
            conn, ids=[r["id"] for r in rows if r["event"] == "notification"])
        boards = await store.notices_by_id(conn, ids=[r["id"] for r in rows if r["event"] == "notice"])
        unread = await store.unread_count(conn, person_id=person_id)
    events = [notification_event(mine[r["id"]], unread) if r["event"] == "notification"
              else notice_event(boards[r["id"]]) for r in rows]
    return [*events, unread_event(unread)]


async def _send(resp: EventSourceResponse, event: dict[str, Any]) -> None:
    ident = None if event["id"] is None else str(event["id"])
    await resp.send(_encode(event["data"]).decode(), id=ident, event=event["event"])


async def stream(request: web.Request, person_id: str, compounds: list[uuid.UUID]) -> web.StreamResponse:
    """Subscribe first, then replay (or tell the unread count), then forward what arrives."""
    if "text/event-stream" not in request.headers.get("Accept", ""):
        raise problems.Problem(406, "not-acceptable", "格式不可用",
                               "实时通知须以 Accept: text/event-stream 请求 (浏览器的 EventSource)")
    config, nc = request.app[LIVE], request.app[NATS_CLIENT]
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=config.queue)

    async def arrived(msg: Msg) -> None:
        try:
            queue.put_nowait(msg.data)
        except asyncio.QueueFull:  # a stalled reader: end it, the reconnect replays
            queue.get_nowait()
            queue.put_nowait(None)

    subs = [await nc.subscribe(person_subject(person_id), cb=arrived)]
    subs += [await nc.subscribe(compound_subject(c), cb=arrived) for c in compounds]
    request.app[STREAMS].add(queue)
    SSE_OPEN.inc()
    try:
        async with sse_response(request, ping_interval=config.ping_seconds) as resp:
            after, seen = last_event_id(request), Seen()
            if after is None:
                await _send(resp, unread_event(await _unread(request.app, person_id)))
            else:
                for event in await _replay(request.app, person_id, compounds, after):
                    seen.add(event["id"])
                    await _send(resp, event)
            await _forward(resp, queue, seen, config.ping_seconds)
        return resp
    finally:
        SSE_OPEN.dec()
        request.app[STREAMS].discard(queue)
        for sub in subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


async def _unread(app: web.Application, person_id: str) -> int:
    async with app[POOL].acquire() as conn:
        return await store.unread_count(conn, person_id=person_id)


class Seen:
    """The ids a stream has sent lately: a repeated push is dropped, a late one is not
    (two replicas may publish positions 10 and 11 in either order)."""

    def __init__(self, size: int = 2000) -> None:
        self.ids: collections.deque[int] = collections.deque(maxlen=size)

    def add(self, ident: int | None) -> bool:
        """False when this id was sent already."""
        if ident is None:
            return True
        if ident in self.ids:
            return False
        self.ids.append(ident)
        return True


async def _forward(resp: EventSourceResponse, queue: asyncio.Queue[bytes | None], seen: Seen,
                   patience: float) -> None:
    """Forward until the reader leaves (the ping fails), the stream lags or the service stops."""
    while resp.is_connected():
        try:
            async with asyncio.timeout(patience):
                data = await queue.get()
        except TimeoutError:
            continue
        if data is None:
            return
        event = msgspec.json.decode(data)
        if not seen.add(event["id"]):
            continue  # replayed already, or pushed twice
        try:
            await _send(resp, event)
        except (ConnectionResetError, RuntimeError, TimeoutError):
            return
