"""The committee founding's candidates owe no fees, and its members change mid-term (time-skipping
server, real directory and meetings): a candidate with an unpaid bill is refused with the reason
until it is paid; in office, a member resigns, another is removed by the owners' vote (one
removal rejected first), and a by-election fills the two open seats for the rest of the term;
the roster in the directory follows every change and each is on the notice board."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec
from aiohttp.test_utils import TestClient
from temporalio.worker import Replayer

from linli import bus, db
from linli.http import POOL
from tests.conftest import TokenFactory, bearer
from tests.integration.test_bill_payments import billed
from tests.integration.test_committee_election import OWNERS, nine_owners
from tests.integration.test_meetings_support import Compound, later, ok
from tests.workflows.conftest import events_of, keep_history
from tests.workflows.test_committee import (  # noqa: F401
    DAY,
    Run,
    apps,
    founding,
    member,
    to_meeting_notice,
)
from workflows.committee import types as t
from workflows.committee.members import CHINA
from workflows.committee.workflow import CommitteeFoundingWorkflow
from workflows.common_types import CancelRequest


async def to_candidates(run: Run) -> None:
    await run.at(t.REQUESTED)
    for _ in range(400):
        if (await run.state()).qualification is not None:
            break
        await asyncio.sleep(0.05)
    await run.update("confirm", t.Confirmation())
    await run.at(t.PREPARATORY_GROUP)
    c_group = [t.Member(str(uuid.uuid4()), f"代表{i}") for i in range(3)]
    await run.update("form_group", t.PreparatoryGroup(c_group))
    await run.at(t.GROUP_PUBLICITY)
    await run.env.sleep(7.5 * DAY)
    await run.at(t.RULES_AND_CANDIDATES)


async def test_a_candidate_who_owes_fees_may_not_stand_until_paid(
        founding: Any, apps: tuple[TestClient, TestClient],  # noqa: F811
        token: TokenFactory) -> None:
    directory, meetings = apps
    c = await nine_owners(directory, token)
    k = await billed(meetings, c, token, ["101", "102"], {"2026-07": 300, "2026-08": 500})
    prop = bearer(token(roles=["property"], compounds=[c.id]))
    await ok(await meetings.post(f"{k}/bills/2026-07/payments", json={
        "unit_id": c.units["102"], "paid_on": "2026-08-01"}, headers=prop), 201)
    run = await founding(c.id)
    await to_candidates(run)
    nominated = t.Candidates("r", "s", [member(c, n) for n in OWNERS])
    # 业主1 (101) owes both months, 业主2 (102) August; 150 + 250 fen and 250 fen
    await run.refused("nominate", nominated, f"候选人不符合资格: {OWNERS[0]} 有未缴的费用 4.00 元 "
                      "(电梯电费 2026-07 1.50 元、电梯电费 2026-08 2.50 元); "
                      f"{OWNERS[1]} 有未缴的费用 2.50 元 (电梯电费 2026-08 2.50 元)")
    assert (await run.state()).step == t.RULES_AND_CANDIDATES
    for unit, period in (("101", "2026-07"), ("101", "2026-08"), ("102", "2026-08")):
        await ok(await meetings.post(f"{k}/bills/{period}/payments", json={
            "unit_id": c.units[unit], "paid_on": "2026-09-01"}, headers=prop), 201)
    assert await run.update("nominate", nominated) == t.CANDIDATE_PUBLICITY
    await run.update("cancel", CancelRequest("测试结束"))


async def test_a_compound_may_let_candidates_stand_whatever_they_owe(
        founding: Any, apps: tuple[TestClient, TestClient],  # noqa: F811
        token: TokenFactory) -> None:
    directory, meetings = apps
    c = await nine_owners(directory, token)
    await billed(meetings, c, token, ["101"], {"2026-07": 300})
    run = await founding(c.id, no_unpaid_fees=False)
    await to_candidates(run)
    nominated = t.Candidates("r", "s", [member(c, n) for n in OWNERS])
    assert await run.update("nominate", nominated) == t.CANDIDATE_PUBLICITY
    await run.update("cancel", CancelRequest("测试结束"))


async def in_office(run: Run, c: Compound) -> t.CommitteeState:
    """Founded with 业主1–7 (signals in place of the meetings' events), registered today."""
    await to_meeting_notice(run, c)
    entered = (await run.state()).history[-1].entered_at
    await run.update("schedule_meeting", t.Meeting((entered + dt.timedelta(days=20)).isoformat()))
    await run.at(t.ELECTION)
    await run.handle.signal("election_closed", t.ElectionClosed(
        "v", "complete", [c.people[n] for n in OWNERS[:7]]))
    for doc in ("rules", "statute"):
        await run.handle.signal("adoption_closed", t.AdoptionClosed(f"{doc}-{c.id}", "passed"))
    await run.at(t.OFFICERS)
    await run.update("choose_officers", t.Officers(c.people[OWNERS[0]], [c.people[OWNERS[1]]]))
    await run.at(t.REGISTRATION)
    await run.update("register", t.Registration(dt.date.today().isoformat()))
    return await run.at(t.IN_OFFICE)


async def back_in_office(run: Run, before: t.CommitteeState) -> t.CommitteeState:
    """In office again after one more change than `before` (the update returns while the
    workflow is still in office, before it takes the change up)."""
    entered = sum(h.step == t.IN_OFFICE for h in before.history)
    for _ in range(400):
        state = await run.state()
        if state.step == t.IN_OFFICE and sum(h.step == t.IN_OFFICE
                                             for h in state.history) > entered:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"the change never ended in office again (at {state.step})")


