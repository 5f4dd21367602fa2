"""NATS killed and restarted under a steady load of writes (issue 9): every write succeeds
while NATS is away (events wait in the outbox), and afterwards every event reaches the stream
exactly once and a durable consumer applies each once. Runs its own nats-server, so killing
it disturbs no other test."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import nats
import nats.errors
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from linli import bus, db, metrics
from linli.config import Settings
from linli.events import CloudEvent
from linli.stack import free_port, venv_bin, wait_for_port
from services.directory.events import COMPOUND_CREATED
from tests.conftest import TokenFactory, bearer
from tests.faults.conftest import ServiceProcess, service_env, until

WRITES = 240
WRITERS = 8


class OwnNats:
    """A JetStream server on its own port and store, killable and restartable in place."""

    def __init__(self, store: Path) -> None:
        self.store, self.port = store, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(venv_bin("nats-server")), "-js", "-a", "127.0.0.1", "-p", str(self.port),
             "-sd", str(self.store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        wait_for_port(self.port, "NATS", self.process)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def own_nats(scratch: Path) -> Iterator[OwnNats]:
    server = OwnNats(scratch / "nats")
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill()


async def write_load(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
                     done: list[str]) -> list[int]:
    """WRITERS concurrent clients creating compounds until WRITES have been sent."""
    statuses: list[int] = []
    queue = iter(range(WRITES))

    async def writer() -> None:
        for i in queue:
            body = {"name": f"压测小区{i}", "community": "c", "street": "s"}
            async with session.post(url, json=body, headers=headers) as r:
                statuses.append(r.status)
                if r.status == 201:
                    done.append((await r.json())["id"])
    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    return statuses


async def in_stream(nats_url: str, ids: set[str]) -> Counter[str]:
    """How often each of `ids` is in the stream as compound.created."""
    nc = await nats.connect(bus.servers(nats_url))  # one URL, or a cluster's
    seen: Counter[str] = Counter()
    try:
        sub = await nc.jetstream().subscribe(
            COMPOUND_CREATED.name, ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL))
        while True:
            try:
                message = await sub.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                break
            subject = json.loads(message.data)["subject"]
            if subject in ids:
                seen[subject] += 1
        await sub.unsubscribe()
    finally:
        await nc.close()
    return seen


async def test_nats_killed_and_restarted_under_load_loses_and_repeats_nothing(
    settings: Settings, own_nats: OwnNats, applied_log: db.Pool, scratch: Path,
    token: TokenFactory,
) -> None:
    env = {**service_env(settings, scratch), "LINLI_NATS_URL": own_nats.url}
    directory = ServiceProcess("directory", env, scratch / "directory.log")
    directory.start()
    nc = await bus.connect(own_nats.url, name="fault-test-consumer")

    async def apply(conn: db.Connection, event: CloudEvent) -> None:
        await conn.execute("INSERT INTO applied (compound_id) VALUES ($1)", event.subject)

    durable = f"fault-{uuid.uuid4().hex[:8]}"
    consumers = bus.ConsumerGroup(
        pool=applied_log, js=nc.jetstream(), ack_wait=5.0,
        subscriptions=[bus.Subscription(durable, COMPOUND_CREATED, apply)])
    await consumers.start()
    created: list[str] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            load = asyncio.create_task(write_load(
                session, directory.url + "/v1/compounds",
                bearer(token(roles=["street_office"], compounds=["*"])), created))
            await until("a first third written", _at_least(created, WRITES // 3))
            own_nats.kill()
            await until("a second third written with NATS away", _at_least(created, 2 * WRITES // 3))
            own_nats.start()
            statuses = await load
        assert statuses == [201] * WRITES  # no write failed because NATS was away
        ids = set(created)

        async def all_applied() -> bool:
            async with applied_log.acquire() as conn:
                return bool(await conn.fetchval(
                    "SELECT count(DISTINCT compound_id) FROM applied WHERE compound_id = ANY($1)",
                    list(ids)) == WRITES)
        await until("every event applied by the consumer", all_applied, within=120)
        async with applied_log.acquire() as conn:
            rows = await conn.fetch("SELECT compound_id, count(*) AS n FROM applied"
                                    " GROUP BY compound_id HAVING count(*) > 1")
        assert rows == []  # applied once each
        assert await in_stream(own_nats.url, ids) == Counter({i: 1 for i in ids})  # once each
        # the consumer subscribed afresh after the reconnect (nats-io/nats.py#504)
        assert metrics.LOOP_RESTARTS.labels(f"consumer {durable}")._value.get() >= 1
    finally:
        await consumers.stop()
        await nc.close()
        directory.stop()


def _at_least(items: list[str], n: int) -> Callable[[], asyncio.Future[bool]]:
    async def probe() -> bool:
        return len(items) >= n
    return probe  # type: ignore[return-value]
