"""Proposals, versions, consultation and opinions over HTTP against PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiohttp.test_utils import TestClient

from linli.http import POOL
from services.meetings.app import create_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer, wait_until_blocked
from tests.integration.test_meetings_support import later, ok, outbox


@pytest.fixture
async def meetings(serve: AppFactory) -> TestClient:
    return await serve(create_app)




async def test_proposal_versions_consultation_and_opinions(
    meetings: TestClient, token: TokenFactory
) -> None:
    cid = str(uuid.uuid4())
    branch = bearer(token(roles=["party_branch"], compounds=[cid]))
    workflows = bearer(token(app="workflows", scopes=["meetings:manage"], compounds=["*"]))
    residents = [bearer(token(roles=["resident"], compounds=[cid])) for _ in range(3)]
    base = f"/v1/compounds/{cid}/proposals"
    created = await ok(await meetings.post(base, json={
        "title": "阳光花园顶楼隔热及平改坡改造", "matter": "art278_7", "body": "第一版方案",
        "budget_fen": 48_000_000, "funding": "maintenance_fund",
        "attachments": ["https://example.cn/plan-v1.pdf"]}, headers=workflows), 201)
    pid = created["id"]
    assert created["status"] == "draft" and created["current_version"] == 1
    assert created["matter_label"] == "改建、重建建筑物及其附属设施"
    p = f"{base}/{pid}"

    c = await ok(await meetings.post(f"{p}/consultation", json={"closes_at": later()},
                                     headers=workflows))
    assert c["status"] == "open" and c["version"] == 1
    for who, stance in zip(residents, ["support", "oppose", "suggest"], strict=True):
        await ok(await meetings.post(f"{p}/opinions", json={"stance": stance, "text": "意见"},
                                     headers=who), 201)
    await ok(await meetings.post(f"{p}/opinions", json={"stance": "support", "text": "很好"},
                                 headers=residents[0]), 201)

    v2 = await ok(await meetings.post(f"{p}/versions", json={
        "body": "第二版: 加装太阳能板", "change_summary": "采纳建议, 增加太阳能板",
        "budget_fen": 52_000_000}, headers=branch), 201)
    assert v2["number"] == 2
    # the open consultation moves to the new version by itself, its deadline kept
    moved = await ok(await meetings.get(f"{p}/consultation", headers=residents[0]))
    assert (moved["version"], moved["status"], moved["closes_at"]) == (2, "open", c["closes_at"])
    extended = await ok(await meetings.post(f"{p}/consultation", json={"closes_at": later(7200)},
                                            headers=workflows))
    assert extended["version"] == 2 and extended["status"] == "open"
    await ok(await meetings.post(f"{p}/opinions", json={"stance": "support", "text": "同意"},
                                 headers=residents[1]), 201)

    summary = await ok(await meetings.get(f"{p}/opinions/summary", headers=residents[2]))
    assert summary["current_version"] == 2
    assert summary["versions"] == [
        {"version": 1, "support": 2, "oppose": 1, "suggest": 1, "total": 4},
        {"version": 2, "support": 1, "oppose": 0, "suggest": 0, "total": 1},
    ]
    listed = await ok(await meetings.get(f"{p}/opinions?version=1&limit=3", headers=branch))
    assert len(listed["items"]) == 3 and listed["next_cursor"]
    rest = await ok(await meetings.get(f"{p}/opinions?version=1&cursor={listed['next_cursor']}",
                                       headers=branch))
    assert len(rest["items"]) == 1

    closed = await ok(await meetings.post(f"{p}/consultation/close", headers=workflows))
    again = await ok(await meetings.post(f"{p}/consultation/close", headers=workflows))
    assert closed["status"] == again["status"] == "closed" and closed == again
    await assert_problem(await meetings.post(f"{p}/opinions", json={"stance": "oppose",
                                                                   "text": "晚了"},
                                             headers=residents[2]), 409, "consultation-closed")
    got = await ok(await meetings.get(p, headers=residents[0]))
    assert got["status"] == "consulted" and got["body"] == "第二版: 加装太阳能板"
    assert got["budget_fen"] == 52_000_000

    kinds = [(e["type"].rsplit(".", 2)[-2:], e["data"].get("version"))
             for e in await outbox(meetings, pid)]
    assert kinds == [
        (["proposal", "created"], 1), (["consultation", "opened"], 1),
        *[(["opinion", "recorded"], 1)] * 4, (["proposal", "revised"], 2),
        (["consultation", "opened"], 2), (["consultation", "opened"], 2),
        (["opinion", "recorded"], 2),
        (["consultation", "closed"], 2),
    ]
    opinion = next(e for e in await outbox(meetings, pid) if e["type"].endswith("opinion.recorded"))
    assert opinion["compoundid"] == cid
    assert set(opinion["data"]) == {"proposal_id", "compound_id", "version", "stance", "opinion_id"}


async def test_bad_proposal_input_and_permissions(meetings: TestClient, token: TokenFactory) -> None:
    cid = str(uuid.uuid4())
    branch = bearer(token(roles=["party_branch"], compounds=[cid]))
    resident = bearer(token(roles=["resident"], compounds=[cid]))
    base = f"/v1/compounds/{cid}/proposals"
    good = {"title": "增设电动车充电桩", "matter": "art278_8", "body": "方案"}
    await assert_problem(await meetings.post(base, json=good, headers=resident), 403, "forbidden")
    await assert_problem(await meetings.post(base, json={**good, "matter": "art278_10"},
                                             headers=branch), 422, "validation-error")
    await assert_problem(await meetings.post(base, json={**good, "budget_fen": -1},
                                             headers=branch), 422, "validation-error")
    await assert_problem(await meetings.post(base, json={**good, "extra": 1}, headers=branch),
                         422, "validation-error")
    other = bearer(token(roles=["party_branch"], compounds=[str(uuid.uuid4())]))
    await assert_problem(await meetings.post(base, json=good, headers=other), 403, "forbidden")
    assert (await ok(await meetings.get(base, headers=branch)))["items"] == []

    pid = (await ok(await meetings.post(base, json=good, headers=branch), 201))["id"]
    p = f"{base}/{pid}"
    await assert_problem(await meetings.post(f"{p}/opinions", json={"stance": "support",
                                                                   "text": "好"},
                                             headers=resident), 409, "consultation-closed")
    await assert_problem(await meetings.post(f"{p}/consultation", json={"closes_at": later(-60)},
                                             headers=branch), 422, "validation-error")
    await assert_problem(await meetings.post(f"{p}/consultation/close", headers=branch), 404,
                         "not-found")
    await assert_problem(await meetings.post(f"{p}/consultation", json={"closes_at": later()},
                                             headers=resident), 403, "forbidden")
    elsewhere = f"/v1/compounds/{uuid.uuid4()}/proposals/{pid}"
    admin = bearer(token(roles=["admin"], compounds=["*"]))
    await assert_problem(await meetings.get(elsewhere, headers=admin), 404, "not-found")
    await assert_problem(await meetings.get(f"{base}/not-a-uuid", headers=branch), 404, "not-found")
    events = await outbox(meetings, pid)
    assert [e["type"] for e in events] == ["linli.meetings.proposal.created"]


async def test_openapi_documents_every_meetings_endpoint(meetings: TestClient) -> None:
    doc = await ok(await meetings.get("/openapi.json"))
    paths = doc["paths"]
    c = "/v1/compounds/{compound_id}"
    for path, method in ((f"{c}/proposals", "post"), (f"{c}/votes/{{vote_id}}/ballots", "post"),
                         (f"{c}/costs/{{cost_id}}/bills", "post"), (f"{c}/meetings.ics", "get"),
                         (f"{c}/meetings/{{meeting_id}}/minutes/publish", "post")):
        assert method in paths[path], path
    mine = paths[f"{c}/votes/{{vote_id}}/ballots/mine"]["get"]["parameters"]
    assert "X-Ballot-Receipt" in {p["name"] for p in mine if p["in"] == "header"}


async def test_opinion_racing_the_close_of_its_consultation_is_refused(
    meetings: TestClient, token: TokenFactory
) -> None:
    """An opinion read the consultation as open while a vote's opening was closing it: it must
    wait for that close and be refused, not be recorded on a closed consultation."""
    cid = str(uuid.uuid4())
    branch = bearer(token(roles=["party_branch"], compounds=[cid]))
    resident = bearer(token(roles=["resident"], compounds=[cid]))
    base = f"/v1/compounds/{cid}/proposals"
    pid = (await ok(await meetings.post(base, json={
        "title": "水泵电费分摊", "matter": "community", "body": "方案",
        "budget_fen": 1_000}, headers=branch), 201))["id"]
    await ok(await meetings.post(f"{base}/{pid}/consultation", json={"closes_at": later()},
                                 headers=branch))
    async with meetings.app[POOL].acquire() as conn, conn.transaction():
        # as a vote opening does: the proposal locked, then its consultation closed
        await conn.execute("SELECT 1 FROM meetings.proposals WHERE id = $1 FOR UPDATE",
                           uuid.UUID(pid))
        await conn.execute("UPDATE meetings.consultations SET status = 'closed',"
                           " closed_at = now() WHERE proposal_id = $1", uuid.UUID(pid))
        late = asyncio.ensure_future(meetings.post(
            f"{base}/{pid}/opinions", json={"stance": "support", "text": "同意"},
            headers=resident))
        await wait_until_blocked(conn)  # the opinion waits while the close is uncommitted
    await assert_problem(await late, 409, "consultation-closed")
    summary = await ok(await meetings.get(f"{base}/{pid}/opinions/summary", headers=branch))
    assert summary["versions"][0]["total"] == 0
