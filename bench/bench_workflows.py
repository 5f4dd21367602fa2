"""Proposal workflows driven to completion per second, and vote-closed event → next step delay.

Run: `.venv/bin/python -m bench.bench_workflows [--proposals N] [--trivial N]`. Uses the servers
named by LINLI_DATABASE_URL / LINLI_NATS_URL / LINLI_TEMPORAL_ADDRESS, else starts its own
embedded PostgreSQL, NATS and Temporal dev server. Measured the way production runs: the worker
is its own process (bench/workflow_worker.py: the production Temporal worker and tuning, the
production vote.closed bridge consumer and the workflows outbox relay; meetings played in memory).
This process plays the rest: it starts the workflows, commits each vote.closed to a "meetings"
outbox that its own relay publishes (as the meetings service does), and signs the works off.
In one run, on the same servers and worker process:
- a trivial workflow with one activity, started N at once: completed per second;
- ProposalWorkflow (short windows), N at once (and 20 two at a time, for the delay on an idle
  server), each driven by a real linli.meetings.vote.closed event and an acceptance update:
  completed per second, and the delay from committing vote.closed to the workflow entering its
  next step (p50/p99), split where the time goes: relay_and_bus (commit → bridge handler),
  signal (the bridge's signal call), workflow_task (signal → the result read that the next step
  waits for), step (that read → the step's event being written); with the CPU each process
  spent during the N-at-once run (run --rounds times over, one distribution), and the
  worker's own Temporal SDK latencies over it (means): how long a workflow task waited on the
  server for a poller of the worker, how long the worker took over it;
- the same N proposals all waiting in their vote, then every vote closing at once (a deadline
  shared by every vote in flight), and again closing one after another at --closing-rate a
  second: the delay with nothing else in flight but the closed votes being taken up.
  Closing together, it also tells the CPU each process spent from a round's first vote.closed
  commit to its last next step, per closed vote (burst_cpu_ms_per_closed_vote; the worker by
  thread: main is the event loop with the bridge, the relay and the activities, python the
  workflow tasks' threads, tokio-rt-worker the SDK's Rust core), and, for each proposal row, one
  run's history events from its vote_closed signal to the acceptance update, by type.
`--rows` runs some rows only (only a run of every row writes bench/results/workflows.json);
`--profile FILE` py-spies the worker over the rows of `--profile-rows` (closing together: during
each burst only, FILE.1, …); `--perf-temporal FILE` runs perf on the Temporal server during each
burst (the dev server's binary has no symbols, so it shows little).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from typing import Any

import aiohttp
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench import harness
from bench.workflow_worker import ENTERED, REACHED, RESULT_READ, SIGNALLED, VOTE_OPEN, TrivialWorkflow
from linli import bus, db
from linli.relay import OutboxRelay
from linli.stack import EmbeddedStack
from services.meetings import events as meetings
from workflows.proposal import types as t
from workflows.proposal.workflow import ProposalWorkflow

SCHEMA = "bench_meetings"  # the outbox vote.closed is committed to, as meetings commits it
STAGES = ("relay_and_bus", "signal", "workflow_task", "step")


class WorkerProcess:
    """The worker process and what it tells on stdout: when, by mark and proposal id."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.marks: dict[str, dict[str, float]] = defaultdict(dict)
        self.extra: dict[tuple[str, str], str] = {}
        self.waiting: dict[tuple[str, str], asyncio.Event] = defaultdict(asyncio.Event)
        self.reading = asyncio.create_task(self._read())
        self.sdk_metrics = ""  # the URL of the worker's Temporal SDK metrics

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            mark, pid, at, *extra = line.decode().split()
            self.marks[mark].setdefault(pid, float(at))
            if extra:
                self.extra.setdefault((mark, pid), extra[0])
            self.waiting[(mark, pid)].set()

    async def told(self, mark: str, pid: str) -> str:
        """Wait until the worker told `mark` for `pid`; what it added (a vote id), if anything."""
        told = asyncio.create_task(self.waiting[(mark, pid)].wait())
        done, _ = await asyncio.wait({told, self.reading}, return_when=asyncio.FIRST_COMPLETED)
        if told not in done:
            told.cancel()
            raise RuntimeError("the worker process ended (its stderr is above)")
        del self.waiting[(mark, pid)]
        return self.extra.pop((mark, pid), "")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await self.process.wait()
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        self.reading.cancel()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spread(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1)}


