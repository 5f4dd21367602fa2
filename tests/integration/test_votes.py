"""Statutory votes over HTTP: the roll frozen from the directory, ballots, results, the sweep."""

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
from services.meetings.sweep import sweep_once
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_support import (
    Compound,
    later,
    new_compound,
    ok,
    outbox,
)

A, B, C, D, E, F = "陈志明", "林淑芬", "黄建国", "张秀英", "王丽", "李强"


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    # conftest types serve() without its port argument
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(create_app)


async def sunny_garden(directory: TestClient, token: TokenFactory) -> Compound:
    """A: three units (one voter, area summed); B and C co-own one; D, E, F one each;
    the developer's unsold unit. Total area 744.90 m² (74490), headcount 6."""
    c = await new_compound(directory, token)
    for number, area in (("101", "89.50"), ("102", "100.25"), ("201", "60.00")):
        await c.unit(number, area, A)
    await c.unit("202", "120.10", B, C)
    await c.unit("301", "75.05", D)
    await c.unit("302", "80.00", E)
    await c.unit("401", "90.00", F)
    await c.unit("601", "130.00", status="unsold")
    await c.person("租户")
    return c


async def proposal(meetings: TestClient, c: Compound, headers: dict[str, str], matter: str) -> str:
    body = {"title": "顶楼隔热改造", "matter": matter, "body": "方案", "budget_fen": 100_000}
    return str((await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals", json=body,
                                             headers=headers), 201))["id"])


async def open_vote(meetings: TestClient, c: Compound, pid: str, headers: dict[str, str],
                    **extra: Any) -> dict[str, Any]:
    body = {"closes_at": later(), **extra}
    vote: dict[str, Any] = await ok(await meetings.post(
        f"/v1/compounds/{c.id}/proposals/{pid}/votes", json=body, headers=headers), 201)
    return vote


def thresholds(result: dict[str, Any]) -> dict[str, tuple[int, int, int, bool]]:
    return {t["name"]: (t["base"], t["needed"], t["reached"], t["met"])
            for t in result["result"]["thresholds"]}


