"""ActivityWorkflow on the time-skipping server against the real centre service: started by the
bridge from activity.created, it reminds those signed up the day before, asks those who came
for feedback after the end and closes the activity with its attendance; a cancelled activity
ends its timeline at once. The finished runs replay against today's code."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import msgspec
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from linli import bus, db
from linli.clients import ServiceClient, app_token
from linli.config import Settings
from linli.http import POOL
from services.centre import events as centre
from tests.conftest import AppFactory, assert_problem, eventually
from tests.integration.test_centre_support import (  # noqa: F401
    World,
    ok,
    tomorrow_at,
    world_fixture,
)
from tests.workflows.conftest import events_of, keep_history
from workflows.api.app import create_app as api_app
from workflows.centre_activity import activities, bridge
from workflows.centre_activity.types import workflow_id
from workflows.centre_activity.workflow import ActivityWorkflow
from workflows.outbox import OutboxActivities

DAY = 86400.0


@asynccontextmanager
async def worker(env: WorkflowEnvironment, w: World, settings: Settings,
                 pool: db.Pool) -> AsyncIterator[dict[str, bus.Subscription]]:
    """A worker for the timeline on its own queue; yields the bridge's subscriptions."""
    queue, prefix = f"activity-{uuid.uuid4()}", f"test-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession() as session:
        api = ServiceClient(session, base_url=str(w.app.make_url("")).rstrip("/"),
                            token=app_token(settings, "workflows", ["centre:manage"]))
        async with Worker(env.client, task_queue=queue, workflows=[ActivityWorkflow],
                          activities=[*activities.CentreActivities(api).all(),
                                      *OutboxActivities(pool).all()]):
            yield {s.event.name: s for s in bridge.subscriptions(env.client, queue, prefix=prefix)}


async def outbox_event(w: World, subject: str, kind: str) -> Any:
    """The centre's own CloudEvent of that type, as the bridge would receive it."""
    assert w.app.app is not None
    row = await w.app.app[POOL].fetchrow(
        "SELECT payload FROM outbox WHERE subject = $1"
        " AND convert_from(payload, 'UTF8')::jsonb->>'subject' = $2", kind, subject)
    return msgspec.json.decode(bytes(row["payload"]), type=bus.CloudEvent)


async def at_step(handle: WorkflowHandle[Any, Any], step: str) -> None:
    async def there() -> bool:
        return bool((await handle.query(ActivityWorkflow.state)).step == step)

    await eventually(there, within=60)


async def sleep_until(env: WorkflowEnvironment, moment: dt.datetime) -> None:
    """Skip the server's clock to `moment` (a fixed span from now would land on another step
    depending on the hour the test runs at)."""
    await env.sleep((moment - await env.get_current_time()).total_seconds())


async def test_the_timeline_reminds_asks_for_feedback_and_closes(
        time_env: WorkflowEnvironment, world: World, settings: Settings, pool: db.Pool) -> None:
    w = world
    a = await w.activity(capacity=2, start=tomorrow_at(9, days=3), title="重阳节登高")
    people = [str(uuid.uuid4()) for _ in range(3)]
    for p in people:
        await w.post(f"/activities/{a['id']}/signups", w.who(p))
    async with worker(time_env, w, settings, pool) as subs:
        created = await outbox_event(w, a["id"], centre.ACTIVITY_CREATED.name)
        sub = subs[centre.ACTIVITY_CREATED.name]
        assert await bus.apply_once(pool, sub, created) is True
        assert await bus.apply_once(pool, sub, created) is False  # redelivery: one run
        handle = time_env.client.get_workflow_handle_for(ActivityWorkflow.run,
                                                         workflow_id(a["id"]))
        await at_step(handle, "signup")
        assert await w.outbox(a["id"]) == ["linli.centre.activity.created"]
        # between the reminder (the day before) and check-in (an hour before the start)
        await sleep_until(time_env, dt.datetime.fromisoformat(a["starts_at"])
                          - dt.timedelta(hours=12))
        await at_step(handle, "reminder")
        [told] = await w.event_data(a["id"], "linli.centre.activity.reminder")
        assert told["people"] == people[:2]
        await time_env.sleep(10 * DAY)  # past the end and the feedback days
        final = await handle.result()
    assert [h.step for h in final.history] == [
        "signup", "reminder", "check_in", "signup_closed", "feedback", "closed"]
    got = await ok(await w.app.get(f"{w.base}/activities/{a['id']}", headers=w.who()))
    assert got["status"] == "closed"
    assert await w.outbox(a["id"]) == [
        "linli.centre.activity.created", "linli.centre.activity.reminder",
        "linli.centre.activity.feedback_requested", "linli.centre.activity.closed"]
    steps = [e["data"]["step"] for e in await events_of(pool, a["id"])
             if e["type"] == "linli.workflows.activity.step_changed"]
    assert steps == ["signup", "reminder", "check_in", "signup_closed", "feedback", "closed"]
    await Replayer(workflows=[ActivityWorkflow]).replay_workflow(await handle.fetch_history())
    await keep_history(handle, "activity_closed")


