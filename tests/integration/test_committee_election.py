"""Electing the owners' committee over HTTP: seats, candidates, online and paper ballots, open
and secret, the item-3 thresholds per candidate with exact numbers, ties reported."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.http import POOL
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_support import Compound, later, new_compound, ok, outbox

OWNERS = [f"业主{i}" for i in range(1, 10)]  # 业主1 has 150.00 m², the others 100.00 m²


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(create_app)


async def nine_owners(directory: TestClient, token: TokenFactory) -> Compound:
    """Nine owners and the developer's unsold 200.00 m²: 115000 in all, headcount 10."""
    c = await new_compound(directory, token)
    for i, name in enumerate(OWNERS, start=1):
        await c.unit(f"{(i + 1) // 2}0{i}", "150.00" if i == 1 else "100.00", name)
    await c.unit("601", "200.00", status="unsold")
    return c


async def election_proposal(meetings: TestClient, c: Compound, headers: dict[str, str],
                            matter: str = "art278_3") -> str:
    body = {"title": "选举第一届业主委员会", "matter": matter, "body": "候选人名单见附件"}
    return str((await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals", json=body,
                                             headers=headers), 201))["id"])


def candidates(c: Compound, names: list[str]) -> list[dict[str, str]]:
    return [{"person_id": c.people[n], "name": n} for n in names]


def judged(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["result"]["candidates"]}


def threshold(candidate: dict[str, Any], name: str) -> tuple[int, int, int, bool]:
    (t,) = [t for t in candidate["thresholds"] if t["name"] == name]
    return t["base"], t["needed"], t["reached"], t["met"]


