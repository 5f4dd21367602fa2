"""`linli worker`: the Temporal worker, the event bridge, the outbox relay and /metrics.

One process: it runs both workflows and their activities on the task queue, turns events into
signals (workflows/bridge.py), publishes the workflow events written to the workflows schema's
outbox, reads JetStream's streams and consumers for the bus gauges (linli/busmetrics.py), and
serves /metrics on settings.worker_metrics_port. Stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from temporalio.client import Client
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from linli import bus, busmetrics, db, pruning
from linli.clients import AppToken, ServiceClient
from linli.config import Settings
from linli.loops import Loops
from linli.relay import OutboxRelay
from workflows import bridge
from workflows.care import bridge as care_bridge
from workflows.care.activities import CareActivities
from workflows.care.workflow import CarePlanWorkflow
from workflows.centre_activity import bridge as activity_bridge
from workflows.centre_activity.activities import CentreActivities
from workflows.centre_activity.workflow import ActivityWorkflow
from workflows.committee import bridge as committee_bridge
from workflows.committee.activities import CommitteeActivities
from workflows.committee.workflow import CommitteeFoundingWorkflow
from workflows.follow_up.activities import IssuesActivities
from workflows.follow_up.workflow import IssueFollowUpWorkflow
from workflows.metrics import Check, count_running, metrics_app, sdk_runtime
from workflows.outbox import OutboxActivities
from workflows.proposal.activities import MeetingsActivities
from workflows.proposal.workflow import ProposalWorkflow
from workflows.runner import SandboxRunner, payloads_untouched

log = logging.getLogger("linli.worker")
SCHEMA = "workflows"
POOL_SIZE = 10  # activities' outbox writes and the bridge's inbox transactions share it
WORKFLOWS = [ProposalWorkflow, IssueFollowUpWorkflow, CarePlanWorkflow,
             ActivityWorkflow, CommitteeFoundingWorkflow]


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[db.Pool]:
    pool = await db.create_pool(settings.database_url, schema=SCHEMA, max_size=POOL_SIZE)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn, schema=SCHEMA, migrations=None)
        yield pool
    finally:
        await pool.close()


def activities(settings: Settings, session: aiohttp.ClientSession, pool: db.Pool) -> list[Callable[..., Any]]:
    """Activity implementations with their clients (app tokens with the contracted scopes)."""
    meetings = ServiceClient(session, base_url=settings.service_url("meetings"),
                             token=AppToken(settings, "workflows", ["meetings:manage"]))
    issues = ServiceClient(session, base_url=settings.service_url("issues"),
                           token=AppToken(settings, "workflows", ["issues:manage"]))
    volunteers = ServiceClient(session, base_url=settings.service_url("volunteers"),
                               token=AppToken(settings, "workflows", ["volunteers:manage"]))
    centre = ServiceClient(session, base_url=settings.service_url("centre"),
                           token=AppToken(settings, "workflows", ["centre:manage"]))
    directory = ServiceClient(session, base_url=settings.service_url("directory"),
                              token=AppToken(settings, "workflows", ["directory:write"]))
    return [*MeetingsActivities(meetings).all(), *IssuesActivities(issues).all(),
            *OutboxActivities(pool).all(), *CareActivities(volunteers).all(),
            *CentreActivities(centre).all(), *CommitteeActivities(directory, meetings).all()]


def bridge_subscriptions(client: Client, settings: Settings) -> list[bus.Subscription]:
    """The bridge's consumers. Tests on shared servers name their own durables and leave the
    follow-up starts to nobody (LINLI_BRIDGE_PREFIX, LINLI_BRIDGE_FOLLOW_UPS=0)."""
    prefix, starts = settings.bridge_prefix, settings.bridge_follow_ups
    return [*bridge.subscriptions(client, settings.temporal_task_queue, prefix=prefix,
                                  start_follow_ups=starts),
            *committee_bridge.subscriptions(client, prefix=prefix),
            *(care_bridge.subscriptions(client, settings.temporal_task_queue, prefix=prefix)
              if starts else []),
            *(activity_bridge.subscriptions(client, settings.temporal_task_queue, prefix=prefix)
              if starts else [])]


# Data-only modules (dataclasses, constants, id helpers; no clock, randomness or I/O): the
# sandbox shares them instead of re-executing them for every workflow instance it creates.
# py-spy on the worker: re-running proposal/types.py's dataclass definitions per instance was a
# fifth of its CPU with 100 proposals in flight. Workflow code itself stays sandboxed.
DATA_MODULES = ("workflows.common_types", "workflows.proposal.types", "workflows.follow_up.types",
                "workflows.care.types", "workflows.centre_activity.types",
                "workflows.committee.types")


def temporal_worker(client: Client, task_queue: str, workflows: Sequence[type],
                    activities: Sequence[Callable[..., Any]], **tuning: Any) -> Worker:
    """The Temporal worker with the production tuning (bench/bench_workflows.py runs this one;
    `tuning` overrides it there to compare)."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*DATA_MODULES)
    # contexts asked outside the sandbox (workflows/runner.py), while no codec reads them
    runner: WorkflowRunner = (SandboxRunner(restrictions)
                              if payloads_untouched(client.data_converter)
                              else SandboxedWorkflowRunner(restrictions=restrictions))
    return Worker(client, task_queue=task_queue, workflows=workflows, activities=activities,
                  **{"workflow_runner": runner, **tuning})