async def test_a_cancelled_activity_ends_its_timeline(
        time_env: WorkflowEnvironment, world: World, settings: Settings, pool: db.Pool) -> None:
    w = world
    a = await w.activity(capacity=5, start=tomorrow_at(9, days=5), title="亲子手工")
    async with worker(time_env, w, settings, pool) as subs:
        created = await outbox_event(w, a["id"], centre.ACTIVITY_CREATED.name)
        assert await bus.apply_once(pool, subs[centre.ACTIVITY_CREATED.name], created)
        handle = time_env.client.get_workflow_handle_for(ActivityWorkflow.run,
                                                         workflow_id(a["id"]))
        await at_step(handle, "signup")
        await w.post(f"/activities/{a['id']}/cancel", w.staff(), status=200, reason="场地维修")
        cancelled = await outbox_event(w, a["id"], centre.ACTIVITY_CANCELLED.name)
        assert await bus.apply_once(pool, subs[centre.ACTIVITY_CANCELLED.name], cancelled)
        final = await handle.result()
    assert [h.step for h in final.history] == ["signup", "cancelled"]
    assert final.history[-1].note == "场地维修"
    assert await w.outbox(a["id"]) == ["linli.centre.activity.created",
                                       "linli.centre.activity.cancelled"]
    await Replayer(workflows=[ActivityWorkflow]).replay_workflow(await handle.fetch_history())
    await keep_history(handle, "activity_cancelled")


async def test_the_service_cancelling_before_the_signal_also_ends_the_run(
        time_env: WorkflowEnvironment, world: World, settings: Settings, pool: db.Pool) -> None:
    w = world
    a = await w.activity(capacity=5, start=tomorrow_at(9, days=3), title="读书会")
    async with worker(time_env, w, settings, pool) as subs:
        created = await outbox_event(w, a["id"], centre.ACTIVITY_CREATED.name)
        assert await bus.apply_once(pool, subs[centre.ACTIVITY_CREATED.name], created)
        handle = time_env.client.get_workflow_handle_for(ActivityWorkflow.run,
                                                         workflow_id(a["id"]))
        await at_step(handle, "signup")
        await w.post(f"/activities/{a['id']}/cancel", w.staff(), status=200, reason="台风")
        await time_env.sleep(3 * DAY)  # the reminder step finds the activity cancelled
        final = await handle.result()
    assert [h.step for h in final.history] == ["signup", "cancelled"]
    assert await w.outbox(a["id"]) == ["linli.centre.activity.created",
                                       "linli.centre.activity.cancelled"]


async def test_the_workflow_api_shows_an_activity_timeline(
        world: World, settings: Settings, pool: db.Pool, serve: AppFactory) -> None:
    w = world
    http = await serve(api_app)
    client = await Client.connect(settings.temporal_address)
    env = WorkflowEnvironment.from_client(client)
    a = await w.activity(capacity=5, start=tomorrow_at(9, days=4), title="瑜伽体验课")
    async with worker(env, w, settings, pool) as subs:
        created = await outbox_event(w, a["id"], centre.ACTIVITY_CREATED.name)
        assert await bus.apply_once(pool, subs[centre.ACTIVITY_CREATED.name], created)
        handle = client.get_workflow_handle(workflow_id(a["id"]))
        try:
            await at_step(handle, "signup")
            path = f"{w.base}/activities/{a['id']}/workflow"
            view = await ok(await http.get(path, headers=w.staff("community")))
            assert view["status"] == "running" and view["state"]["step"] == "signup"
            assert [h["step"] for h in view["state"]["history"]] == ["signup"]
            await assert_problem(await http.get(path, headers=w.who()), 403, "forbidden")
            await assert_problem(await http.get(f"{w.base}/activities/{uuid.uuid4()}/workflow",
                                                headers=w.staff()), 404, "not-found")
        finally:
            await handle.terminate("测试结束")