async def trivial(client: Client, queue: str, count: int) -> dict[str, float]:
    started = time.perf_counter()
    handles = await asyncio.gather(*(client.start_workflow(
        TrivialWorkflow.run, i, id=f"bench-trivial-{uuid.uuid4()}", task_queue=queue)
        for i in range(count)))
    await asyncio.gather(*(h.result() for h in handles))
    return {"workflows": count, "completed_per_s": round(count / (time.perf_counter() - started), 1)}


class Closing:
    """Votes that close once every proposal waits in its vote: all at once (a deadline shared by
    every vote in flight) or one after another at `rate` a second."""

    def __init__(self, count: int, rate: float | None, cpu: Cpu | None = None,
                 spy: Spy | None = None) -> None:
        self.barrier, self.rate = asyncio.Barrier(count), rate
        self.opened_at = 0.0  # when the last vote opened
        self.count, self.entered, self.cpu, self.spy = count, 0, cpu, spy
        self.burst_cpu_ms: dict[str, float] = {}  # per process, first commit → last step entered

    async def turn(self) -> None:
        """Wait for every vote to be open, then for this vote's moment to close."""
        slot = await self.barrier.wait()
        first, self.opened_at = not self.opened_at, self.opened_at or time.monotonic()
        if first and self.cpu is not None:
            self.cpu.start()
        if first and self.spy is not None:
            await self.spy.start()
        if self.rate is not None:
            await asyncio.sleep(max(0.0, self.opened_at + slot / self.rate - time.monotonic()))

    async def step_entered(self) -> None:
        self.entered += 1
        if self.entered == self.count and self.cpu is not None:
            self.burst_cpu_ms = self.cpu.stop()
        if self.entered == self.count and self.spy is not None:
            await self.spy.stop()


async def drive(client: Client, queue: str, pool: db.Pool, worker: WorkerProcess,
                delays: dict[str, list[float]], closing: Closing | None = None) -> str:
    """One proposal: start, wait for its vote (and, with `closing`, for its turn after every
    other proposal's vote opened), commit vote.closed to the outbox (the relay publishes it),
    wait for the next step (and, with `closing`, for every other proposal's), sign off, wait
    for the end."""
    pid, cid = str(uuid.uuid4()), str(uuid.uuid4())
    data = t.ProposalInput(compound_id=cid, proposal_id=pid, convener="bench",
                           consultation_seconds=0.5, consultation_reminders=[], vote_seconds=300,
                           vote_reminders=[], satisfaction_seconds=0.5)
    handle = await client.start_workflow(ProposalWorkflow.run, data, id=f"proposal-{pid}",
                                         task_queue=queue)
    vote_id = await worker.told(VOTE_OPEN, pid)
    if closing is not None:
        await closing.turn()
    event = meetings.VOTE_CLOSED.new(subject=pid, compound_id=cid, data=meetings.VoteClosed(
        vote_id=uuid.UUID(vote_id), proposal_id=uuid.UUID(pid), compound_id=uuid.UUID(cid),
        version=1, rule="civil_code_major", outcome="passed", result={}))
    async with db.transaction(pool) as conn:
        await bus.write_event(conn, event)
    sent = time.monotonic()
    delays["sent"].append(sent)
    await worker.told(ENTERED + t.IMPLEMENTATION, pid)
    for mark in (REACHED, SIGNALLED, RESULT_READ):  # the signal call may return after the step
        await worker.told(mark, pid)
    marks = [sent, *(worker.marks[m][pid] for m in (REACHED, SIGNALLED, RESULT_READ,
                                                    ENTERED + t.IMPLEMENTATION))]
    delays["total"].append(marks[-1] - sent)
    for stage, (begin, end) in zip(STAGES, itertools.pairwise(marks), strict=True):
        delays[stage].append(end - begin)
    if closing is not None:  # nothing else runs while the closed votes are taken up
        await closing.step_entered()
        await closing.barrier.wait()
    await worker.told(ENTERED + t.ACCEPTANCE, pid)
    await handle.execute_update(ProposalWorkflow.accept, t.AcceptanceReport(True, ["bench"]))
    assert (await handle.result()).outcome == t.COMPLETED
    return handle.id


