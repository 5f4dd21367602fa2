"""The worker process on the dev server with the real directory and meetings services.

A proposal runs through consultation, vote, implementation, acceptance and satisfaction with
the real activities; the worker process is killed (SIGKILL) in the middle of the consultation
and a new one takes over. Opinions and the vote result arrive as events through the bridge.
Nothing may be lost or done twice; /metrics shows the step metrics and the SDK's own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from temporalio.client import Client, WorkflowHandle

from linli import bus, db
from linli.config import Settings
from linli.stack import free_port
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app as meetings_app
from tests.conftest import AppFactory, TokenFactory, bearer, eventually
from tests.integration.test_meetings_support import Compound, later, new_compound, ok, problem
from tests.workflows.conftest import events_of
from workflows.api.app import create_app as workflows_app

OWNERS = ("陈志明", "林淑芬", "黄建国")
Spawn = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture
def worker_env(settings: Settings) -> dict[str, str]:
    """A worker on its own task queue, bridge durables and metrics port, on the test servers."""
    env = dict(os.environ)
    env.update({
        "LINLI_DATABASE_URL": settings.database_url, "LINLI_NATS_URL": settings.nats_url,
        "LINLI_TEMPORAL_ADDRESS": settings.temporal_address, "LINLI_JWT_SECRET": settings.jwt_secret,
        "LINLI_TEMPORAL_TASK_QUEUE": f"crash-{uuid.uuid4()}", "LINLI_BRIDGE_FOLLOW_UPS": "0",
        "LINLI_BRIDGE_PREFIX": f"test-{uuid.uuid4().hex[:12]}",
        "LINLI_WORKER_METRICS_PORT": str(free_port()),
        **{f"LINLI_{name.upper()}_PORT": str(port) for name, port in settings.ports.items()},
    })
    return env


@pytest.fixture
async def spawn(worker_env: dict[str, str], settings: Settings) -> AsyncIterator[Spawn]:
    """Start worker processes; afterwards stop them and remove their durable consumers."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-m", "linli.cli", "worker"], env=worker_env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    client = await Client.connect(settings.temporal_address)  # a failed run leaves its workflow
    query = f"TaskQueue = '{worker_env['LINLI_TEMPORAL_TASK_QUEUE']}' AND ExecutionStatus = 'Running'"
    async for run in client.list_workflows(query):
        await client.get_workflow_handle(run.id, run_id=run.run_id).terminate("测试结束")
    nc = await bus.connect(settings.nats_url, name="test-cleanup")
    js = nc.jetstream()
    for info in await js.consumers_info(bus.STREAM):
        if info.name.startswith(worker_env["LINLI_BRIDGE_PREFIX"] + "-"):
            await js.delete_consumer(bus.STREAM, info.name)
    await nc.close()


async def sunny_garden(directory: Any, token: TokenFactory) -> Compound:
    c = await new_compound(directory, token)
    for i, name in enumerate(OWNERS):
        await c.unit(f"{i + 1}01", "90.00", name)
    return c


async def metrics_text(port: int) -> str:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as r:
        return await r.text()


