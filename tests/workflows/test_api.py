"""The workflow HTTP API over a real port against the Temporal dev server.

A worker runs ProposalWorkflow in-process on a private task queue (meetings played by the fake).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from temporalio.client import Client
from temporalio.worker import Worker

from linli import db
from linli.config import Settings
from services.issues.app import create_app as issues_app
from tests.conftest import AppFactory, TokenFactory, bearer, eventually
from tests.workflows.council import Council
from tests.workflows.fakes import FakeMeetings
from workflows.api.app import create_app
from workflows.follow_up.workflow import IssueFollowUpWorkflow
from workflows.outbox import OutboxActivities
from workflows.proposal.workflow import ProposalWorkflow


@dataclass
class Api:
    http: TestClient
    headers: dict[str, str]
    compound: str
    council: Council  # the real directory and meetings: the API asks meetings whose proposal it is
    issues: TestClient
    temporal: Client
    meetings: FakeMeetings  # what the worker's activities do in meetings


@pytest.fixture
async def api(settings: Settings, serve: AppFactory, token: TokenFactory, council: Council,
              pool: db.Pool) -> AsyncIterator[Api]:
    mine = settings.with_overrides(temporal_task_queue=f"api-test-{uuid.uuid4()}")
    client = await Client.connect(mine.temporal_address)
    issues = await serve(issues_app, port=settings.port("issues"))
    meetings = FakeMeetings()
    async with Worker(client, task_queue=mine.temporal_task_queue,
                      workflows=[ProposalWorkflow, IssueFollowUpWorkflow],
                      activities=[*meetings.all(), *OutboxActivities(pool).all()]):
        http = await serve(lambda _: create_app(mine))
        compound = council.compound.id
        yield Api(http, bearer(token(roles=["party_branch"], compounds=[compound])), compound,
                  council, issues, client, meetings)
        await finish_all(client, mine.temporal_task_queue)


async def finish_all(client: Client, queue: str) -> None:
    """Let cancelled runs finish while the worker is still here; end any other (shared server)."""
    async for run in client.list_workflows(f"TaskQueue = '{queue}' AND ExecutionStatus = 'Running'"):
        handle = client.get_workflow_handle(run.id, run_id=run.run_id)
        try:
            await asyncio.wait_for(handle.result(), timeout=10)
        except Exception:
            await handle.terminate("测试结束")


async def proposal_input(api: Api, **extra: Any) -> dict[str, Any]:
    """The input for a workflow on a new proposal of the caller's compound, made in meetings."""
    return {"compound_id": api.compound, "proposal_id": await api.council.proposal(),
            "convener": "p-1",
            "milestones": [{"name": "屋面隔热层", "due_at": "2027-06-01T00:00:00+08:00"}], **extra}


async def problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json()
    assert body["type"] == f"urn:linli:problem:{kind}", body
    return body


async def state_when(api: Api, workflow_id: str, step: str) -> dict[str, Any]:
    async def there() -> dict[str, Any] | None:
        r = await api.http.get(f"/v1/workflows/{workflow_id}", headers=api.headers)
        view: dict[str, Any] = await r.json()
        return view if r.status == 200 and view["state"]["step"] == step else None

    result: dict[str, Any] = await eventually(there)
    return result


async def start(api: Api, key: str, data: dict[str, Any]) -> Any:
    return await api.http.post("/v1/workflows", headers=api.headers,
                               json={"type": "proposal", "key": key, "input": data})


