"""The committee founding through the workflow HTTP API (dev server, real directory): start with
the law's bounds checked, the street office's updates, apps-only signals, cancel."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
from temporalio.client import Client
from temporalio.worker import Worker

from linli import db
from linli.clients import ServiceClient, app_token
from linli.config import Settings
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app as meetings_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer, eventually
from tests.integration.test_committee_election import OWNERS, nine_owners
from tests.integration.test_meetings_support import ok
from tests.workflows.test_api import finish_all
from workflows.api.app import create_app
from workflows.committee.activities import CommitteeActivities
from workflows.committee.workflow import CommitteeFoundingWorkflow
from workflows.outbox import OutboxActivities


async def test_committee_founding_over_the_workflow_api(
        settings: Settings, serve: AppFactory, token: TokenFactory, pool: db.Pool) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    c = await nine_owners(directory, token)
    mine = settings.with_overrides(temporal_task_queue=f"committee-api-{uuid.uuid4()}")
    client = await Client.connect(mine.temporal_address)
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    async with aiohttp.ClientSession() as session:
        api = ServiceClient(session, base_url=str(directory.make_url("")).rstrip("/"),
                            token=app_token(settings, "workflows", ["directory:write"]))
        meetings = await serve(meetings_app)
        meetings_api = ServiceClient(session, base_url=str(meetings.make_url("")).rstrip("/"),
                                     token=app_token(settings, "workflows", ["meetings:manage"]))
        async with Worker(client, task_queue=mine.temporal_task_queue,
                          workflows=[CommitteeFoundingWorkflow],
                          activities=[*CommitteeActivities(api, meetings_api).all(),
                                      *OutboxActivities(pool).all()]):
            http = await serve(lambda _: create_app(mine))

            def start(**extra: Any) -> Any:
                return http.post("/v1/workflows", headers=street, json={
                    "type": "committee", "key": "申请-1",
                    "input": {"compound_id": c.id, **extra}})

            for wrong in ({"term_years": 6}, {"notice_days": 10}, {"qualifying_share": "0.5"},
                          {"requested_by": "someone"}, {"typo": 1}):
                await assert_problem(await start(**wrong), 422, "validation-error")
            started = await ok(await start(), 201)
            assert started["workflow_id"] == f"committee-{c.id}" and started["created"]
            assert (await ok(await start(), 200))["created"] is False
            w = f"/v1/workflows/committee-{c.id}"
            async def qualified() -> Any:
                state = (await ok(await http.get(w, headers=street)))["state"]
                return state if state["qualification"] else None
            state = await eventually(qualified)
            assert state["step"] == "requested"
            assert state["qualification"]["delivered_area_centi"] == 95000
            await assert_problem(await http.post(f"{w}/updates/confirm", json={},
                                                 headers=branch), 403, "forbidden")
            done = await ok(await http.post(f"{w}/updates/confirm", json={"note": "已核实"},
                                            headers=street))
            assert done["result"] == "preparatory_group"
            minority = {"members": [
                {"person_id": c.people[OWNERS[0]], "name": OWNERS[0]},
                {"person_id": c.people[OWNERS[1]], "name": "开发商代表", "represents": "developer"}]}
            async def forming() -> bool:
                state = (await ok(await http.get(w, headers=street)))["state"]
                return bool(state["step"] == "preparatory_group")
            await eventually(forming)
            await a_group_naming_people_of_another_compound_is_refused(http, street, w, c,
                                                                      directory, token)
            await assert_problem(await http.post(f"{w}/updates/form_group", json=minority,
                                                 headers=street), 409, "update-rejected")
            await assert_problem(await http.post(f"{w}/signals/election_closed", json={
                "vote_id": "v", "outcome": "complete", "elected": []}, headers=street),
                403, "forbidden")
            resigns = {"person_id": c.people[OWNERS[0]], "reason": "resignation"}
            await assert_problem(await http.post(f"{w}/updates/vacate", json=resigns,
                                                 headers=branch), 403, "forbidden")
            early = await assert_problem(await http.post(f"{w}/updates/vacate", json=resigns,
                                                         headers=street), 409, "update-rejected")
            assert "不能变更委员" in early["detail"]  # only a committee in office has members
            await assert_problem(await http.post(f"{w}/cancel", json={"reason": "撤回"},
                                                 headers=branch), 403, "forbidden")
            view = await ok(await http.post(f"{w}/cancel", json={"reason": "业主撤回申请"},
                                            headers=street))
            assert view["workflow_id"] == f"committee-{c.id}"
            await finish_all(client, mine.temporal_task_queue)
            final = (await ok(await http.get(w, headers=street)))
            assert final["status"] == "completed" and final["state"]["step"] == "cancelled"
            await a_new_founding_after_the_ended_one(http, street, c.id, started["run_id"])


async def a_group_naming_people_of_another_compound_is_refused(
        http: Any, street: dict[str, str], w: str, c: Any, directory: Any,
        token: TokenFactory) -> None:
    """A preparatory group naming a person of another compound (or nobody the directory
    knows) is refused with 422 naming them, before the workflow hears of it: still no group."""
    elsewhere = await nine_owners(directory, token)
    group = {"members": [
        *({"person_id": c.people[n], "name": n} for n in OWNERS[:3]),
        {"person_id": elsewhere.people[OWNERS[0]], "name": "别的小区的业主"},
        {"person_id": str(uuid.uuid4()), "name": "查无此人", "represents": "street_office"}]}
    refused = await assert_problem(await http.post(f"{w}/updates/form_group", json=group,
                                                   headers=street), 422, "validation-error")
    assert "别的小区的业主" in refused["detail"] and "查无此人" in refused["detail"]
    assert OWNERS[0] not in refused["detail"]
    assert refused["errors"][0]["field"] == "members"
    state = (await ok(await http.get(w, headers=street)))["state"]
    assert (state["step"], state["group"]) == ("preparatory_group", [])
    await assert_problem(await http.post(f"{w}/updates/form_group", json={"members": [
        {"person_id": "不是编号", "name": "甲"}]}, headers=street), 422, "validation-error")


async def a_new_founding_after_the_ended_one(http: Any, street: dict[str, str], compound_id: str,
                                             ended_run: str) -> None:
    """The ended founding's key still finds it; another key founds anew on the same id, and a
    second founding beside the running one is a 409."""
    def start(key: str) -> Any:
        return http.post("/v1/workflows", headers=street, json={
            "type": "committee", "key": key, "input": {"compound_id": compound_id}})

    again = await ok(await start("申请-1"), 200)
    assert (again["run_id"], again["created"], again["status"]) == (ended_run, False, "completed")
    anew = await ok(await start("申请-2"), 201)
    assert anew["workflow_id"] == f"committee-{compound_id}" and anew["created"]
    assert anew["run_id"] != ended_run and anew["status"] == "running"
    assert (await ok(await start("申请-2"), 200))["run_id"] == anew["run_id"]
    refused = await assert_problem(await start("申请-3"), 409, "workflow-exists")
    assert "正在进行中" in refused["detail"]
    w = f"/v1/workflows/committee-{compound_id}"
    assert (await ok(await http.get(w, headers=street)))["run_id"] == anew["run_id"]
    await ok(await http.post(f"{w}/cancel", json={"reason": "测试结束"}, headers=street))


async def test_a_run_without_a_compound_is_not_found_not_a_failure(
        settings: Settings, serve: AppFactory, token: TokenFactory) -> None:
    """A founding run started on Temporal by something other than this API or the bridge has no
    compound in its memo: it is nobody's, so even a caller of every compound is told it is not
    found (404), never a 500. No worker serves its queue: the answer comes before the run
    would be asked anything."""
    mine = settings.with_overrides(temporal_task_queue=f"committee-bare-{uuid.uuid4()}")
    client = await Client.connect(mine.temporal_address)
    compound = str(uuid.uuid4())
    handle = await client.start_workflow(
        "CommitteeFoundingWorkflow", {"compound_id": compound}, id=f"committee-{compound}",
        task_queue=mine.temporal_task_queue)  # no memo
    try:
        http = await serve(lambda _: create_app(mine))
        w = f"/v1/workflows/committee-{compound}"
        admin = bearer(token(roles=["admin"], compounds=["*"]))
        group = {"members": [{"person_id": str(uuid.uuid4()), "name": "甲"}]}
        for r in (await http.post(f"{w}/updates/form_group", json=group, headers=admin),
                  await http.get(w, headers=admin)):
            found = await assert_problem(r, 404, "not-found")
            assert "流程" in found["detail"] and f"committee-{compound}" in found["detail"]
    finally:
        await handle.terminate("测试结束")