async def test_major_item_passes_and_ordinary_item_fails_at_exactly_half(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    officer_id = str(uuid.uuid4())
    officer = bearer(token(roles=["officer"], compounds=[c.id], person=officer_id))
    base = f"/v1/compounds/{c.id}"

    major = await proposal(meetings, c, branch, "art278_7")
    vote = await open_vote(meetings, c, major, branch)
    assert vote["rule"] == "civil_code_major" and vote["status"] == "open"
    assert vote["roll"] == {"entries": 6, "area_centi": 74490, "headcount": 6}
    v = f"{base}/votes/{vote['id']}/ballots"
    for name, choice in ((A, "agree"), (B, "agree"), (D, "agree"), (E, "agree"), (F, "oppose")):
        await ok(await meetings.post(v, json={"choice": choice}, headers=c.as_owner(token, name)),
                 201)
    turnout = await ok(await meetings.get(f"{base}/votes/{vote['id']}/turnout", headers=branch))
    assert (turnout["ballots"], turnout["participating_area_centi"],
            turnout["participating_headcount"]) == (5, 61490, 5)
    result = await ok(await meetings.post(f"{base}/votes/{vote['id']}/close", headers=branch))
    assert result["outcome"] == "passed" and result["final"]
    assert thresholds(result) == {
        "participation_area": (74490, 49660, 61490, True),
        "participation_headcount": (6, 4, 5, True),
        "approval_area": (61490, 46118, 52490, True),
        "approval_headcount": (5, 4, 4, True),
    }
    closed = [e for e in await outbox(meetings, major) if e["type"] == "linli.meetings.vote.closed"]
    assert len(closed) == 1 and closed[0]["data"]["outcome"] == "passed"
    assert closed[0]["data"]["result"] == result["result"]
    assert closed[0]["compoundid"] == c.id and closed[0]["data"]["version"] == 1
    assert (await ok(await meetings.get(f"{base}/proposals/{major}", headers=branch)))["status"] \
        == "passed"

    ordinary = await proposal(meetings, c, branch, "art278_4")
    vote = await open_vote(meetings, c, ordinary, branch)
    assert vote["rule"] == "civil_code_ordinary"
    v = f"{base}/votes/{vote['id']}"
    for name, choice in ((A, "agree"), (B, "agree"), (D, "agree"), (E, "abstain"), (F, "oppose")):
        await ok(await meetings.post(f"{v}/ballots", json={"choice": choice},
                                     headers=c.as_owner(token, name)), 201)
    # the co-owner changes the shared unit's one ballot (an open vote may be changed)
    changed = await ok(await meetings.post(f"{v}/ballots", json={"choice": "oppose"},
                                           headers=c.as_owner(token, C)), 201)
    assert changed["changed"] is True and changed["choice"] == "oppose"
    paper = await ok(await meetings.post(f"{v}/paper-ballots", json={
        "entry_id": "developer", "choice": "agree", "proxy_name": "开发商授权代表"},
        headers=officer), 201)
    assert paper["channel"] == "proxy"
    # a paper ballot for an owner who voted online is refused, naming the online ballot and when
    # it was cast; the owner's own choice stands (only the owner changes it)
    refused = await assert_problem(await meetings.post(f"{v}/paper-ballots", json={
        "person_id": c.people[F], "choice": "agree"}, headers=officer), 409, "voted-online")
    assert "在线投票" in refused["detail"] and "北京时间" in refused["detail"]
    assert (await ok(await meetings.get(f"{v}/result", headers=branch)))["result"] is not None
    audit = (await ok(await meetings.get(f"{v}/paper-ballots", headers=branch)))["items"]
    assert [(a["entry_id"], a["channel"], a["proxy_name"], a["choice"]) for a in audit] == [
        ("developer", "proxy", "开发商授权代表", "agree")]
    assert audit[0]["entered_by"] == officer_id
    provisional = await ok(await meetings.get(f"{v}/result", headers=branch))
    assert provisional["final"] is False
    result = await ok(await meetings.post(f"{v}/close", headers=branch))
    # 3 of 6 heads agree: exactly one half is not more than one half
    assert result["outcome"] == "rejected" and result["result"]["outcome"] == "failed_approval"
    assert thresholds(result) == {
        "participation_area": (74490, 49660, 74490, True),
        "participation_headcount": (6, 4, 6, True),
        "approval_area": (74490, 37246, 45480, True),
        "approval_headcount": (6, 4, 3, False),
    }
    counts = result["result"]["counts"]
    assert (counts["agree_headcount"], counts["oppose_headcount"], counts["abstain_headcount"],
            counts["ballots"]) == (3, 2, 1, 6)
    again = await ok(await meetings.post(f"{v}/close", headers=branch))
    assert again == result
    turnout = await ok(await meetings.get(f"{v}/turnout", headers=branch))
    assert turnout["by_channel"] == {"online": 5, "proxy": 1}
    scraped = await (await meetings.get("/metrics")).text()
    for line in ('linli_meetings_ballots_cast_total{channel="proxy"}',
                 'linli_meetings_votes_closed_total{outcome="failed_approval",rule="civil_code_ordinary"}',
                 "linli_meetings_tally_duration_seconds_count", "linli_meetings_ballots_changed_total"):
        assert line in scraped


async def test_ballot_edges_and_secret_result_hidden_until_close(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    pid = await proposal(meetings, c, branch, "art278_3")
    base = f"/v1/compounds/{c.id}"
    await assert_problem(await meetings.post(f"{base}/proposals/{pid}/votes", json={
        "closes_at": later(), "rule": "simple_majority"}, headers=branch), 422, "validation-error")
    vote = await open_vote(meetings, c, pid, branch, secret=True)
    await assert_problem(await meetings.post(f"{base}/proposals/{pid}/votes", json={
        "closes_at": later()}, headers=branch), 409, "vote-exists")
    v = f"{base}/votes/{vote['id']}"
    receipt = await ok(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                           headers=c.as_owner(token, A)), 201)
    assert receipt["choice"] is None and receipt["changed"] is False
    await assert_problem(await meetings.post(f"{v}/ballots", json={"choice": "oppose"},
                                             headers=c.as_owner(token, A)), 409, "already-voted")
    await ok(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                 headers=c.as_owner(token, B)), 201)
    await assert_problem(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                             headers=c.as_owner(token, C)), 409, "already-voted")
    await assert_problem(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                             headers=c.as_owner(token, "租户")), 403, "not-on-roll")
    await assert_problem(await meetings.post(f"{v}/paper-ballots", json={
        "person_id": c.people[D], "choice": "agree"}, headers=c.as_owner(token, A)), 403,
        "forbidden")
    await assert_problem(await meetings.get(f"{v}/result", headers=branch), 409, "secret-vote-open")
    officer = bearer(token(roles=["officer"], compounds=[c.id]))
    await ok(await meetings.post(f"{v}/paper-ballots", json={"person_id": c.people[F],
                                                             "choice": "oppose"},
                                 headers=officer), 201)
    audit = (await ok(await meetings.get(f"{v}/paper-ballots", headers=branch)))["items"]
    assert [(a["cast_by"], a["channel"], a["choice"]) for a in audit] == [
        (c.people[F], "paper", None)]
    turnout = await ok(await meetings.get(f"{v}/turnout", headers=branch))
    assert (turnout["ballots"], turnout["participating_area_centi"]) == (3, 24975 + 12010 + 9000)
    waiting = await ok(await meetings.get(f"{v}/non-voters", headers=branch))
    assert sorted(waiting["person_ids"]) == sorted(c.people[n] for n in (D, E))
    assert "developer" in waiting["entry_ids"] and len(waiting["entry_ids"]) == 3

    result = await ok(await meetings.post(f"{v}/close", headers=branch))
    assert result["outcome"] == "rejected" and result["result"]["outcome"] == "failed_quorum"
    assert result["result"]["counts"]["agree_area_centi"] == 36985
    assert result["result"]["counts"]["oppose_area_centi"] == 9000
    assert (await ok(await meetings.get(f"{v}/result", headers=branch))) == result
    await assert_problem(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                             headers=c.as_owner(token, D)), 409, "vote-closed")
    async with meetings.app[POOL].acquire() as conn:
        secret = await conn.fetch(
            "SELECT choice, ballots, area_centi, xmin::text AS tx FROM secret_tally_shards"
            " WHERE vote_id = $1 ORDER BY choice", vote["id"])
        voted = {r["tx"] for r in await conn.fetch(
            "SELECT xmin::text AS tx FROM participation WHERE vote_id = $1", vote["id"])}
        stored = await conn.fetchval("SELECT count(*) FROM ballots WHERE vote_id = $1",
                                     vote["id"])
    # only totals per choice: no row carries one voter's area (F's 90.00 m² was unique), and
    # none shares a transaction id with a participation row (which would name the voter)
    assert [(r["choice"], r["ballots"], r["area_centi"]) for r in secret] == [
        ("agree", 2, 36985), ("oppose", 1, 9000)]
    assert not voted & {r["tx"] for r in secret}
    assert stored == 0


