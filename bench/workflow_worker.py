"""The worker process of bench/bench_workflows.py, run the way `linli worker` runs it.

`python -m bench.workflow_worker --dsn … --nats … --temporal … --queue … --durable …`: one
process with the production Temporal worker (workflows/worker.py temporal_worker), the
production vote.closed bridge consumer and the workflows outbox relay; only meetings is played
in memory (same activity names). It tells the driver on stdout, one line each
(`<mark> <proposal id> <monotonic seconds> [vote id]`), when a vote opened, when vote.closed
reached the bridge and was signalled, when the workflow read the result and when it began
publishing each step. CLOCK_MONOTONIC is the machine's, so the driver compares the times.
Its ready line gives the URL of the Temporal SDK's metrics. Stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import signal
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from temporalio.client import Client
    from temporalio.worker import UnsandboxedWorkflowRunner

    from linli import bus, db
    from linli.cli import event_loop
    from linli.relay import OutboxRelay
    from services.meetings import events as meetings
    from workflows import bridge, common_types
    from workflows import worker as production
    from workflows.metrics import sdk_runtime
    from workflows.outbox import OutboxActivities
    from workflows.proposal import types as t
    from workflows.proposal.workflow import ProposalWorkflow

SCHEMA = "bench_workflows"
VOTE_OPEN, REACHED, SIGNALLED, RESULT_READ = "vote_open", "reached", "signalled", "result_read"
ENTERED = "entered:"  # + the step


def tell(mark: str, proposal_id: str, *extra: str) -> None:
    sys.stdout.write(" ".join((mark, proposal_id, repr(time.monotonic()), *extra)) + "\n")
    sys.stdout.flush()


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
    """Meetings in memory, under the activity names the workflow calls."""

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
        tell(RESULT_READ, ref.proposal_id)
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
        tell(VOTE_OPEN, req.proposal_id, vote_id)
        return vote_id


class Outbox(OutboxActivities):
    """The real outbox write, telling when each step began to be published."""

    @activity.defn(name=common_types.RECORD_EVENT)
    async def record_event(self, record: common_types.EventRecord) -> bool:
        if record.type.endswith("step_changed"):
            tell(ENTERED + record.data["step"], record.subject)
        return await super().record_event(record)

    @activity.defn(name=common_types.RECORD_EVENTS)
    async def record_events(self, records: list[common_types.EventRecord]) -> None:
        for record in records:
            if record.type.endswith("step_changed"):
                tell(ENTERED + record.data["step"], record.subject)
        await super().record_events(records)


def marked(client: Client, durable: str) -> bus.Subscription:
    """The production vote.closed bridge consumer, telling when an event reached its signal
    and when the signal returned."""
    (production_sub,) = [s for s in bridge.subscriptions(client, "-", start_follow_ups=False)
                         if s.event is meetings.VOTE_CLOSED]
    signal_it = production_sub.effect
    assert signal_it is not None

    async def effect(event: Any) -> None:
        tell(REACHED, event.subject)
        await signal_it(event)
        tell(SIGNALLED, event.subject)

    return bus.effect_subscription(durable, meetings.VOTE_CLOSED, effect)


def tuning(text: str) -> dict[str, Any]:
    """Worker options to try instead of production's (JSON); "workflow_task_threads": N gives
    the workflow tasks a pool of N threads, "unsandboxed": true runs them without the sandbox."""
    options: dict[str, Any] = json.loads(text)
    if options.pop("unsandboxed", False):  # to measure what the sandbox costs, never production
        options["workflow_runner"] = UnsandboxedWorkflowRunner()
    if "workflow_task_threads" in options:
        options["workflow_task_executor"] = concurrent.futures.ThreadPoolExecutor(
            max_workers=options.pop("workflow_task_threads"))
    return options


async def serve(args: argparse.Namespace) -> None:
    pool = await db.create_pool(args.dsn, schema=SCHEMA, max_size=production.POOL_SIZE)
    async with pool.acquire() as conn:
        await db.migrate(conn, schema=SCHEMA, migrations=None)
    nc = await bus.connect(args.nats, name="bench-workflow-worker")
    js = nc.jetstream()
    runtime, sdk_metrics = sdk_runtime()  # as `linli worker` (the Core records its metrics)
    client = await Client.connect(args.temporal, runtime=runtime)
    consumers = bus.ConsumerGroup(pool=pool, js=js, subscriptions=[marked(client, args.durable)])
    relay = OutboxRelay(pool=pool, js=js, dsn=args.dsn, schema=SCHEMA)
    relaying = asyncio.create_task(relay.run())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    worker = production.temporal_worker(
        client, args.queue, [ProposalWorkflow, TrivialWorkflow],
        [noop, *Meetings().all(), *Outbox(pool).all()], **tuning(args.tuning))
    try:
        async with worker:
            await consumers.start()
            tell("ready", "-", sdk_metrics)
            await stop.wait()
    finally:
        await consumers.stop()
        await relay.stop(relaying)
        await nc.close()
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("dsn", "nats", "temporal", "queue", "durable"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--tuning", default="{}", help="worker options instead of production's")
    with asyncio.Runner(loop_factory=event_loop) as runner:  # as `linli worker` runs
        runner.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
