"""Proposal workflows driven to completion per second, and vote-closed event → next step delay.

Run: `.venv/bin/python -m bench.bench_workflows [--proposals N] [--trivial N]`. Uses the servers
named by LINLI_DATABASE_URL / LINLI_NATS_URL / LINLI_TEMPORAL_ADDRESS, else starts its own
embedded PostgreSQL, NATS and Temporal dev server. In one run, on the same servers and worker:
- a trivial workflow with one activity, started N at once: completed per second;
- ProposalWorkflow (short windows, meetings played in memory, events written to a real outbox),
  N at once (and 20 two at a time, for the delay on an idle server), each driven by a real
  linli.meetings.vote.closed event written to an outbox, published by the relay, taken by the
  worker's bridge consumer, and an acceptance update: completed per second, and the delay from
  committing vote.closed to the workflow entering its next step (p50/p99), split where the time
  goes: relay and bus (commit → bridge handler), signal (the bridge's signal call), workflow task
  (signal → the result read that the next step waits for), step (that read → the step's event).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from temporalio.client import Client
    from temporalio.worker import Worker

    from linli import bus, db
    from services.meetings import events as meetings
    from workflows import bridge, common_types
    from workflows.outbox import OutboxActivities
    from workflows.proposal import types as t
    from workflows.proposal.workflow import ProposalWorkflow

SCHEMA = "bench_workflows"


@workflow.defn(name="BenchTrivialWorkflow")
class TrivialWorkflow:
    @workflow.run
    async def run(self, n: int) -> int:
        result: int = await workflow.execute_activity(
            "bench_noop", n, result_type=int, start_to_close_timeout=timedelta(seconds=30))
        return result


@activity.defn(name="bench_noop")
async def noop(n: int) -> int:
    return n


class Meetings:
    """Meetings in memory (same activity names); tells the driver when a vote is open and when
    the workflow reads a closed vote's result."""

    def __init__(self) -> None:
        self.vote_open: dict[str, asyncio.Future[str]] = {}
        self.result_read: dict[str, float] = {}

    def all(self) -> list[Any]:
        return [self.get_proposal, self.mark_proposal, self.open_consultation,
                self.close_consultation, self.open_vote, self.get_vote_result]

    @activity.defn(name=t.GET_PROPOSAL)
    async def get_proposal(self, ref: t.ProposalRef) -> t.ProposalInfo:
        return t.ProposalInfo(title="基准", matter="art278_7", current_version=1, status="draft")

    @activity.defn(name=t.MARK_PROPOSAL)
    async def mark_proposal(self, req: t.ProposalMark) -> None:
        return None

    @activity.defn(name=t.GET_VOTE_RESULT)
    async def get_vote_result(self, ref: t.VoteRef) -> t.VoteClosed:
        self.result_read.setdefault(ref.proposal_id, time.perf_counter())
        return t.VoteClosed(vote_id=ref.vote_id, outcome="passed", version=1,
                            rule="civil_code_major")

    @activity.defn(name=t.OPEN_CONSULTATION)
    async def open_consultation(self, req: t.OpenWindow) -> None:
        return None

    @activity.defn(name=t.CLOSE_CONSULTATION)
    async def close_consultation(self, ref: t.ProposalRef) -> None:
        return None

    @activity.defn(name=t.OPEN_VOTE)
    async def open_vote(self, req: t.OpenWindow) -> str:
        vote_id = str(uuid.uuid4())
        self.vote_open[req.proposal_id].set_result(vote_id)
        return vote_id


class Outbox(OutboxActivities):
    """The real outbox writes, plus a note of when each step began (for the driver)."""

    def __init__(self, pool: db.Pool) -> None:
        super().__init__(pool)
        self.entered: dict[tuple[str, str], asyncio.Future[float]] = {}

    @activity.defn(name=common_types.RECORD_EVENT)
    async def record_event(self, record: common_types.EventRecord) -> bool:
        if record.type.endswith("step_changed"):
            waiting = self.entered.get((record.subject, record.data["step"]))
            if waiting is not None and not waiting.done():
                waiting.set_result(time.perf_counter())
        return await super().record_event(record)


class Bridge:
    """The worker's vote.closed bridge, noting when each event reached it and was signalled."""

    def __init__(self, client: Client) -> None:
        self.handle = bridge.on_vote_closed(client)
        self.reached: dict[str, float] = {}
        self.signalled: dict[str, float] = {}

    async def __call__(self, conn: Any, event: Any) -> None:
        self.reached.setdefault(event.subject, time.perf_counter())
        await self.handle(conn, event)
        self.signalled.setdefault(event.subject, time.perf_counter())


STAGES = ("relay_and_bus", "signal", "workflow_task", "step")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def trivial(client: Client, queue: str, count: int) -> dict[str, float]:
    started = time.perf_counter()
    handles = await asyncio.gather(*(client.start_workflow(
        TrivialWorkflow.run, i, id=f"bench-trivial-{uuid.uuid4()}", task_queue=queue)
        for i in range(count)))
    await asyncio.gather(*(h.result() for h in handles))
    return {"workflows": count, "completed_per_s": round(count / (time.perf_counter() - started), 1)}