async def test_concurrent_duplicate_ballots_count_once(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    for secret in (True, False):
        pid = await proposal(meetings, c, branch, "community")
        opening = await asyncio.gather(*(meetings.post(
            f"/v1/compounds/{c.id}/proposals/{pid}/votes",
            json={"closes_at": later(), "secret": secret}, headers=branch) for _ in range(3)))
        assert sorted(r.status for r in opening) == [201, 409, 409]
        (created,) = [r for r in opening if r.status == 201]
        vote = await created.json()
        url = f"/v1/compounds/{c.id}/votes/{vote['id']}/ballots"
        tries = [meetings.post(url, json={"choice": "agree"}, headers=c.as_owner(token, name))
                 for name in (B, C) * 8]
        answers = await asyncio.gather(*tries)
        statuses = sorted(r.status for r in answers)
        bodies = [await r.json() for r in answers]
        if secret:
            assert statuses == [201] + [409] * 15
        else:
            assert statuses == [201] * 16
            assert sum(not b["changed"] for b in bodies) == 1
        turnout = await ok(await meetings.get(f"/v1/compounds/{c.id}/votes/{vote['id']}/turnout",
                                              headers=branch))
        assert (turnout["ballots"], turnout["participating_headcount"]) == (1, 1)
        result = await ok(await meetings.post(f"/v1/compounds/{c.id}/votes/{vote['id']}/close",
                                              headers=branch))
        assert result["result"]["counts"]["agree_area_centi"] == 12010


async def test_sweep_closes_votes_and_consultations_past_deadline(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    base = f"/v1/compounds/{c.id}/proposals"
    pid = await proposal(meetings, c, branch, "community")
    vote = await open_vote(meetings, c, pid, branch, quorum="1/2")
    await ok(await meetings.post(f"/v1/compounds/{c.id}/votes/{vote['id']}/ballots",
                                 json={"choice": "agree"}, headers=c.as_owner(token, A)), 201)
    other = await proposal(meetings, c, branch, "community")
    await ok(await meetings.post(f"{base}/{other}/consultation", json={"closes_at": later()},
                                 headers=branch))
    async with meetings.app[POOL].acquire() as conn:  # both deadlines pass, as the clock would
        await conn.execute("UPDATE meetings.votes SET closes_at = now() WHERE id = $1",
                           uuid.UUID(vote["id"]))
        await conn.execute("UPDATE meetings.consultations SET closes_at = now()"
                           " WHERE proposal_id = $1", uuid.UUID(other))
    await sweep_once(meetings.app[POOL])
    got = await ok(await meetings.get(f"/v1/compounds/{c.id}/votes/{vote['id']}", headers=branch))
    assert got["status"] == "closed" and got["outcome"] == "rejected"  # 1 of 6 < quorum 1/2
    consultation = await ok(await meetings.get(f"{base}/{other}/consultation", headers=branch))
    assert consultation["status"] == "closed"
    types = [e["type"] for e in await outbox(meetings, pid)]
    assert types.count("linli.meetings.vote.closed") == 1
    await sweep_once(meetings.app[POOL])
    assert [e["type"] for e in await outbox(meetings, pid)].count("linli.meetings.vote.closed") == 1