async def wait_step(handle: WorkflowHandle[Any, Any], step: str, within: float = 60,
                    having: str = "step") -> dict[str, Any]:
    """Poll the state query until the step is reached (and the `having` field is set)."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        try:
            state: dict[str, Any] = await handle.query("state")
            if state["step"] == step and state.get(having):
                return state
        except Exception:  # no worker polling for a moment (between the two processes)
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"workflow never reached {step}")


async def test_worker_killed_mid_consultation(
        settings: Settings, serve: AppFactory, token: TokenFactory, spawn: Spawn,
        worker_env: dict[str, str], pool: db.Pool) -> None:
    queue = worker_env["LINLI_TEMPORAL_TASK_QUEUE"]
    directory = await serve(directory_app, port=settings.port("directory"))
    meetings = await serve(meetings_app, port=settings.port("meetings"))
    api = await serve(lambda _: workflows_app(settings.with_overrides(temporal_task_queue=queue)))
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    proposal = await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals", headers=branch, json={
        "title": "顶楼隔热改造", "matter": "art278_7", "body": "屋面加隔热层并平改坡"}), 201)
    pid = proposal["id"]
    first = spawn()
    started = await ok(await api.post("/v1/workflows", headers=branch, json={
        "type": "proposal", "key": "renovation-1", "input": {
            "compound_id": c.id, "proposal_id": pid, "convener": "branch",
            "consultation_seconds": 30, "consultation_reminders": [10], "vote_seconds": 30,
            "vote_reminders": [25], "vote_grace_seconds": 20, "acceptance_seconds": 60,
            "satisfaction_seconds": 2,
            "milestones": [{"name": "屋面隔热层", "due_at": later(86400)}]}}), 201)
    client = await Client.connect(settings.temporal_address)
    handle = client.get_workflow_handle(started["workflow_id"])
    await wait_step(handle, "consultation")
    async def consultation_open() -> bool:  # the step is entered just before meetings opens it
        r = await meetings.get(f"/v1/compounds/{c.id}/proposals/{pid}/consultation", headers=branch)
        return r.status == 200 and (await r.json())["status"] == "open"

    await eventually(consultation_open)
    await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals/{pid}/opinions",
                                 headers=c.as_owner(token, OWNERS[0]),
                                 json={"stance": "support", "text": "早该修了"}), 201)
    async def residents_told() -> bool:  # the window is under way
        return any(e["data"].get("kind") == "consultation_opened" for e in await events_of(pool, pid))

    await eventually(residents_told)
    assert (await handle.query("state"))["step"] == "consultation"
    first.kill()  # SIGKILL in the middle of the consultation window
    first.wait()
    second = spawn()
    state = await wait_step(handle, "vote", within=90, having="vote_id")
    for name in OWNERS[:2]:
        await ok(await meetings.post(f"/v1/compounds/{c.id}/votes/{state['vote_id']}/ballots",
                                     headers=c.as_owner(token, name), json={"choice": "agree"}), 201)
    close = f"/v1/compounds/{c.id}/votes/{state['vote_id']}/close"
    # the workflow runs the proposal: the branch cannot close its vote behind its back
    refused = await problem(await meetings.post(close, headers=branch), 409, "managed-by-workflow")
    assert started["workflow_id"] in refused["detail"]
    # the vote closes as it would at its deadline: by meetings' own hand (an app, not a person)
    await ok(await meetings.post(close, headers=bearer(token(
        app="meetings", scopes=["meetings:manage"], compounds=["*"]))))
    state = await wait_step(handle, "implementation")  # the vote.closed event, through the bridge
    assert state["votes"][0]["outcome"] == "passed" and state["opinions"]["support"] == 1
    url = f"/v1/workflows/{started['workflow_id']}"
    await ok(await api.post(f"{url}/signals/milestone_progress", headers=branch,
                            json={"milestone": "屋面隔热层", "percent": 100}), 202)
    await wait_step(handle, "acceptance")
    await ok(await api.post(f"{url}/updates/accept", headers=branch,
                            json={"approved": True, "signed_by": ["业委会主任"]}))
    summary = await handle.result()
    assert summary["outcome"] == "completed"
    assert [h["step"] for h in summary["history"]] == [
        "draft", "consultation", "vote", "implementation", "acceptance", "satisfaction", "completed"]

    # nothing twice: one vote in meetings, each step's event once, each reminder once
    votes = await ok(await meetings.get(f"/v1/compounds/{c.id}/proposals/{pid}/votes", headers=branch))
    assert len(votes["items"]) == 1
    events = await events_of(pool, pid)
    kinds = Counter((e["type"].rsplit(".", 1)[-1], e["data"].get("step") or e["data"].get("kind"))
                    for e in events)
    assert all(n == 1 for n in kinds.values()), kinds
    assert kinds[("reminder_due", "consultation_ending")] == 1

    expected = ['linli_workflow_step_duration_seconds_bucket{', 'step="vote"',
                'workflow="proposal"', "linli_workflow_steps_total{",
                "temporal_workflow_completed_total",
                "temporal_activity_execution_latency_seconds_bucket",
                'linli_workflows_running{workflow="proposal"}',
                f'linli_events_consumed_total{{consumer="{worker_env["LINLI_BRIDGE_PREFIX"]}-vote-closed"']
    missing: list[str] = []

    async def exported() -> bool:  # the SDK records a completion a moment after its result
        text = await metrics_text(int(worker_env["LINLI_WORKER_METRICS_PORT"]))
        missing[:] = [name for name in expected if name not in text]
        return not missing

    try:
        await eventually(exported)
    except AssertionError:
        raise AssertionError(f"the worker never exported {missing}") from None
    assert second.poll() is None