async def test_start_query_signal_update_cancel(api: Api, token: TokenFactory) -> None:
    data = await proposal_input(api)
    r = await start(api, "k-1", data)
    assert r.status == 201, await r.text()
    started = await r.json()
    wid = f"proposal-{data['proposal_id']}"
    assert started["workflow_id"] == wid and started["created"] is True

    again = await start(api, "k-1", data)  # same key: the same run, not a second one
    assert again.status == 200 and (await again.json())["run_id"] == started["run_id"]
    await problem(await start(api, "k-2", data), 409, "workflow-exists")

    view = await state_when(api, wid, "consultation")
    assert "consultation_closes" in view["state"]["deadlines"]
    assert [h["step"] for h in view["state"]["history"]] == ["draft", "consultation"]

    meetings = bearer(token(app="meetings", scopes=["workflows:start"], compounds=[api.compound]))
    r = await api.http.post(f"/v1/workflows/{wid}/signals/opinion_recorded", headers=meetings,
                            json={"opinion_id": "o-1", "stance": "support"})
    assert r.status == 202 and (await r.json())["step"] == "consultation"
    r = await api.http.post(f"/v1/workflows/{wid}/updates/revise", headers=api.headers,
                            json={"body": "第二版", "change_summary": "补充预算", "window": "extend",
                                  "extend_seconds": 86400})
    assert r.status == 200 and (await r.json())["result"] == 2
    view = await state_when(api, wid, "consultation")
    assert view["state"]["opinions"]["support"] == 1 and view["state"]["version"] == 2
    await problem(await api.http.post(f"/v1/workflows/{wid}/updates/schedule_review",
                                      headers=api.headers, json={"starts_at": "2099-07-03T19:30",
                                                                 "place": "会议室"}),
                  422, "validation-error")
    r = await api.http.post(f"/v1/workflows/{wid}/updates/schedule_review", headers=api.headers,
                            json={"starts_at": "2099-07-03T19:30:00+08:00", "place": "会议室"})
    assert r.status == 200, await r.text()
    view = await state_when(api, wid, "consultation")
    assert [(x["meeting_id"], x["place"]) for x in view["state"]["reviews"]] == [
        ((await r.json())["result"], "会议室")]

    r = await api.http.post(f"/v1/workflows/{wid}/cancel", headers=api.headers,
                            json={"reason": "街道要求暂停"})
    assert r.status == 200, await r.text()
    view = await state_when(api, wid, "cancelled")
    assert view["state"]["cancel_reason"] == "街道要求暂停"
    async def completed() -> bool:
        view = await (await api.http.get(f"/v1/workflows/{wid}", headers=api.headers)).json()
        return bool(view["status"] == "completed")

    await eventually(completed)
    await problem(await api.http.post(f"/v1/workflows/{wid}/cancel", headers=api.headers,
                                      json={"reason": "再取消"}), 409, "workflow-closed")
    again = await start(api, "k-1", data)  # finished: the same key still names that run
    assert again.status == 200 and (await again.json())["run_id"] == started["run_id"]


async def test_illegal_signals_and_updates(api: Api, token: TokenFactory) -> None:
    data = await proposal_input(api)
    assert (await start(api, "k", data)).status == 201
    wid = f"proposal-{data['proposal_id']}"
    await state_when(api, wid, "consultation")
    url = f"/v1/workflows/{wid}"
    await problem(await api.http.post(f"{url}/signals/rating", headers=api.headers,
                                      json={"person_id": "r", "score": 5}), 409, "signal-not-allowed")
    await problem(await api.http.post(f"{url}/signals/launch", headers=api.headers, json={}),
                  404, "unknown-signal")
    # a vote's result and residents' opinions are meetings' facts: no person may send them
    await problem(await api.http.post(f"{url}/signals/vote_closed", headers=api.headers, json={
        "vote_id": "v", "outcome": "passed", "version": 1, "rule": "civil_code_major"}),
        403, "forbidden")
    await problem(await api.http.post(f"{url}/signals/opinion_recorded", headers=api.headers,
                                      json={"opinion_id": "o", "stance": "support"}),
                  403, "forbidden")
    meetings = bearer(token(app="meetings", scopes=["workflows:start"], compounds=[api.compound]))
    await problem(await api.http.post(f"{url}/signals/opinion_recorded", headers=meetings,
                                      json={"stance": "support"}), 422, "validation-error")
    await problem(await api.http.post(f"{url}/signals/opinion_recorded", headers=meetings,
                                      json={"opinion_id": "o", "stance": "x", "extra": 1}),
                  422, "validation-error")
    await problem(await api.http.post(f"{url}/updates/accept", headers=api.headers,
                                      json={"approved": True, "signed_by": ["主任"]}),
                  409, "update-rejected")
    await problem(await api.http.post(f"{url}/updates/decide", headers=api.headers,
                                      json={"action": "abandon"}), 409, "update-rejected")
    await problem(await api.http.post(f"{url}/updates/explode", headers=api.headers, json={}),
                  404, "unknown-update")
    for extend in (1e12, 0, -5):  # refused here, not left to break the workflow's clock
        await problem(await api.http.post(f"{url}/updates/revise", headers=api.headers, json={
            "body": "第二版", "change_summary": "延期", "window": "extend",
            "extend_seconds": extend}), 422, "validation-error")
    await problem(await api.http.post(f"{url}/cancel", headers=api.headers, json={}),
                  422, "validation-error")
    r = await api.http.post(f"{url}/cancel", headers=api.headers, json={"reason": "测试结束"})
    assert r.status == 200