async def proposals(client: Client, queue: str, pool: db.Pool, worker: WorkerProcess,
                    count: int, concurrency: int, rounds: int = 1,
                    together: bool = False, rate: float | None = None,
                    cpu: Cpu | None = None, spy: Spy | None = None) -> dict[str, Any]:
    """`count` proposals, `concurrency` at a time; `rounds` times over (one distribution);
    `together`: all `count` wait in their vote, then every vote closes at once (a deadline
    shared by every vote in flight), or at `rate` a second, instead of each as soon as it
    opened. With `cpu` (and `together`), the CPU each process spent from a round's first
    vote.closed commit to its last next step entered, per closed vote."""
    delays: dict[str, list[float]] = {stage: [] for stage in ("total", "sent", *STAGES)}
    burst: list[float] = []  # per round: first to last vote.closed commit
    gate = asyncio.Semaphore(concurrency)

    async def one(closing: Closing | None) -> str:
        async with gate:
            return await drive(client, queue, pool, worker, delays, closing)

    burst_cpu: dict[str, float] = defaultdict(float)
    started = time.perf_counter()
    for _ in range(rounds):
        closing = Closing(count, rate, cpu, spy) if together else None
        ids = await asyncio.gather(*(one(closing) for _ in range(count)))
        burst.append(max(delays["sent"]) - min(delays["sent"]))
        delays["sent"].clear()
        for name, ms in (closing.burst_cpu_ms if closing else {}).items():
            burst_cpu[name] += ms
    elapsed = time.perf_counter() - started
    cpu_per_vote = ({"burst_cpu_ms_per_closed_vote": {
        name: round(ms / (count * rounds), 1) for name, ms in burst_cpu.items()}}
        if burst_cpu else {})
    return {**cpu_per_vote, "history": await history(client, ids[-1]),
            "workflows": count, "concurrent": concurrency, "rounds": rounds,
            "votes_close": ("each as soon as it opened" if not together
                            else f"{rate} a second, all waiting in their vote" if rate
                            else "together, all waiting in their vote"),
            "completed_per_s": round(count * rounds / elapsed, 2),
            "seconds_of_windows_per_workflow": 1.0,
            "vote_closed_to_next_step_p50_ms": spread(delays["total"])["p50_ms"],
            "vote_closed_to_next_step_p99_ms": spread(delays["total"])["p99_ms"],
            "breakdown": {stage: spread(delays[stage]) for stage in STAGES},
            # how close together the vote.closed events came: the burst the delay waits through
            "vote_closed_commits_within_ms": round(statistics.mean(burst) * 1000)}


async def history(client: Client, workflow_id: str) -> dict[str, Any]:
    """What one proposal cost the server: its history's events, and those from the vote_closed
    signal to the acceptance update (the step after the closed vote), by type."""
    events = (await client.get_workflow_handle(workflow_id).fetch_history()).events
    kinds = [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events]
    signalled = next(i for i, e in enumerate(events) if e.HasField(
        "workflow_execution_signaled_event_attributes"))
    update = next(i for i, k in enumerate(kinds) if i > signalled and "UPDATE" in k)
    after = kinds[signalled:update]
    return {"events": len(kinds), "workflow_tasks": kinds.count("WORKFLOW_TASK_COMPLETED"),
            "after_vote_closed": {k: after.count(k) for k in dict.fromkeys(after)},
            "after_vote_closed_in_order": after}