async def prune_hourly(pool: db.Pool) -> None:
    """The kernel tables of the workflows schema, pruned as every service's are."""
    while True:
        await pruning.prune(pool, service=SCHEMA)
        await asyncio.sleep(pruning.EVERY_SECONDS)


def dependencies(client: Client, nc: Any, pool: db.Pool) -> dict[str, Check]:
    """What /readyz checks: each answers None when reachable, else why not."""
    async def temporal() -> str | None:
        healthy = await client.service_client.check_health(timeout=dt.timedelta(seconds=2))
        return None if healthy else "健康检查未通过"

    async def nats() -> str | None:
        return None if nc.is_connected else "连接已断开"

    async def postgres() -> str | None:
        await db.ping(pool)
        return None

    return {"Temporal": temporal, "NATS": nats, "PostgreSQL": postgres}


async def serve_metrics(settings: Settings, sdk_url: str, loops: Loops,
                        checks: dict[str, Check]) -> web.AppRunner:
    runner = web.AppRunner(metrics_app(sdk_url, loops, checks), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.worker_metrics_port).start()
    return runner


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """Everything the worker does, until `stop` is set."""
    runtime, sdk_url = sdk_runtime()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                  runtime=runtime)
    async with database(settings) as pool, aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10)) as session:
        nc = await bus.connect(settings.nats_url, name="linli-worker")
        js = nc.jetstream()
        await bus.ensure_streams(js, replicas=settings.stream_replicas)
        relay = OutboxRelay(pool=pool, js=js, dsn=settings.database_url, schema=SCHEMA,
                                batch=settings.relay_batch)
        loops = Loops()  # relay and bridge consumers restart by themselves when they fail
        consumers = bus.ConsumerGroup(
            pool=pool, js=js, subscriptions=bridge_subscriptions(client, settings),
            max_deliver=settings.max_deliver, ack_wait=settings.ack_wait_seconds, loops=loops)
        runner = await serve_metrics(settings, sdk_url, loops, dependencies(client, nc, pool))
        worker = temporal_worker(client, settings.temporal_task_queue, WORKFLOWS,
                                 activities(settings, session, pool))
        tasks = [loops.spawn("workflows-outbox-relay", relay.run),
                 loops.spawn("workflows-pruning", lambda: prune_hourly(pool)),
                 loops.spawn("workflows-running-gauge",
                             lambda: count_running(client, settings.temporal_task_queue)),
                 # the one reader of every stream and consumer (see linli/busmetrics.py)
                 loops.spawn("bus-metrics", lambda: busmetrics.watch_bus(nc, js, settings)),
                 asyncio.create_task(worker.run(), name="temporal-worker")]
        await consumers.start()
        log.info("worker ready", extra={"task_queue": settings.temporal_task_queue,
                                        "metrics_port": settings.worker_metrics_port})
        try:
            await _until_stopped(stop, tasks[-1])
        finally:
            await consumers.stop()
            with contextlib.suppress(Exception):
                await worker.shutdown()
            for task in tasks[:-1]:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await runner.cleanup()
            await nc.close()  # drain waits ~30 s on the cancelled pull subscriptions


async def _until_stopped(stop: asyncio.Event, worker_task: asyncio.Task[None]) -> None:
    """Wait for a stop signal; if the Temporal worker dies on its own, surface its error."""
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({stopping, worker_task}, return_when=asyncio.FIRST_COMPLETED)
    if worker_task in done:
        stopping.cancel()
        worker_task.result()


async def main(settings: Settings) -> int:
    """Entry point of `linli worker`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run(settings, stop)
    except Exception:
        log.exception("worker failed")
        return 1
    return 0