async def test_open_election_online_and_paper_with_a_seat_left_open(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await nine_owners(directory, token)
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    officer = bearer(token(roles=["officer"], compounds=[c.id], person=str(uuid.uuid4())))
    pid = await election_proposal(meetings, c, street)
    base = f"/v1/compounds/{c.id}"
    start = f"{base}/proposals/{pid}/elections"
    body = {"closes_at": later(), "seats": 7, "candidates": candidates(c, OWNERS)}
    for wrong in ({"seats": 6}, {"seats": 13}, {"seats": 9, "candidates": candidates(c, OWNERS[:8])}):
        await assert_problem(await meetings.post(start, json={**body, **wrong}, headers=street),
                             422, "validation-error")
    stranger = {"person_id": str(uuid.uuid4()), "name": "外人"}
    await assert_problem(await meetings.post(start, json={
        **body, "candidates": [*candidates(c, OWNERS), stranger]}, headers=street),
        422, "validation-error")
    other = await election_proposal(meetings, c, street, matter="art278_4")
    await assert_problem(await meetings.post(f"{base}/proposals/{other}/elections", json=body,
                                             headers=street), 422, "validation-error")
    opened = await ok(await meetings.post(start, json=body, headers=street), 201)
    assert opened["vote"]["rule"] == "committee_election" and opened["vote"]["seats"] == 7
    assert opened["vote"]["roll"] == {"entries": 10, "area_centi": 115000, "headcount": 10}
    v = f"{base}/votes/{opened['vote']['id']}"
    ids = [c.people[n] for n in OWNERS]  # candidate k is OWNERS[k-1]
    listed = await ok(await meetings.get(f"{v}/candidates", headers=street))
    assert [x["person_id"] for x in listed["items"]] == ids and listed["next_cursor"] is None

    ballot = f"{v}/election-ballots"
    for name in OWNERS[:4]:
        await ok(await meetings.post(ballot, json={"approve": ids[:7], "oppose": [ids[7]]},
                                     headers=c.as_owner(token, name)), 201)
    for name in OWNERS[4:6]:
        receipt = await ok(await meetings.post(ballot, json={"approve": [*ids[:6], ids[8]]},
                                               headers=c.as_owner(token, name)), 201)
    assert receipt["marks"][ids[8]] == "agree" and receipt["marks"][ids[7]] == "abstain"
    # 业主7 first approves 业主1–7, then changes the one ballot of the entry (业主7's 4 approvals
    # below count the second ballot only)
    first = await ok(await meetings.post(ballot, json={"approve": ids[:7]},
                                         headers=c.as_owner(token, OWNERS[6])), 201)
    assert first["changed"] is False
    changed = await ok(await meetings.post(ballot, json={"approve": [*ids[:6], ids[8]]},
                                           headers=c.as_owner(token, OWNERS[6])), 201)
    assert changed["changed"] is True
    # an officer's paper ballot never replaces 业主7's own online ballot
    online = await assert_problem(await meetings.post(f"{v}/paper-election-ballots", json={
        "person_id": ids[6], "approve": ids[:7]}, headers=officer), 409, "voted-online")
    assert "在线投票" in online["detail"]
    await ok(await meetings.post(f"{v}/paper-election-ballots", json={
        "person_id": ids[7], "approve": [*ids[:6], ids[7]]}, headers=officer), 201)
    await ok(await meetings.post(f"{v}/paper-election-ballots", json={
        "entry_id": "developer", "approve": ids[:5], "proxy_name": "开发商授权代表"},
        headers=officer), 201)

    nine = c.as_owner(token, OWNERS[8])
    too_many = await assert_problem(await meetings.post(ballot, json={"approve": ids[:8]},
                                                        headers=nine), 422, "validation-error")
    assert "最多赞成 7 名" in too_many["detail"]
    for wrong_ballot in ({"approve": ids[:2], "oppose": ids[1:3]},
                         {"approve": [str(uuid.uuid4())]}):
        await assert_problem(await meetings.post(ballot, json=wrong_ballot, headers=nine),
                             422, "validation-error")
    await assert_problem(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                             headers=nine), 422, "validation-error")
    turnout = await ok(await meetings.get(f"{v}/turnout", headers=street))
    assert (turnout["ballots"], turnout["participating_area_centi"],
            turnout["participating_headcount"]) == (9, 105000, 9)
    waiting = await ok(await meetings.get(f"{v}/non-voters", headers=street))
    assert waiting["person_ids"] == [ids[8]]
    audit = await ok(await meetings.get(f"{v}/paper-ballots", headers=street))
    assert sorted((a["cast_by"], a["channel"], a["entered_by"] is not None)
                  for a in audit["items"]) == \
        sorted([(ids[7], "paper", True), ("entry:developer", "proxy", True)])

    provisional = await ok(await meetings.get(f"{v}/result", headers=street))
    assert provisional["final"] is False
    result = await ok(await meetings.post(f"{v}/close", headers=street))
    assert result["final"] and result["outcome"] == "rejected"
    r = result["result"]
    assert (r["outcome"], r["open_seats"], r["tied"]) == ("too_few_qualified", 1, [])
    assert r["elected"] == ids[:6]
    per = judged(result)
    for name in OWNERS[:5]:
        assert per[name]["status"] == "elected" and per[name]["approving_headcount"] == 9
    seventh = per[OWNERS[6]]
    assert seventh["status"] == "not_qualified"
    assert threshold(seventh, "participation_area") == (115000, 76667, 105000, True)
    assert threshold(seventh, "participation_headcount") == (10, 7, 9, True)
    assert threshold(seventh, "approval_headcount") == (9, 5, 4, False)
    assert threshold(seventh, "approval_area") == (105000, 52501, 45000, False)
    assert threshold(per[OWNERS[5]], "approval_area") == (105000, 52501, 85000, True)
    assert per[OWNERS[7]]["counts"]["oppose_headcount"] == 4
    assert per[OWNERS[8]]["approving_headcount"] == 3
    assert (await ok(await meetings.get(f"{base}/proposals/{pid}", headers=street)))["status"] \
        == "rejected"
    closed = [e for e in await outbox(meetings, pid) if e["type"] == "linli.meetings.vote.closed"]
    assert len(closed) == 1 and closed[0]["data"]["result"] == r
    await assert_problem(await meetings.post(ballot, json={"approve": ids[:1]}, headers=nine),
                         409, "vote-closed")


async def test_secret_election_reports_a_tie_across_the_last_seat(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await nine_owners(directory, token)
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    pid = await election_proposal(meetings, c, street)
    names = OWNERS[1:8]  # seven candidates, 业主2 … 业主8
    opened = await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals/{pid}/elections", json={
        "closes_at": later(), "seats": 5, "candidates": candidates(c, names), "secret": True},
        headers=street), 201)
    v = f"/v1/compounds/{c.id}/votes/{opened['vote']['id']}"
    k = [c.people[n] for n in names]
    # eight owners of 100.00 m² vote: all approve k1–k3, then 3x k4+k5, 3x k4+k6, 2x k5+k6:
    # k4 6 heads; k5 and k6 5 heads and 50000 each for the fifth seat
    pairs = [(k[3], k[4])] * 3 + [(k[3], k[5])] * 3 + [(k[4], k[5])] * 2
    for name, pair in zip(OWNERS[1:9], pairs, strict=True):
        receipt = await ok(await meetings.post(f"{v}/election-ballots", json={
            "approve": [*k[:3], *pair], "oppose": [k[6]]}, headers=c.as_owner(token, name)), 201)
        assert receipt["marks"] is None
    await assert_problem(await meetings.post(f"{v}/election-ballots", json={"approve": []},
                                             headers=c.as_owner(token, OWNERS[1])),
                         409, "already-voted")
    await assert_problem(await meetings.get(f"{v}/result", headers=street), 409,
                         "secret-vote-open")
    result = await ok(await meetings.post(f"{v}/close", headers=street))
    r = result["result"]
    assert (r["outcome"], r["elected"], r["tied"], r["open_seats"]) == (
        "tie", k[:4], k[4:6], 1)
    per = judged(result)
    assert [per[n]["status"] for n in names] == ["elected"] * 4 + ["tied"] * 2 + ["not_qualified"]
    assert threshold(per[names[4]], "approval_headcount") == (8, 5, 5, True)
    assert threshold(per[names[4]], "approval_area") == (80000, 40001, 50000, True)
    assert threshold(per[names[4]], "participation_area") == (115000, 76667, 80000, True)
    async with meetings.app[POOL].acquire() as conn:
        marks = await conn.fetchval("SELECT count(*) FROM election_marks WHERE vote_id = $1",
                                    opened["vote"]["id"])
        totals = await conn.fetch(
            "SELECT candidate_id::text AS c, choice, ballots, area_centi FROM election_tally_shards"
            " WHERE vote_id = $1 AND choice = 'agree' ORDER BY ballots DESC, c",
            opened["vote"]["id"])
    assert marks == 0  # a secret election keeps no ballot, only the totals
    assert [(t["ballots"], t["area_centi"]) for t in totals] == [
        (8, 80000)] * 3 + [(6, 60000), (5, 50000), (5, 50000)]