def threads_cpu_ms(pid: int) -> dict[str, float]:
    """CPU of a process's threads so far, in milliseconds, added up by thread name."""
    found: dict[str, float] = defaultdict(float)
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            stat = open(f"/proc/{pid}/task/{task}/stat").read()
            name = "main" if task == str(pid) else stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            found[name] += (int(fields[11]) + int(fields[12])) * harness.TICK_MS
    return found


def temporal_pid(stack: EmbeddedStack) -> int:
    return next(p.pid for n, p in stack.processes if n == "Temporal")


class Cpu:
    """CPU milliseconds per process between start() and stop() (the stack's when embedded)."""

    def __init__(self, pids: dict[str, int], stack: EmbeddedStack | None) -> None:
        self.pids, self.stack = pids, stack
        self.before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        now = {name: harness.cpu_ms(pid) for name, pid in self.pids.items()}
        for name, pid in self.pids.items():  # by thread name: Python's threads, the Core's
            for thread, ms in threads_cpu_ms(pid).items():
                now[f"{name}:{thread}"] = ms
        now["driver"] = time.process_time() * 1000
        if self.stack is not None:
            now["temporal"] = harness.cpu_ms(temporal_pid(self.stack))
            now["nats"] = harness.cpu_ms(next(p.pid for n, p in self.stack.processes
                                              if n == "NATS"))
            now["postgres"] = harness.postgres_cpu_ms(self.stack)
        return now

    def start(self) -> None:
        self.before = self._now()

    def stop(self) -> dict[str, float]:
        return {k: round(v - self.before.get(k, 0)) for k, v in self._now().items()}


# the worker's own view of the Temporal path (SDK metrics, means over the run): how long a task
# waited on the server before a poller took it, how long the worker took over it
SDK_LATENCIES = ("temporal_workflow_task_schedule_to_start_latency_seconds",
                 "temporal_workflow_task_execution_latency_seconds",
                 "temporal_workflow_endtoend_latency_seconds",
                 "temporal_local_activity_execution_latency_seconds",
                 "temporal_activity_schedule_to_start_latency_seconds",
                 "temporal_activity_execution_latency_seconds")


async def sdk_latencies(url: str) -> dict[str, float]:
    """Sum and count of each SDK latency histogram (all labels added up)."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    found: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name.removesuffix("_sum").removesuffix("_count") in SDK_LATENCIES and (
                name.endswith("_sum") or name.endswith("_count")):
            found[name] += float(line.rsplit(" ", 1)[1])
    return found


def mean_since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    means = {}
    for name in SDK_LATENCIES:
        count = after.get(name + "_count", 0) - before.get(name + "_count", 0)
        total = after.get(name + "_sum", 0) - before.get(name + "_sum", 0)
        if count:
            short = name.removeprefix("temporal_").removesuffix("_latency_seconds")
            means[short] = round(total / count * 1000, 1)
    return means


class Spy:
    """py-spy on a process between start() and stop(), appending collapsed stacks to a file
    (the closing-together row: only while its closed votes are taken up)."""

    def __init__(self, pid: int, output: str, perf: bool = False) -> None:
        self.pid, self.output, self.part, self.perf = pid, output, 0, perf
        self.spy: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.part += 1
        command = (["perf", "record", "-F", "499", "-g", "-o", f"{self.output}.{self.part}"]
                   if self.perf else
                   [os.path.join(os.path.dirname(sys.executable), "py-spy"), "record",
                    "--nonblocking", "--format", "raw", "--rate", "200",
                    "-o", f"{self.output}.{self.part}"])
        self.spy = await asyncio.create_subprocess_exec(
            *command, "-p", str(self.pid), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)

    async def stop(self) -> None:
        if self.spy is not None:
            self.spy.send_signal(2)  # SIGINT: py-spy writes what it sampled
            await self.spy.wait()


@contextlib.asynccontextmanager
async def profiled(pid: int, output: str | None) -> Any:
    """py-spy on the worker process (collapsed stacks in `output`), when asked."""
    if output is None:
        yield
        return
    spy = await asyncio.create_subprocess_exec(
        os.path.join(os.path.dirname(sys.executable), "py-spy"), "record", "--nonblocking",
        "--format", "raw", "--rate", "200", "-o", output, "-p", str(pid),
        stdout=asyncio.subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes what it sampled
        await spy.wait()


async def start_worker(database_url: str, nats_url: str, temporal: str, queue: str,
                       durable: str, pycache: str, tuning: str) -> WorkerProcess:
    """The worker process, with compiled bytecode as in the image (pip compiles it on install):
    the workflow sandbox imports the workflow's module afresh for every instance it creates, and
    without a .pyc (PYTHONDONTWRITEBYTECODE) it would compile the source each time."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.workflow_worker", "--dsn", database_url, "--nats", nats_url,
        "--temporal", temporal, "--queue", queue, "--durable", durable, "--tuning", tuning,
        stdout=asyncio.subprocess.PIPE, cwd=harness.ROOT, env={**env, "PYTHONPYCACHEPREFIX": pycache})
    worker = WorkerProcess(process)
    worker.sdk_metrics = await worker.told("ready", "-")
    return worker