@pytest.mark.parametrize("body, status, kind", [
    ({"type": "renovation", "key": "k", "input": {}}, 422, "validation-error"),
    ({"type": "proposal", "key": "", "input": {}}, 422, "validation-error"),
    ({"type": "proposal", "key": "k", "input": {"compound_id": "x"}}, 422, "validation-error"),
    ({"type": "proposal", "key": "k", "input": {"compound_id": "C", "proposal_id": "not-a-uuid",
                                                 "convener": "p"}}, 422, "validation-error"),
    ({"type": "proposal", "key": "k", "input": {"compound_id": "C", "proposal_id": "P",
                                                 "convener": "p", "vote_seconds": 0}}, 422,
     "validation-error"),
    ({"type": "proposal", "key": "k", "input": {"compound_id": "C", "proposal_id": "P",
                                                 "convener": "p", "colour": "red"}}, 422,
     "validation-error"),
    ({"type": "proposal", "key": "k", "input": {"compound_id": "C", "proposal_id": "P",
                                                 "convener": "p", "vote_seconds": 1e12}}, 422,
     "validation-error"),  # 31,700 years: no timer holds it, the run would fail on its first step
    ({"type": "proposal", "key": "k", "input": {
        "compound_id": "C", "proposal_id": "P", "convener": "p",
        "milestones": [{"name": "m", "due_at": "2027-06-01T00:00:00"}]}}, 422, "validation-error"),
    ({"type": "proposal", "key": "k", "input": {"compound_id": "C", "proposal_id": "P",
                                                 "convener": "p", "convener_org": "resident"}},
     422, "validation-error"),
    ({"type": "issue_follow_up", "key": "k", "input": {"compound_id": "C", "issue_id": "P",
                                                        "resolve_by": "soon"}}, 422,
     "validation-error"),
])
async def test_bad_input(api: Api, body: dict[str, Any], status: int, kind: str) -> None:
    # "C": the caller's compound, "P": a real proposal of it (a made-up id is refused anyway)
    real = await api.council.proposal() if body["type"] == "proposal" else str(uuid.uuid4())

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return {"C": api.compound, "P": real}.get(value, value) if isinstance(
            value, str) else value

    await problem(await api.http.post("/v1/workflows", headers=api.headers, json=fill(body)),
                  status, kind)


async def test_access(api: Api, token: TokenFactory) -> None:
    data = await proposal_input(api)
    body = {"type": "proposal", "key": "k", "input": data}
    resident = bearer(token(roles=["resident"], compounds=[api.compound]))
    await problem(await api.http.post("/v1/workflows", headers=resident, json=body), 403, "forbidden")
    elsewhere = bearer(token(roles=["party_branch"], compounds=[str(uuid.uuid4())]))
    await problem(await api.http.post("/v1/workflows", headers=elsewhere, json=body), 403, "forbidden")
    await problem(await api.http.post("/v1/workflows", json=body), 401, "unauthorized")
    app = bearer(token(app="issues", scopes=["workflows:start"], compounds=["*"]))
    r = await api.http.post("/v1/workflows", headers=app, json=body)
    assert r.status == 201
    wid = f"proposal-{data['proposal_id']}"
    await problem(await api.http.get(f"/v1/workflows/{wid}", headers=elsewhere), 403, "forbidden")
    await problem(await api.http.get(f"/v1/workflows/proposal-{uuid.uuid4()}", headers=app),
                  404, "not-found")
    await api.http.post(f"/v1/workflows/{wid}/cancel", headers=app, json={"reason": "测试结束"})


async def test_only_the_convener_cancels_and_decides(api: Api, token: TokenFactory) -> None:
    """The owners' committee convenes this one: the party branch may follow it but not cancel
    or decide; the committee cancels and is recorded as who did it."""
    data = await proposal_input(api, convener_org="owners_committee")
    assert (await start(api, "k", data)).status == 201
    wid = f"proposal-{data['proposal_id']}"
    view = await state_when(api, wid, "consultation")
    assert view["state"]["convener_org"] == "owners_committee"
    url = f"/v1/workflows/{wid}"
    for role in ("party_branch", "property"):
        other = bearer(token(roles=[role], compounds=[api.compound]))
        await problem(await api.http.post(f"{url}/cancel", headers=other, json={"reason": "不该成功"}),
                      403, "forbidden")
        await problem(await api.http.post(f"{url}/updates/decide", headers=other,
                                          json={"action": "abandon"}), 403, "forbidden")
    r = await api.http.post(f"{url}/updates/revise", headers=api.headers,  # staff still revise
                            json={"body": "第二版", "change_summary": "补充"})
    assert r.status == 200, await r.text()
    elsewhere = bearer(token(roles=["owners_committee"], compounds=[str(uuid.uuid4())]))
    await problem(await api.http.post(f"{url}/cancel", headers=elsewhere, json={"reason": "别处"}),
                  403, "forbidden")
    assert (await state_when(api, wid, "consultation"))["state"]["cancel_reason"] is None

    person = str(uuid.uuid4())
    committee = bearer(token(roles=["owners_committee"], compounds=[api.compound], person=person))
    await problem(await api.http.post(f"{url}/updates/decide", headers=committee,
                                      json={"action": "abandon"}), 409, "update-rejected")
    r = await api.http.post(f"{url}/cancel", headers=committee, json={"reason": "业委会决定暂停"})
    assert r.status == 200, await r.text()
    view = await state_when(api, wid, "cancelled")
    assert view["state"]["cancelled_by"] == person
    assert view["state"]["history"][-1]["by"] == person
    assert view["state"]["history"][-1]["note"] == "业委会决定暂停"


