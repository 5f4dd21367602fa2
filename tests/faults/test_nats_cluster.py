"""The production topology on loopback (issue 9): three nats-server processes in one cluster,
the LINLI stream replicated three ways, a real service writing through the cluster (its
LINLI_NATS_URL names all three) and a durable consumer applying what it publishes. The node
leading the stream is killed mid-stream: every write still succeeds, and every event is in the
stream exactly once and applied exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import nats
import nats.errors
import pytest

from linli import bus, db
from linli.config import Settings
from linli.events import CloudEvent
from linli.stack import free_port, venv_bin, wait_for_port
from services.directory.events import COMPOUND_CREATED
from tests.conftest import TokenFactory, bearer
from tests.faults.conftest import ServiceProcess, service_env, until
from tests.faults.test_nats_restart import WRITES, _at_least, in_stream, write_load

CLUSTER = "linli"


@dataclass
class Node:
    """One nats-server of the cluster, with its own client port, route port and store."""

    name: str
    store: Path
    port: int = field(default_factory=free_port)
    route_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, routes: list[str]) -> None:
        self.process = subprocess.Popen(
            [str(venv_bin("nats-server")), "-js", "-a", "127.0.0.1", "-p", str(self.port),
             "-sd", str(self.store), "-n", self.name, "--cluster_name", CLUSTER,
             "--cluster", f"nats://127.0.0.1:{self.route_port}", "--routes", ",".join(routes)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL, as when the node's machine dies."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def cluster(scratch: Path) -> Iterator[dict[str, Node]]:
    nodes = {name: Node(name, scratch / f"nats-{name}") for name in ("n1", "n2", "n3")}
    for node in nodes.values():
        node.start([f"nats://127.0.0.1:{other.route_port}" for other in nodes.values()
                    if other is not node])
    try:
        for node in nodes.values():
            assert node.process is not None
            wait_for_port(node.port, f"NATS {node.name}", node.process)
        yield nodes
    finally:
        for node in nodes.values():
            node.kill()


def urls(nodes: dict[str, Node]) -> str:
    """LINLI_NATS_URL of the whole cluster."""
    return ",".join(node.url for node in nodes.values())


async def replicated_three_ways(nats_url: str) -> str:
    """Create the streams through the project's own ensure_streams with three replicas, once
    the cluster has elected its JetStream leader; the name of the node leading LINLI."""
    nc = await bus.connect(nats_url, name="cluster-test-setup")
    js = nc.jetstream()
    try:
        async def created() -> bool:
            try:
                await bus.ensure_streams(js, replicas=3)
                return (await js.stream_info(bus.STREAM)).config.num_replicas == 3
            except (nats.errors.Error, TimeoutError):
                return False  # no JetStream leader elected yet
        await until("the cluster's JetStream ready", created)
        return await _leader(js)
    finally:
        await nc.close()


async def _leader(js: nats.js.JetStreamContext, *, current: int = 2) -> str:
    """The node leading LINLI (three replicas) once `current` followers are up to date."""
    async def led() -> str | None:
        try:
            info = await js.stream_info(bus.STREAM)
        except (nats.errors.Error, TimeoutError):
            return None  # the stream is electing a leader
        assert info.config.num_replicas == 3
        cluster = info.cluster
        if cluster is None or not cluster.leader:
            return None
        following = [r for r in cluster.replicas or [] if r.current and not r.offline]
        return cluster.leader if len(following) >= current else None
    return await until(f"LINLI led by one node with {current} current followers", led)


async def _answering(nc: nats.NATS) -> None:
    """Once the cluster answers which stream holds the events (its meta leader is elected)."""
    async def named() -> str | None:
        try:
            return await nc.jsm().find_stream_name_by_subject(COMPOUND_CREATED.name)
        except (nats.errors.Error, TimeoutError):
            return None
    await until("the survivors answer which stream holds the events", named)


async def test_a_node_of_three_killed_mid_stream_loses_and_repeats_nothing(
    settings: Settings, cluster: dict[str, Node], applied_log: db.Pool, scratch: Path,
    token: TokenFactory,
) -> None:
    everyone = urls(cluster)
    await replicated_three_ways(everyone)
    # the service names every node and no replica count: its ensure_streams must keep three
    env = {**service_env(settings, scratch), "LINLI_NATS_URL": everyone}
    directory = ServiceProcess("directory", env, scratch / "directory.log")
    directory.start()
    nc = await bus.connect(everyone, name="cluster-test-consumer")

    async def apply(conn: db.Connection, event: CloudEvent) -> None:
        await conn.execute("INSERT INTO applied (compound_id) VALUES ($1)", event.subject)

    consumers = bus.ConsumerGroup(
        pool=applied_log, js=nc.jetstream(), ack_wait=5.0,
        subscriptions=[bus.Subscription(f"cluster-{uuid.uuid4().hex[:8]}", COMPOUND_CREATED,
                                        apply)])
    await consumers.start()
    created: list[str] = []
    try:
        # still three replicas after the service's start (`_leader` checks); which node leads
        # may have moved meanwhile (a busy machine misses heartbeats): kill the one leading now
        leader = await _leader(nc.jetstream())
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            load = asyncio.create_task(write_load(
                session, directory.url + "/v1/compounds",
                bearer(token(roles=["street_office"], compounds=["*"])), created))
            await until("a first third written", _at_least(created, WRITES // 3))
            cluster[leader].kill()  # the node leading the stream, mid-stream
            statuses = await load
        assert statuses == [201] * WRITES  # no write failed because a node died
        survivors = ",".join(n.url for name, n in cluster.items() if name != leader)
        ids = set(created)

        async def all_applied() -> bool:
            async with applied_log.acquire() as conn:
                return bool(await conn.fetchval(
                    "SELECT count(DISTINCT compound_id) FROM applied WHERE compound_id = ANY($1)",
                    list(ids)) == WRITES)
        await until("every event applied by the consumer", all_applied, within=120)
        async with applied_log.acquire() as conn:
            twice = await conn.fetch("SELECT compound_id, count(*) AS n FROM applied"
                                     " GROUP BY compound_id HAVING count(*) > 1")
        assert twice == []  # applied once each
        # a survivor took over the stream, the other survivor follows it
        assert await _leader(nc.jetstream(), current=1) != leader
        await _answering(nc)  # the survivors may still be electing the API's leader
        assert await in_stream(survivors, ids) == Counter({i: 1 for i in ids})  # stored once each
    finally:
        await consumers.stop()
        await nc.close()
        directory.stop()
