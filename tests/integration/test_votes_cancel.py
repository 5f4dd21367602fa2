"""Cancelling an open vote: no tally, no result, ballots kept for audit, an event, idempotent."""

from __future__ import annotations

import uuid

from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_support import Compound, new_compound, ok, outbox
from tests.integration.test_votes import apps, open_vote, proposal  # noqa: F401  (fixture)

A, B, C = "陈志明", "林淑芬", "黄建国"


async def small_compound(directory: TestClient, token: TokenFactory) -> Compound:
    c = await new_compound(directory, token)
    for number, name in (("101", A), ("102", B), ("201", C)):
        await c.unit(number, "90.00", name)
    return c


async def test_cancel_open_vote_keeps_ballots_and_is_idempotent(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    directory, meetings = apps
    c = await small_compound(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    base = f"/v1/compounds/{c.id}"
    pid = await proposal(meetings, c, branch, "art278_7")
    vote = await open_vote(meetings, c, pid, branch)
    v = f"{base}/votes/{vote['id']}"
    await ok(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                 headers=c.as_owner(token, A)), 201)
    officer_id = str(uuid.uuid4())
    officer = bearer(token(roles=["officer"], compounds=[c.id], person=officer_id))
    await ok(await meetings.post(f"{v}/paper-ballots", json={
        "person_id": c.people[B], "choice": "oppose"}, headers=officer), 201)

    # who may cancel: not a resident, not the property company, not another compound
    for who in (c.as_owner(token, C), bearer(token(roles=["property"], compounds=[c.id])),
                bearer(token(roles=["party_branch"], compounds=[str(uuid.uuid4())]))):
        await assert_problem(await meetings.post(f"{v}/cancel", json={"reason": "暂停"},
                                                 headers=who), 403, "forbidden")
    await assert_problem(await meetings.post(f"{v}/cancel", json={"reason": "  "}, headers=branch),
                         422, "validation-error")
    await assert_problem(await meetings.post(f"{v}/cancel", json={}, headers=branch),
                         422, "validation-error")

    cancelled = await ok(await meetings.post(f"{v}/cancel", json={"reason": "街道要求暂停"},
                                             headers=officer))
    assert cancelled["status"] == "cancelled" and cancelled["outcome"] is None
    assert cancelled["cancel_reason"] == "街道要求暂停" and cancelled["cancelled_at"]
    assert cancelled["closed_at"] is None
    again = await ok(await meetings.post(f"{v}/cancel", json={"reason": "再次取消"},
                                         headers=branch))
    assert again == cancelled  # idempotent: the first cancellation stands

    # no tally and no result, no more ballots; ballots and the paper audit stay
    await assert_problem(await meetings.get(f"{v}/result", headers=branch), 409, "vote-cancelled")
    await assert_problem(await meetings.post(f"{v}/close", headers=branch), 409, "vote-cancelled")
    await assert_problem(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                             headers=c.as_owner(token, C)), 409, "vote-closed")
    turnout = await ok(await meetings.get(f"{v}/turnout", headers=branch))
    assert turnout["status"] == "cancelled" and turnout["ballots"] == 2
    audit = (await ok(await meetings.get(f"{v}/paper-ballots", headers=branch)))["items"]
    assert [(a["cast_by"], a["entered_by"], a["choice"]) for a in audit] == [
        (c.people[B], officer_id, "oppose")]

    # the proposal can be voted on again; exactly one cancelled event
    p = await ok(await meetings.get(f"{base}/proposals/{pid}", headers=branch))
    assert p["status"] == "draft"
    second = await open_vote(meetings, c, pid, branch)
    votes = (await ok(await meetings.get(f"{base}/proposals/{pid}/votes", headers=branch)))["items"]
    assert [(x["id"], x["status"]) for x in votes] == [
        (vote["id"], "cancelled"), (second["id"], "open")]
    events = [e for e in await outbox(meetings, pid) if e["type"] == "linli.meetings.vote.cancelled"]
    assert len(events) == 1
    assert events[0]["data"] == {"vote_id": vote["id"], "proposal_id": pid, "compound_id": c.id,
                                 "version": 1, "reason": "街道要求暂停",
                                 "cancelled_by": officer_id}
    assert events[0]["compoundid"] == c.id


async def test_closed_vote_cannot_be_cancelled_and_app_scope_may_cancel(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    directory, meetings = apps
    c = await small_compound(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    base = f"/v1/compounds/{c.id}"
    pid = await proposal(meetings, c, branch, "community")
    vote = await open_vote(meetings, c, pid, branch)
    await ok(await meetings.post(f"{base}/votes/{vote['id']}/close", headers=branch))
    await assert_problem(await meetings.post(f"{base}/votes/{vote['id']}/cancel",
                                             json={"reason": "晚了"}, headers=branch),
                         409, "vote-closed")
    await assert_problem(await meetings.post(f"{base}/votes/{uuid.uuid4()}/cancel",
                                             json={"reason": "无此表决"}, headers=branch),
                         404, "not-found")
    pid2 = await proposal(meetings, c, branch, "community")
    vote2 = await open_vote(meetings, c, pid2, branch)
    app = bearer(token(app="workflows", scopes=["meetings:manage"], compounds=["*"]))
    cancelled = await ok(await meetings.post(f"{base}/votes/{vote2['id']}/cancel",
                                             json={"reason": "流程已取消"}, headers=app))
    assert cancelled["status"] == "cancelled"