ROWS = ("trivial_one_activity", "proposal_all_at_once", "proposal_votes_closing_together",
        "proposal_votes_closing_paced", "proposal_two_at_a_time")


async def run_rows(client: Client, queue: str, pool: db.Pool, worker: WorkerProcess,
                   args: argparse.Namespace, stack: EmbeddedStack | None) -> dict[str, Any]:
    """The rows asked for (--rows; every row by default), in order, on the same worker."""
    rows: dict[str, Any] = {}
    n = args.proposals
    if "trivial_one_activity" in args.rows:
        rows["trivial_one_activity"] = await trivial(client, queue, args.trivial)
    for name, together in (("proposal_all_at_once", False),
                           ("proposal_votes_closing_together", True)):
        if name not in args.rows:
            continue
        cpu = Cpu({"worker": worker.process.pid}, stack)
        cpu.start()
        sdk_before = await sdk_latencies(worker.sdk_metrics)
        spy = (Spy(worker.process.pid, args.profile)
               if together and args.profile and name in args.profile_rows else None)
        if together and args.perf_temporal and stack is not None:  # perf (Linux) on the server
            spy = Spy(temporal_pid(stack), args.perf_temporal, perf=True)
        async with profiled(worker.process.pid, args.profile
                            if not together and name in args.profile_rows else None):
            row = await proposals(client, queue, pool, worker, n, n, args.rounds, together=together,
                                  cpu=Cpu({"worker": worker.process.pid}, stack) if together else None,
                                  spy=spy)
        row["cpu_ms"] = cpu.stop()
        row["cpu_ms_per_proposal"] = {k: round(v / (n * args.rounds), 1)
                                      for k, v in row["cpu_ms"].items()}
        row["worker_sdk_mean_ms"] = mean_since(sdk_before, await sdk_latencies(worker.sdk_metrics))
        rows[name] = row
    if "proposal_votes_closing_paced" in args.rows:
        rows["proposal_votes_closing_paced"] = await proposals(
            client, queue, pool, worker, n, n, together=True, rate=args.closing_rate)
    if "proposal_two_at_a_time" in args.rows:
        rows["proposal_two_at_a_time"] = await proposals(client, queue, pool, worker, min(20, n), 2)
    return rows