async def roster_of(directory: TestClient, c: Compound,
                    state: t.CommitteeState) -> dict[str, tuple[str, str | None]]:
    """The committee's roles on the workflow's day (its clock runs ahead of the wall's):
    person → (title, ends_on); a role ending that day is over."""
    today = state.history[-1].entered_at.astimezone(CHINA).date().isoformat()
    roster = await ok(await directory.get(f"/v1/compounds/{c.id}/roster?on={today}",
                                          headers=c.street))
    (committee,) = [r for r in roster["items"] if r["organisation"]["kind"] == "owners_committee"]
    return {r["person_id"]: (r["title"], r["ends_on"]) for r in committee["roles"]
            if r["ends_on"] is None or r["ends_on"] > today}


async def by_election(meetings: TestClient, c: Compound, token: TokenFactory,
                      names: list[str]) -> tuple[str, str]:
    """A 2-seat by-election in meetings: the proposal, and its open vote's path."""
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    pid = (await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals", json={
        "title": "补选业主委员会委员", "matter": "art278_3", "body": "补选 2 名"},
        headers=street), 201))["id"]
    opened = await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals/{pid}/elections", json={
        "closes_at": later(), "seats": 2, "by_election": True,
        "candidates": [{"person_id": c.people[n], "name": n} for n in names]},
        headers=street), 201)
    return pid, f"/v1/compounds/{c.id}/votes/{opened['vote']['id']}"


async def closed_event(meetings: TestClient, vote_id: str) -> bus.CloudEvent:
    assert meetings.app is not None
    row = await meetings.app[POOL].fetchrow(
        "SELECT payload FROM outbox WHERE subject = $1"
        " AND convert_from(payload, 'UTF8')::jsonb -> 'data' ->> 'vote_id' = $2",
        "linli.meetings.vote.closed", vote_id)
    assert row is not None
    return msgspec.json.decode(bytes(row["payload"]), type=bus.CloudEvent)