async def test_openapi_and_health(api: Api) -> None:
    spec = await (await api.http.get("/openapi.json")).json()
    paths = spec["paths"]
    assert {"/v1/workflows", "/v1/workflows/{workflow_id}", "/v1/workflows/{workflow_id}/cancel",
            "/v1/workflows/{workflow_id}/signals/milestone_progress",
            "/v1/workflows/{workflow_id}/updates/decide"} <= set(paths)
    # every body is typed, none a free object: the start by workflow type, each signal and update
    schemas = spec["components"]["schemas"]
    for path, ops in paths.items():
        body = ops.get("post", {}).get("requestBody")
        if body is not None:
            schema = body["content"]["application/json"]["schema"]
            assert "$ref" in schema or "anyOf" in schema, path
            assert schema.get("type") != "object" or schema.get("properties"), path
    start = paths["/v1/workflows"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(start["discriminator"]["mapping"]) == {"proposal", "issue_follow_up", "committee"}
    proposal = schemas["ProposalInput"]
    assert proposal["required"] == ["compound_id", "proposal_id", "convener"]
    assert proposal["properties"]["consultation_seconds"]["default"] == 14 * 86400
    assert proposal["properties"]["consultation_reminders"]["default"] == [2 * 86400]
    decide = paths["/v1/workflows/{workflow_id}/updates/decide"]["post"]
    assert decide["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Decision"}
    assert schemas["Revision"]["properties"]["window"]["default"] == "restart"
    assert len({op["operationId"] for ops in paths.values() for op in ops.values()}) == sum(
        len(ops) for ops in paths.values())  # each operation its own id
    assert (await api.http.get("/readyz")).status == 200
    await problem(await api.http.get("/v1/workflows/proposal-x/nothing", headers=api.headers),
                  404, "not-found")


async def test_a_short_window_alone_starts_with_the_default_reminders_that_fit(api: Api) -> None:
    """The two-day reminder default does not refuse a one-hour consultation given alone; a
    reminder the caller gives outside its window still does."""
    data = await proposal_input(api, consultation_seconds=3600)
    r = await start(api, "short", data)
    assert r.status == 201, await r.text()
    wid = f"proposal-{data['proposal_id']}"
    assert (await state_when(api, wid, "consultation"))["status"] == "running"
    given = await proposal_input(api, consultation_seconds=3600, consultation_reminders=[7200])
    await problem(await start(api, "short-2", given), 422, "validation-error")


async def at_step_api(api: Api, wid: str, step: str) -> dict[str, Any]:
    """Poll (bounded) until the run is in `step` and its activities have settled."""
    for _ in range(200):
        view = await (await api.http.get(f"/v1/workflows/{wid}", headers=api.headers)).json()
        if view["state"]["step"] == step:
            return dict(view)
        await asyncio.sleep(0.1)
    raise AssertionError(f"never reached {step}")


async def test_residents_rate_in_their_own_name_once(api: Api, token: TokenFactory) -> None:
    """The convener ends the consultation early through the API (with a reason); the works are
    signed off; then a resident rates in their own name, once; the body cannot name someone else."""
    data = await proposal_input(api, consultation_reminders=[], vote_seconds=1,
                          vote_reminders=[], vote_grace_seconds=1, satisfaction_seconds=3600)
    assert (await start(api, "rate-1", data)).status == 201
    wid = f"proposal-{data['proposal_id']}"
    url = f"/v1/workflows/{wid}"
    await at_step_api(api, wid, "consultation")
    property_staff = bearer(token(roles=["property"], compounds=[api.compound]))
    await problem(await api.http.post(f"{url}/updates/end_consultation", headers=property_staff,
                                      json={"reason": "够了"}), 403, "forbidden")
    await problem(await api.http.post(f"{url}/updates/end_consultation", headers=api.headers,
                                      json={"reason": "  "}), 409, "update-rejected")
    r = await api.http.post(f"{url}/updates/end_consultation", headers=api.headers,
                            json={"reason": "意见已经充分"})
    assert r.status == 200, await r.text()
    view = await at_step_api(api, wid, "implementation")  # the fake vote closes passed
    assert view["state"]["history"][1]["outcome"] == "ended_early"
    assert view["state"]["history"][2]["note"] == "意见已经充分"
    await api.http.post(f"{url}/signals/milestone_progress", headers=api.headers,
                        json={"milestone": "屋面隔热层", "percent": 100})
    await at_step_api(api, wid, "acceptance")
    r = await api.http.post(f"{url}/updates/accept", headers=api.headers,
                            json={"approved": True, "signed_by": ["业委会主任"]})
    assert r.status == 200, await r.text()
    await at_step_api(api, wid, "satisfaction")

    resident = bearer(token(roles=["resident"], compounds=[api.compound], person="居民-王"))
    r = await api.http.post(f"{url}/rating", headers=resident, json={"score": 5, "comment": "好"})
    assert r.status == 202, await r.text()
    assert (await r.json())["person_id"] == "居民-王"
    # the rule: one rating per person, not changed afterwards
    await problem(await api.http.post(f"{url}/rating", headers=resident, json={"score": 1}),
                  409, "already-rated")
    await problem(await api.http.post(f"{url}/rating", headers=resident, json={"score": 9}),
                  422, "validation-error")
    outsider = bearer(token(roles=["resident"], compounds=[str(uuid.uuid4())]))
    r = await api.http.post(f"{url}/rating", headers=outsider, json={"score": 3})
    assert r.status in (403, 404), await r.text()
    # staff through the generic signal rate in their own name too, whatever person_id says
    r = await api.http.post(f"{url}/signals/rating", headers=api.headers,
                            json={"person_id": "居民-王", "score": 1})
    assert r.status == 202, await r.text()
    for _ in range(100):
        state = (await (await api.http.get(url, headers=api.headers)).json())["state"]
        if state["ratings"] == 2:
            break
        await asyncio.sleep(0.1)
    assert state["ratings"] == 2 and state["satisfaction"] == 3.0
    assert "居民-王" in state["rated"] and len(state["rated"]) == 2
    await api.http.post(f"{url}/cancel", headers=api.headers, json={"reason": "测试结束"})


async def test_a_blocked_run_shows_why_and_the_convener_retries(api: Api,
                                                              token: TokenFactory) -> None:
    """Meetings refuses to open the consultation for good: the state says blocked, with the
    zh-CN reason and what a person can do; only the convener answers; retry goes on."""
    api.meetings.refusals["open_consultation"] = 1
    data = await proposal_input(api)
    assert (await start(api, "k", data)).status == 201
    url = f"/v1/workflows/proposal-{data['proposal_id']}"

    async def stuck() -> dict[str, Any] | None:
        view: dict[str, Any] = await (await api.http.get(url, headers=api.headers)).json()
        return view if view["state"]["blocked"] else None

    view = await eventually(stuck)
    blocked = view["state"]["blocked"]
    assert view["status"] == "running" and view["state"]["step"] == "consultation"
    assert blocked["call"] == "open_consultation" and blocked["call_label"] == "开启征求意见"
    assert blocked["reason"] == "议事服务拒绝开启征求意见 (409): 议案已撤回, 不能再征求意见"
    assert "重试" in blocked["help"] and "放弃" in blocked["help"] and blocked["since"]
    other = bearer(token(roles=["property"], compounds=[api.compound]))
    await problem(await api.http.post(f"{url}/updates/unblock", headers=other,
                                      json={"action": "retry"}), 403, "forbidden")
    await problem(await api.http.post(f"{url}/updates/unblock", headers=api.headers,
                                      json={"action": "abandon"}), 409, "update-rejected")
    r = await api.http.post(f"{url}/updates/unblock", headers=api.headers, json={"action": "retry"})
    assert r.status == 200, await r.text()

    async def going() -> dict[str, Any] | None:
        view: dict[str, Any] = await (await api.http.get(url, headers=api.headers)).json()
        return view if api.meetings.calls["open_consultation"] == 2 else None

    view = await eventually(going)
    assert view["state"]["blocked"] is None and view["state"]["step"] == "consultation"
    assert "consultation_closes" in view["state"]["deadlines"]
    await problem(await api.http.post(f"{url}/updates/unblock", headers=api.headers,
                                      json={"action": "retry"}), 409, "update-rejected")
    r = await api.http.post(f"{url}/cancel", headers=api.headers, json={"reason": "测试结束"})
    assert r.status == 200, await r.text()