async def measure(database_url: str, nats_url: str, temporal: str, args: argparse.Namespace,
                  stack: EmbeddedStack | None = None) -> Any:
    pool = await db.create_pool(database_url, schema=SCHEMA, max_size=20)
    async with pool.acquire() as conn:
        await db.migrate(conn, schema=SCHEMA, migrations=None)
    nc = await bus.connect(nats_url, name="bench-workflows")
    js = nc.jetstream()
    await bus.ensure_streams(js)
    client = await Client.connect(temporal)
    queue, durable = f"bench-{uuid.uuid4()}", f"bench-{uuid.uuid4().hex[:8]}-vote-closed"
    relay = OutboxRelay(pool=pool, js=js, dsn=database_url, schema=SCHEMA)
    relaying = asyncio.create_task(relay.run())
    pycache = tempfile.TemporaryDirectory(prefix="linli-bench-pycache-")
    worker = await start_worker(database_url, nats_url, temporal, queue, durable, pycache.name,
                                args.tuning)
    try:
        await asyncio.sleep(2)  # let the new durable skip through the stream's older events
        await trivial(client, queue, 20)  # warm-up
        rows = await run_rows(client, queue, pool, worker, args, stack)
        return {"benchmark": "workflows", "temporal": "dev server (temporal server start-dev)",
                "worker": "own process (bench/workflow_worker.py), production tuning"
                + ("" if args.tuning == "{}" else f" but {args.tuning}"), **rows}
    finally:
        await worker.stop()
        pycache.cleanup()
        await relay.stop(relaying)
        with contextlib.suppress(Exception):  # not created when the worker failed to start
            await js.delete_consumer(bus.STREAM, durable)
        await nc.close()
        async with pool.acquire() as conn:
            for schema in (SCHEMA, "bench_workflows"):
                await conn.execute(f"DROP SCHEMA IF EXISTS {db.quote_schema(schema)} CASCADE")
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--proposals", type=int, default=100)
    parser.add_argument("--trivial", type=int, default=300)
    parser.add_argument("--profile", metavar="FILE",
                        help="py-spy (pip install py-spy) on the worker during the N-at-once run")
    parser.add_argument("--rows", default=",".join(ROWS),
                        help="the rows to run, comma-separated (every row by default; only a run "
                             "of every row writes bench/results/workflows.json)")
    parser.add_argument("--profile-rows", default="proposal_all_at_once",
                        help="the rows py-spy records (--profile), comma-separated; in the "
                             "closing-together row only each burst of closed votes (FILE.1, …)")
    parser.add_argument("--perf-temporal", metavar="FILE",
                        help="perf record on the Temporal server during each burst of the "
                             "closing-together row (FILE.1, …; embedded stack only)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the N-at-once run this many times over (one distribution)")
    parser.add_argument("--tuning", default="{}", metavar="JSON",
                        help='worker options instead of production\'s, e.g. {"workflow_task_threads": 2}')
    parser.add_argument("--closing-rate", type=float, default=10.0,
                        help="votes closing a second, one after another, in the paced run")
    parser.add_argument("--quick", action="store_true", help="a few workflows: checks it runs")
    args = parser.parse_args()
    args.rows, args.profile_rows = args.rows.split(","), args.profile_rows.split(",")
    if unknown := set(args.rows) - set(ROWS):
        parser.error(f"unknown rows {sorted(unknown)}; rows: {', '.join(ROWS)}")
    if args.quick:
        args.proposals, args.trivial, args.rounds = 4, 10, 1
    env = os.environ
    if all(k in env for k in ("LINLI_DATABASE_URL", "LINLI_NATS_URL", "LINLI_TEMPORAL_ADDRESS")):
        result = asyncio.run(measure(env["LINLI_DATABASE_URL"], env["LINLI_NATS_URL"],
                                     env["LINLI_TEMPORAL_ADDRESS"], args))
    else:
        with harness.embedded(temporal=True) as stack:
            result = asyncio.run(measure(stack.database_url, stack.nats_url, stack.temporal_address,
                                         args, stack))
    if set(args.rows) == set(ROWS):
        harness.write("workflows", result)
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