async def test_members_resign_are_removed_and_replaced_for_the_rest_of_the_term(
        founding: Any, apps: tuple[TestClient, TestClient],  # noqa: F811
        token: TokenFactory, pool: db.Pool) -> None:
    directory, meetings = apps
    c = await nine_owners(directory, token)
    run = await founding(c.id)
    state = await in_office(run, c)
    ends, p = state.term_ends_on, c.people
    await run.refused("schedule_by_election", t.ByElection("x", [member(c, OWNERS[7])],
                                                           later()), "没有空缺")
    await run.refused("vacate", t.Vacancy(p[OWNERS[8]], "resignation"), "不是现任委员")
    await run.refused("vacate", t.Vacancy(p[OWNERS[2]], "removal"), "须经业主大会表决")

    await run.update("vacate", t.Vacancy(p[OWNERS[2]], "resignation", note="工作调动", by="street"))
    state = await back_in_office(run, state)
    assert [(h.step, h.outcome) for h in state.history[-3:]] == [
        (t.IN_OFFICE, "resignation"), (t.MEMBER_CHANGE, "left"), (t.IN_OFFICE, "")]
    assert "空缺 1 席" in state.history[-1].note and state.open_seats == 1
    roster = await roster_of(directory, c, state)
    assert p[OWNERS[2]] not in roster and len(roster) == 6

    for outcome in ("rejected", "passed"):  # the owners keep 业主4 once, then remove them
        pid = str(uuid.uuid4())
        await run.update("propose_removal", t.Removal(p[OWNERS[3]], pid))
        await run.at(t.MEMBER_CHANGE)
        await run.refused("vacate", t.Vacancy(p[OWNERS[4]], "resignation"), "不能变更委员")
        await run.handle.signal("adoption_closed", t.AdoptionClosed(str(uuid.uuid4()), "passed"))
        await run.handle.signal("adoption_closed", t.AdoptionClosed(pid, outcome))
        state = await run.at(t.IN_OFFICE)
        assert state.history[-2].outcome == ("removal_rejected" if outcome == "rejected"
                                             else "removed")
    assert state.open_seats == 2 and len(state.members) == 5
    assert p[OWNERS[3]] not in await roster_of(directory, c, state)

    entered = state.history[-1].entered_at
    await run.refused("schedule_by_election", t.ByElection(
        "x", [member(c, OWNERS[7]), member(c, OWNERS[8])],
        (entered + dt.timedelta(days=10)).isoformat()), "至少提前 15 天")
    await run.refused("schedule_by_election", t.ByElection(
        "x", [member(c, OWNERS[7]), member(c, OWNERS[0])], later()), "现任委员")
    pid, v = await by_election(meetings, c, token, [OWNERS[7], OWNERS[8], OWNERS[2]])
    await run.update("schedule_by_election", t.ByElection(
        pid, [member(c, n) for n in (OWNERS[7], OWNERS[8], OWNERS[2])],
        (entered + dt.timedelta(days=16)).isoformat(), by="street"))
    await run.at(t.MEMBER_CHANGE)
    for name in OWNERS[:8]:  # 业主8 and 业主9 approved by all who vote; 业主3 by none
        await ok(await meetings.post(f"{v}/election-ballots", json={
            "approve": [p[OWNERS[7]], p[OWNERS[8]]]}, headers=c.as_owner(token, name)), 201)
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    closed = await ok(await meetings.post(f"{v}/close", headers=street))
    assert set(closed["result"]["elected"]) == {p[OWNERS[7]], p[OWNERS[8]]}
    assert await bus.apply_once(pool, run.sub, await closed_event(meetings, v.split("/")[-1]))
    state = await run.at(t.IN_OFFICE)
    assert state.history[-2].outcome == "by_elected" and state.open_seats == 0
    assert f"补选当选: {OWNERS[7]}、{OWNERS[8]}" in state.history[-1].note
    roster = await roster_of(directory, c, state)
    assert {person: roster[person] for person in (p[OWNERS[7]], p[OWNERS[8]])} == {
        p[OWNERS[7]]: ("委员", ends), p[OWNERS[8]]: ("委员", ends)}
    assert len(roster) == 7 and roster[p[OWNERS[0]]] == ("主任", ends)

    for _ in range(200):  # the last step_changed is written just after the step is entered
        notices = [(e["data"]["step"], e["data"]["note"]) for e in await events_of(pool, c.id)
                   if e["type"] == "linli.workflows.committee.step_changed"]
        if "补选当选" in notices[-1][1]:
            break
        await asyncio.sleep(0.05)
    assert [s for s, _ in notices[-8:]] == [t.MEMBER_CHANGE, t.IN_OFFICE] * 4
    assert "委员 业主3 辞职: 工作调动" in notices[-8][1]
    await Replayer(workflows=[CommitteeFoundingWorkflow]).replay_workflow(
        await run.handle.fetch_history())
    await keep_history(run.handle, "committee_member_changes")
    await run.update("cancel", CancelRequest("测试结束"))