async def test_concurrent_ballots_for_one_entry_count_once(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    """The database keeps one ballot per roll entry: secret, one lands and the rest are 409;
    open, the ballots replace each other and the entry is counted once."""
    directory, meetings = apps
    c = await nine_owners(directory, token)
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    owner = c.as_owner(token, OWNERS[0])
    for secret in (True, False):
        pid = await election_proposal(meetings, c, street)
        opened = await ok(await meetings.post(
            f"/v1/compounds/{c.id}/proposals/{pid}/elections", json={
                "closes_at": later(), "seats": 5, "candidates": candidates(c, OWNERS[:5]),
                "secret": secret}, headers=street), 201)
        v = f"/v1/compounds/{c.id}/votes/{opened['vote']['id']}"
        ids = [c.people[n] for n in OWNERS[:5]]
        answers = await asyncio.gather(*(meetings.post(
            f"{v}/election-ballots", json={"approve": ids[:k]}, headers=owner)
            for k in range(1, 6)))
        statuses = sorted(a.status for a in answers)
        receipts = [await a.json() for a in answers if a.status == 201]
        if secret:
            assert statuses == [201, 409, 409, 409, 409]
        else:
            assert statuses == [201] * 5
            assert sorted(r["changed"] for r in receipts) == [False, True, True, True, True]
        result = await ok(await meetings.post(f"{v}/close", headers=street))
        counts = judged(result)[OWNERS[0]]["counts"]
        assert (counts["ballots"], counts["participating_headcount"],
                counts["participating_area_centi"]) == (1, 1, 15000)


async def test_the_seat_range_is_configured(serve: AppFactory, settings: Settings,
                                             token: TokenFactory) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    small = settings.with_overrides(committee_seats_min=3, committee_seats_max=5)
    meetings = await serve(lambda _: create_app(small))
    c = await nine_owners(directory, token)
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    pid = await election_proposal(meetings, c, street)
    start = f"/v1/compounds/{c.id}/proposals/{pid}/elections"
    body = {"closes_at": later(), "candidates": candidates(c, OWNERS[:4])}
    refused = await assert_problem(await meetings.post(start, json={**body, "seats": 7},
                                                       headers=street), 422, "validation-error")
    assert "3 到 5" in refused["detail"]
    opened = await ok(await meetings.post(start, json={**body, "seats": 3}, headers=street), 201)
    assert opened["seats"] == 3 and len(opened["candidates"]) == 4


async def test_a_by_election_fills_any_number_of_open_seats_up_to_the_largest_committee(
        serve: AppFactory, settings: Settings, token: TokenFactory) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    meetings = await serve(create_app)
    c = await nine_owners(directory, token)
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    pid = await election_proposal(meetings, c, street)
    start = f"/v1/compounds/{c.id}/proposals/{pid}/elections"
    body = {"closes_at": later(), "candidates": candidates(c, OWNERS[:3]), "by_election": True}
    for seats, words in ((0, "1 到 11"), (12, "1 到 11"), (4, "不能少于席位数")):
        refused = await assert_problem(await meetings.post(start, json={**body, "seats": seats},
                                                           headers=street), 422, "validation-error")
        assert words in refused["detail"]
    await assert_problem(await meetings.post(start, json={**body, "seats": 2, "by_election": False},
                                             headers=street), 422, "validation-error")
    opened = await ok(await meetings.post(start, json={**body, "seats": 2}, headers=street), 201)
    assert opened["seats"] == 2 and opened["vote"]["rule"] == "committee_election"
