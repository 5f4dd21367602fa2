"""Shared helpers of the notify tests: events published the way services publish them (the
outbox of a scratch schema and a relay), and notify apps on their own durable consumers."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from linli import bus, db
from linli.config import Settings
from linli.events import CloudEvent, EventType, encode
from linli.relay import OutboxRelay
from services.directory.app import create_app as directory_app
from services.notify.app import PREFIX, create_app
from services.notify.consumers import ROUTING
from services.notify.live import LiveConfig
from services.notify.sender import SenderConfig
from services.notify.signals import ROUTING as SIGNALS
from tests.conftest import AppFactory, TokenFactory, bearer
from tests.conftest import eventually as eventually  # the notify tests import it from here
from tests.integration.test_meetings_support import Compound, new_compound

SCRATCH = "notify_test_events"
# fast retries, but a patient timeout: on a busy machine a slow answer is not a failed attempt
# (tests assert attempts == 1); the test receivers listen on 127.0.0.1
FAST = SenderConfig(max_attempts=3, retry_schedule=(0.2, 0.4), timeout_seconds=10, idle_seconds=0.2,
                    allow_internal=True)
LIVE_FAST = LiveConfig(idle_seconds=0.2, ping_seconds=1.0)


@dataclass
class Publisher:
    """Writes events to a scratch schema's outbox with linli.bus.emit and relays them."""

    pool: db.Pool
    js: JetStreamContext
    relay: OutboxRelay

    async def emit(self, kind: EventType[Any], data: msgspec.Struct, *, subject: str,
                   compound_id: str) -> CloudEvent:
        async with db.transaction(self.pool) as conn:
            event = await bus.emit(conn, kind, subject=subject, data=data, compound_id=compound_id)
        await self.relay.drain()
        return event

    async def redeliver(self, event: CloudEvent) -> None:
        """The same event again (another message id), as after a crash before the ack."""
        await self.js.publish(event.type, encode(event), headers={"Nats-Msg-Id": str(uuid.uuid4())})


@pytest.fixture
async def nats_js(settings: Settings) -> AsyncIterator[JetStreamContext]:
    nc: NATS = await bus.connect(settings.nats_url, name="test-notify")
    js = nc.jetstream()
    await bus.ensure_streams(js)
    yield js
    await nc.close()


@pytest.fixture
async def publisher(settings: Settings, nats_js: JetStreamContext) -> AsyncIterator[Publisher]:
    pool = await db.create_pool(settings.database_url, schema=SCRATCH, max_size=2)
    async with pool.acquire() as conn:
        await db.migrate(conn, schema=SCRATCH, migrations=None)
    relay = OutboxRelay(pool=pool, js=nats_js, dsn=settings.database_url, schema=SCRATCH)
    yield Publisher(pool, nats_js, relay)
    await pool.close()


@dataclass
class Receiver:
    """A local webhook endpoint answering `status`, recording what it got."""

    server: TestServer
    status: int = 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/hook"))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    box: list[Receiver] = []

    async def hook(request: web.Request) -> web.Response:
        box[0].received.append((dict(request.headers), await request.read()))
        return web.json_response({"ok": True}, status=box[0].status)

    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    box.append(Receiver(server))
    yield box[0]
    await server.close()


NotifyFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def start_notify(serve: AppFactory, settings: Settings,
                       nats_js: JetStreamContext) -> AsyncIterator[NotifyFactory]:
    """start_notify(sender=…, max_deliver=…) → notify on durables of its own that see only new
    events (the shared stream's history is not replayed); they are removed afterwards."""
    prefixes: list[str] = []

    async def start(*, sender: SenderConfig = FAST, max_deliver: int | None = None,
                    replica_of: TestClient | None = None, live: LiveConfig = LIVE_FAST) -> TestClient:
        """A new notify, or with `replica_of` a second replica sharing its durables."""
        if replica_of is not None:
            prefix = replica_of.app[PREFIX]
            return await serve(lambda _: create_app(settings, sender=sender, prefix=prefix,
                                                    live=live))
        prefix = f"test-notify-{uuid.uuid4().hex[:10]}"
        prefixes.append(prefix)
        for name, kind, _ in [*ROUTING, *SIGNALS]:
            await nats_js.add_consumer(bus.STREAM, ConsumerConfig(
                durable_name=f"{prefix}-{name}", filter_subject=kind.name,
                ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.NEW,
                ack_wait=settings.ack_wait_seconds, max_ack_pending=1000))
        overrides = settings if max_deliver is None else settings.with_overrides(
            max_deliver=max_deliver)
        factory = functools.partial(create_app, sender=sender, prefix=prefix, live=live)
        return await serve(lambda _: factory(overrides))

    yield start
    for prefix in prefixes:
        for name, _, _ in [*ROUTING, *SIGNALS]:
            await nats_js.delete_consumer(bus.STREAM, f"{prefix}-{name}")


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


@dataclass
class Person:
    """A person with a token in one compound."""

    id: str
    headers: dict[str, str]


@dataclass
class People:
    token: TokenFactory
    made: dict[str, Person] = field(default_factory=dict)

    def __call__(self, cid: str, *roles: str, person: str | None = None) -> Person:
        pid = person or str(uuid.uuid4())
        return Person(pid, bearer(self.token(roles=list(roles or ["resident"]), compounds=[cid],
                                             person=pid)))


@pytest.fixture
async def compound(serve: AppFactory, settings: Settings, token: TokenFactory) -> Compound:
    """A compound registered in the real directory (served where notify asks it): messages
    to `person_ids` reach only people who belong to it."""
    directory = await serve(directory_app, port=settings.port("directory"))
    return await new_compound(directory, token)


async def resident(c: Compound, people: People, name: str, *roles: str) -> Person:
    """A person who owns a flat of the compound in the directory, with a token there."""
    await c.unit(f"1{len(c.units) + 1:02d}", "80.00", name)
    return people(c.id, *roles, person=c.people[name])


async def inbox(notify: TestClient, who: Person, query: str = "") -> list[dict[str, Any]]:
    page = await ok(await notify.get(f"/v1/me/inbox{query}", headers=who.headers))
    return list(page["items"])


async def notices(notify: TestClient, cid: str, who: Person) -> list[dict[str, Any]]:
    page = await ok(await notify.get(f"/v1/compounds/{cid}/notices", headers=who.headers))
    return list(page["items"])
