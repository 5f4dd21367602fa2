"""Meetings convened by the convener's kind (how workflows schedule a review), and the
agenda, outcome and consultation rules the council relies on."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_sessions import apps, organisation  # noqa: F401  (fixture)
from tests.integration.test_meetings_support import Compound, new_compound, ok, outbox

CST = dt.timezone(dt.timedelta(hours=8))


def meeting_body(**extra: Any) -> dict[str, Any]:
    starts = dt.datetime(2027, 7, 3, 19, 30, tzinfo=CST)
    return {"kind": "party_masses_council", "title": "议案意见审议",
            "starts_at": starts.isoformat(), "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
            "place": "党群服务站", **extra}


async def council(directory: TestClient, token: TokenFactory) -> tuple[Compound, str, str]:
    c = await new_compound(directory, token)
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    community = await organisation(c, "community", "万安社区居委会", "李主任", "主任")
    return c, branch, community


async def test_convene_by_convener_kind(apps: tuple[TestClient, TestClient],  # noqa: F811
                                        token: TokenFactory) -> None:
    directory, meetings = apps
    c, branch, _ = await council(directory, token)
    app = bearer(token(app="workflows", scopes=["meetings:manage"], compounds=["*"]))
    base = f"/v1/compounds/{c.id}"
    meeting = await ok(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body(
        convener_kind="party_branch")), 201)
    assert (meeting["convener_org_id"], meeting["convener_name"]) == (branch, "阳光花园党支部")
    await assert_problem(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body(
        convener_kind="owners_committee")), 422, "validation-error")  # none of that kind
    await assert_problem(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body()),
                         422, "validation-error")  # neither id nor kind
    await organisation(c, "party_branch", "第二党支部", "刘书记", "书记")
    await assert_problem(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body(
        convener_kind="party_branch")), 422, "validation-error")  # two: name it by id
    await assert_problem(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body(
        convener_kind="nobody")), 422, "validation-error")
    assert uuid.UUID(meeting["id"])


async def setup_meeting(directory: TestClient, meetings: TestClient,
                        token: TokenFactory) -> tuple[Compound, dict[str, str], str]:
    c, branch_org, community = await council(directory, token)
    await c.unit("101", "90.00", "陈志明")
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    meeting = await ok(await meetings.post(f"/v1/compounds/{c.id}/meetings", headers=secretary,
                                           json=meeting_body(convener_org_id=branch_org,
                                                             organisation_ids=[community])), 201)
    return c, secretary, f"/v1/compounds/{c.id}/meetings/{meeting['id']}"


async def proposal_with_vote(meetings: TestClient, c: Compound,
                             headers: dict[str, str]) -> tuple[str, str]:
    base = f"/v1/compounds/{c.id}/proposals"
    p = await ok(await meetings.post(base, headers=headers, json={
        "title": "加装电梯", "matter": "community", "body": "方案"}), 201)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    vote = await ok(await meetings.post(f"{base}/{p['id']}/votes", headers=headers,
                                        json={"closes_at": later}), 201)
    return str(p["id"]), str(vote["id"])


async def test_outcome_by_vote_names_a_vote_of_the_compound(
        apps: tuple[TestClient, TestClient], token: TokenFactory) -> None:  # noqa: F811
    directory, meetings = apps
    c, secretary, m = await setup_meeting(directory, meetings, token)
    pid, vote = await proposal_with_vote(meetings, c, secretary)
    _, other_vote = await proposal_with_vote(meetings, c, secretary)
    item = await ok(await meetings.post(f"{m}/agenda", headers=secretary,
                                        json={"proposal_id": pid}), 201)
    free = await ok(await meetings.post(f"{m}/agenda", headers=secretary,
                                        json={"title": "楼道堆物"}), 201)
    i, f = f"{m}/agenda/{item['id']}/outcome", f"{m}/agenda/{free['id']}/outcome"
    for body in ({"outcome": "vote", "vote_id": str(uuid.uuid4())},  # no such vote
                 {"outcome": "vote", "vote_id": other_vote},  # another proposal's vote
                 {"outcome": "vote"},
                 {"outcome": "consensus", "vote_id": vote}):
        await assert_problem(await meetings.post(i, headers=secretary, json=body),
                             422, "validation-error")
    # a vote of another compound is not this compound's vote
    c2, secretary2, _ = await setup_meeting(directory, meetings, token)
    _, foreign = await proposal_with_vote(meetings, c2, secretary2)
    await assert_problem(await meetings.post(f, headers=secretary, json={
        "outcome": "vote", "vote_id": foreign}), 422, "validation-error")
    done = await ok(await meetings.post(i, headers=secretary, json={
        "outcome": "vote", "vote_id": vote, "note": "付诸业主表决"}))
    assert (done["outcome"], done["vote_id"]) == ("vote", vote)
    done = await ok(await meetings.post(f, headers=secretary, json={
        "outcome": "vote", "vote_id": other_vote}))  # a free item may name any vote of ours
    assert done["vote_id"] == other_vote


async def test_reorder_agenda_and_cancel_meeting(apps: tuple[TestClient, TestClient],  # noqa: F811
                                                 token: TokenFactory) -> None:
    directory, meetings = apps
    c, secretary, m = await setup_meeting(directory, meetings, token)
    director = bearer(token(roles=["community"], compounds=[c.id], person=c.people["李主任"]))
    ids = [(await ok(await meetings.post(f"{m}/agenda", headers=secretary,
                                         json={"title": t}), 201))["id"] for t in "甲乙丙"]
    order = f"{m}/agenda/order"
    new = [ids[2], ids[0], ids[1]]
    await assert_problem(await meetings.put(order, headers=director, json={"item_ids": new}),
                         403, "forbidden")
    for bad in ([ids[2], ids[0]], [*ids, ids[0]], [*ids[:2], str(uuid.uuid4())], []):
        await assert_problem(await meetings.put(order, headers=secretary, json={"item_ids": bad}),
                             422, "validation-error")
    items = await ok(await meetings.put(order, headers=secretary, json={"item_ids": new}))
    assert [(i["id"], i["position"], i["title"]) for i in items] == [
        (ids[2], 1, "丙"), (ids[0], 2, "甲"), (ids[1], 3, "乙")]
    got = await ok(await meetings.get(m, headers=director))
    assert [i["title"] for i in got["agenda"]] == ["丙", "甲", "乙"]
    added = await ok(await meetings.post(f"{m}/agenda", headers=secretary, json={"title": "丁"}),
                     201)
    assert added["position"] == 4

    await assert_problem(await meetings.post(f"{m}/cancel", headers=director,
                                             json={"reason": "不行"}), 403, "forbidden")
    await assert_problem(await meetings.post(f"{m}/cancel", headers=secretary,
                                             json={"reason": " "}), 422, "validation-error")
    cancelled = await ok(await meetings.post(f"{m}/cancel", headers=secretary,
                                             json={"reason": "台风预警, 改期"}))
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "台风预警, 改期")
    again = await ok(await meetings.post(f"{m}/cancel", headers=secretary, json={"reason": "再"}))
    assert again == cancelled
    await assert_problem(await meetings.post(f"{m}/agenda", headers=secretary,
                                             json={"title": "戊"}), 409, "meeting-cancelled")
    await assert_problem(await meetings.put(order, headers=secretary, json={"item_ids": new}),
                         409, "meeting-cancelled")
    await assert_problem(await meetings.post(f"{m}/rsvp", headers=director,
                                             json={"answer": "yes"}), 409, "meeting-cancelled")
    await assert_problem(await meetings.post(f"{m}/agenda/{ids[0]}/outcome", headers=secretary,
                                             json={"outcome": "deferred"}), 409,
                         "meeting-cancelled")
    meeting_id = m.rsplit("/", 1)[-1]
    events = [e for e in await outbox(meetings, meeting_id)
              if e["type"] == "linli.meetings.meeting.cancelled"]
    assert [e["data"]["reason"] for e in events] == ["台风预警, 改期"]
    assert events[0]["data"]["cancelled_by"] == c.people["王书记"]
    ics = await (await meetings.get(f"/v1/compounds/{c.id}/meetings.ics", headers=director)).text()
    assert "STATUS:CANCELLED" in ics


async def test_a_held_meeting_cannot_be_cancelled(apps: tuple[TestClient, TestClient],  # noqa: F811
                                                  token: TokenFactory) -> None:
    directory, meetings = apps
    _, secretary, m = await setup_meeting(directory, meetings, token)
    await ok(await meetings.post(f"{m}/minutes", headers=secretary), 201)
    await assert_problem(await meetings.post(f"{m}/cancel", headers=secretary,
                                             json={"reason": "晚了"}), 409, "meeting-held")
