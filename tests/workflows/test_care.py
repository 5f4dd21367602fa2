"""CarePlanWorkflow against the Temporal dev server and the real volunteers service: started by
the bridge from care_plan.created, a visit nobody recorded is flagged at its due time, a
recorded one is left as it is, runs continue as new, and care_plan.ended stops the timer."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Replayer, Worker

from linli import bus, db
from linli.clients import ServiceClient, app_token
from linli.config import Settings
from services.volunteers import events as volunteers
from tests.conftest import AppFactory, assert_problem, eventually
from tests.integration.test_volunteers_support import (  # noqa: F401
    World,
    ok,
    world_fixture,
)
from tests.workflows.conftest import keep_history
from workflows.api.app import create_app as api_app
from workflows.care import activities, bridge
from workflows.care import types as care
from workflows.care.workflow import CarePlanWorkflow

DUE_IN = 3.0  # seconds until a test plan's first visit is due


async def new_plan(w: World, volunteer_id: str, due_in: float = DUE_IN) -> dict[str, Any]:
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=due_in)
    return dict(await ok(await w.app.post(f"{w.base}/care-plans", headers=w.staff(), json={
        "person_id": str(uuid.uuid4()), "person_name": "林奶奶", "unit_id": w.unit,
        "volunteer_id": volunteer_id, "first_due_at": due.isoformat(), "interval_days": 1}),
        201))


def event_of(kind: Any, plan: dict[str, Any], by: str = "community") -> Any:
    pid, cid = uuid.UUID(plan["id"]), uuid.UUID(plan["compound_id"])
    return kind.new(subject=plan["id"], compound_id=plan["compound_id"],
                    data=volunteers.CarePlanChanged(plan_id=pid, compound_id=cid,
                                                    person_id=plan["person_id"],
                                                    volunteer_id=uuid.UUID(plan["volunteer_id"]),
                                                    interval_days=1, by=by))


async def visits(w: World, plan: dict[str, Any]) -> list[tuple[int, str]]:
    rows = await ok(await w.app.get(f"{w.base}/care-plans/{plan['id']}/visits",
                                    headers=w.staff()))
    return [(v["seq"], v["status"]) for v in rows["items"]]


@asynccontextmanager
async def cleanup(client: Client) -> AsyncIterator[list[str]]:
    """Leave no running workflow on the shared dev server, whatever happens in the test."""
    ids: list[str] = []
    try:
        yield ids
    finally:
        for workflow_id in ids:
            with contextlib.suppress(Exception):
                await client.get_workflow_handle(workflow_id).terminate("测试结束")


async def until(check: Any) -> None:
    await eventually(check, within=60)


async def test_care_plan_workflow_flags_a_missed_visit_at_its_due_time(
        world: World, settings: Settings, pool: db.Pool, serve: AppFactory) -> None:
    w = world
    http = await serve(api_app)
    v, vol = await w.volunteer("张阿姨", "elder_visit")
    client = await Client.connect(settings.temporal_address)
    queue, prefix = f"care-{uuid.uuid4()}", f"test-{uuid.uuid4().hex[:8]}"
    subs = {s.event.name: s for s in bridge.subscriptions(client, queue, prefix=prefix)}
    async with aiohttp.ClientSession() as session:
        api = ServiceClient(session, base_url=str(w.app.make_url("")).rstrip("/"),
                            token=app_token(settings, "workflows", ["volunteers:manage"]))
        async with Worker(client, task_queue=queue, workflows=[CarePlanWorkflow],
                          activities=activities.CareActivities(api).all()), cleanup(client) as ids:
            # plan 1: started by the bridge; nobody visits, so visit 1 is missed at its time
            missed = await new_plan(w, v["id"])
            created = event_of(volunteers.CARE_PLAN_CREATED, missed)
            sub = subs[volunteers.CARE_PLAN_CREATED.name]
            assert await bus.apply_once(pool, sub, created) is True
            assert await bus.apply_once(pool, sub, created) is False  # redelivery: nothing twice
            handle = client.get_workflow_handle(care.workflow_id(missed["id"]))
            ids.append(handle.id)
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

            async def flagged() -> bool:
                return (await visits(w, missed))[:2] == [(1, "missed"), (2, "due")]

            await until(flagged)
            flags = await ok(await w.app.get(f"{w.base}/care-flags", headers=w.staff()))
            assert [f["seq"] for f in flags["items"]] == [1]

            async def waiting_for_visit_2() -> bool:
                return bool((await handle.query("state"))["seq"] == 2)

            await until(waiting_for_visit_2)
            state = await handle.query("state")
            assert state["closed"] == {"missed": 1} and state["active"] is True
            assert await w.outbox(missed["next_visit"]["id"]) == [
                "linli.volunteers.care_visit.missed"]

            # plan 2: one visit per run; the volunteer records in time, so nothing is flagged.
            # "In time" is before the due time: a machine too slow for the window finds the
            # visit already missed (409) and tries again with a longer one.
            for window in (DUE_IN, 4 * DUE_IN, 16 * DUE_IN):
                kept = await new_plan(w, v["id"], due_in=window)
                first = kept["next_visit"]
                await client.start_workflow(
                    CarePlanWorkflow.run, care.CarePlanInput(w.cid, kept["id"], 1),
                    id=care.workflow_id(kept["id"]), task_queue=queue)
                other = client.get_workflow_handle(care.workflow_id(kept["id"]))  # latest run
                ids.append(other.id)

                async def waiting_for_visit_1() -> bool:
                    return bool((await other.query("state"))["seq"] == 1)  # noqa: B023

                await until(waiting_for_visit_1)
                run_id = (await other.describe()).run_id
                recorded = await w.app.post(
                    f"{w.base}/care-plans/{kept['id']}/visits/{first['id']}/record", headers=vol,
                    json={"minutes": 45, "notes": "陪老人聊天，检查燃气"})
                if recorded.status == 200:
                    break
                await assert_problem(recorded, 409, "illegal-transition")  # missed meanwhile
            else:
                raise AssertionError("the visit could not be recorded before its due time")

            async def continued() -> bool:
                return bool((await other.describe()).run_id != run_id)

            await until(continued)
            await keep_history(client.get_workflow_handle(other.id, run_id=run_id),
                               "care_plan_visit_recorded")

            async def new_run_waits_for_visit_2() -> bool:
                return bool((await other.query("state"))["seq"] == 2)

            await until(new_run_waits_for_visit_2)
            view = await ok(await http.get(f"{w.base}/care-plans/{kept['id']}/workflow",
                                           headers=w.staff()))
            assert view["status"] == "running" and view["state"]["seq"] == 2
            assert view["state"]["active"] is True and view["run_id"] != run_id
            await assert_problem(await http.get(f"{w.base}/care-plans/{kept['id']}/workflow",
                                                headers=w.who()), 403, "forbidden")
            await assert_problem(await http.get(
                f"{w.base}/care-plans/{uuid.uuid4()}/workflow", headers=w.staff()), 404,
                "not-found")
            assert await visits(w, kept) == [(1, "recorded"), (2, "due")]

            # ending plan 1 wakes its workflow, which finishes without touching visit 2
            await ok(await w.app.post(f"{w.base}/care-plans/{missed['id']}/end",
                                      headers=w.staff()))
            ended = event_of(volunteers.CARE_PLAN_ENDED, missed)
            assert await bus.apply_once(pool, subs[volunteers.CARE_PLAN_ENDED.name], ended)
            result = await handle.result()
            assert result["active"] is False and result["closed"] == {"missed": 1}
            assert await visits(w, missed) == [(1, "missed"), (2, "cancelled")]
            # the finished run replays deterministically against the current code
            replayed = await Replayer(workflows=[CarePlanWorkflow]).replay_workflow(
                await handle.fetch_history(), raise_on_replay_failure=False)
            assert replayed.replay_failure is None
            await keep_history(handle, "care_plan_missed_then_ended")