async def drive(client: Client, queue: str, fakes: Meetings, outbox: Outbox, bridged: Bridge,
                delays: dict[str, list[float]]) -> None:
    """One proposal: start, wait for its vote, commit vote.closed to the outbox (the relay
    publishes it), sign off, wait for the end."""
    pid, cid = str(uuid.uuid4()), str(uuid.uuid4())
    loop = asyncio.get_running_loop()
    fakes.vote_open[pid] = loop.create_future()
    outbox.entered[(pid, t.ACCEPTANCE)] = loop.create_future()
    implementation = outbox.entered[(pid, t.IMPLEMENTATION)] = loop.create_future()
    data = t.ProposalInput(compound_id=cid, proposal_id=pid, convener="bench",
                           consultation_seconds=0.5, consultation_reminders=[], vote_seconds=300,
                           vote_reminders=[], satisfaction_seconds=0.5)
    handle = await client.start_workflow(ProposalWorkflow.run, data, id=f"proposal-{pid}",
                                         task_queue=queue)
    vote_id = await fakes.vote_open[pid]
    event = meetings.VOTE_CLOSED.new(subject=pid, compound_id=cid, data=meetings.VoteClosed(
        vote_id=uuid.UUID(vote_id), proposal_id=uuid.UUID(pid), compound_id=uuid.UUID(cid),
        version=1, rule="civil_code_major", outcome="passed", result={}))
    async with db.transaction(outbox.pool) as conn:
        await bus.write_event(conn, event)
    sent = time.perf_counter()
    entered = await implementation
    marks = [sent, bridged.reached[pid], bridged.signalled[pid], fakes.result_read[pid], entered]
    delays["total"].append(entered - sent)
    for stage, (begin, end) in zip(STAGES, itertools.pairwise(marks), strict=True):
        delays[stage].append(end - begin)
    await outbox.entered[(pid, t.ACCEPTANCE)]
    await handle.execute_update(ProposalWorkflow.accept, t.AcceptanceReport(True, ["bench"]))
    assert (await handle.result()).outcome == t.COMPLETED


def spread(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1)}


async def proposals(client: Client, queue: str, fakes: Meetings, outbox: Outbox, bridged: Bridge,
                    count: int, concurrency: int) -> dict[str, Any]:
    delays: dict[str, list[float]] = {stage: [] for stage in ("total", *STAGES)}
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await drive(client, queue, fakes, outbox, bridged, delays)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    elapsed = time.perf_counter() - started
    return {"workflows": count, "concurrent": concurrency, "completed_per_s": round(count / elapsed, 2),
            "seconds_of_windows_per_workflow": 1.0,
            "vote_closed_to_next_step_p50_ms": spread(delays["total"])["p50_ms"],
            "vote_closed_to_next_step_p99_ms": spread(delays["total"])["p99_ms"],
            "breakdown": {stage: spread(delays[stage]) for stage in STAGES}}


async def measure(database_url: str, nats_url: str, temporal: str, args: argparse.Namespace) -> Any:
    pool = await db.create_pool(database_url, schema=SCHEMA, max_size=20)
    async with pool.acquire() as conn:
        await db.migrate(conn, schema=SCHEMA, migrations=None)
    nc = await bus.connect(nats_url, name="bench-workflows")
    js = nc.jetstream()
    await bus.ensure_streams(js)
    client = await Client.connect(temporal)
    queue, fakes, outbox = f"bench-{uuid.uuid4()}", Meetings(), Outbox(pool)
    durable = f"bench-{uuid.uuid4().hex[:8]}-vote-closed"
    bridged = Bridge(client)
    group = bus.ConsumerGroup(pool=pool, js=js, subscriptions=[bus.Subscription(
        durable, meetings.VOTE_CLOSED, bridged)])
    relay = bus.OutboxRelay(pool=pool, js=js, dsn=database_url, schema=SCHEMA)
    relaying = asyncio.create_task(relay.run())
    try:
        async with Worker(client, task_queue=queue, workflows=[ProposalWorkflow, TrivialWorkflow],
                          activities=[noop, *fakes.all(), *outbox.all()],
                          max_concurrent_activities=200, max_concurrent_workflow_tasks=200,
                          max_concurrent_workflow_task_polls=10, max_concurrent_activity_task_polls=10):
            await group.start()
            await asyncio.sleep(2)  # let the new durable skip through the stream's older events
            await trivial(client, queue, 20)  # warm-up
            return {"benchmark": "workflows", "temporal": "dev server (temporal server start-dev)",
                    "trivial_one_activity": await trivial(client, queue, args.trivial),
                    "proposal_all_at_once": await proposals(client, queue, fakes, outbox, bridged,
                                                            args.proposals, args.proposals),
                    "proposal_two_at_a_time": await proposals(client, queue, fakes, outbox, bridged,
                                                              min(20, args.proposals), 2)}
    finally:
        await relay.stop(relaying)
        await group.stop()
        with contextlib.suppress(Exception):  # not created when the worker failed to start
            await js.delete_consumer(bus.STREAM, durable)
        await nc.close()
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {db.quote_schema(SCHEMA)} CASCADE")
        await pool.close()


def main() -> None:
    from bench import harness  # not at the top: the workflow sandbox re-imports this module

    parser = argparse.ArgumentParser()
    parser.add_argument("--proposals", type=int, default=100)
    parser.add_argument("--trivial", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a few workflows: checks it runs")
    args = parser.parse_args()
    if args.quick:
        args.proposals, args.trivial = 4, 10
    env = os.environ
    if all(k in env for k in ("LINLI_DATABASE_URL", "LINLI_NATS_URL", "LINLI_TEMPORAL_ADDRESS")):
        result = asyncio.run(measure(env["LINLI_DATABASE_URL"], env["LINLI_NATS_URL"],
                                     env["LINLI_TEMPORAL_ADDRESS"], args))
    else:
        with harness.embedded(temporal=True) as stack:
            result = asyncio.run(measure(stack.database_url, stack.nats_url, stack.temporal_address,
                                         args))
    harness.write("workflows", result)


if __name__ == "__main__":
    main()
