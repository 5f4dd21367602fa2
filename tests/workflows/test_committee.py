"""CommitteeFoundingWorkflow on the time-skipping server against the real directory and
meetings: request → qualification → preparatory group and its publicity → candidates (owners
only) and their publicity → the general meeting's notice → the election in meetings, its result
through the bridge → chair and vice-chairs → registration (a reminder when late) → the committee
on the directory's roster → reminded before the term ends, the re-election starts. A compound
that does not qualify, and failed elections, end visibly with the next step named."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestClient
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from linli import bus, db
from linli.clients import ServiceClient, app_token
from linli.config import Settings
from linli.http import POOL
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app as meetings_app
from tests.conftest import AppFactory, TokenFactory, bearer, eventually
from tests.integration.test_committee_election import OWNERS, nine_owners
from tests.integration.test_meetings_support import Compound, later, new_compound, ok
from tests.workflows.conftest import events_of, keep_history
from workflows.committee import bridge
from workflows.committee import types as t
from workflows.committee.activities import CommitteeActivities
from workflows.committee.workflow import CommitteeFoundingWorkflow
from workflows.common_types import CancelRequest
from workflows.outbox import OutboxActivities

DAY = 86400.0


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(meetings_app)


class Run:
    def __init__(self, env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any],
                 sub: bus.Subscription) -> None:
        self.env, self.handle, self.sub = env, handle, sub

    async def state(self) -> t.CommitteeState:
        state: t.CommitteeState = await self.handle.query(CommitteeFoundingWorkflow.state)
        return state

    async def at(self, step: str) -> t.CommitteeState:
        """The state once the founding reached `step` (its worker moves it on its own)."""
        seen: list[str] = []

        async def reached() -> t.CommitteeState | None:
            state = await self.state()
            seen.append(state.step)
            return state if state.step == step else None

        try:
            found: t.CommitteeState = await eventually(reached)
        except AssertionError:
            raise AssertionError(f"the founding never reached {step} (at {seen[-1:]})") from None
        return found

    async def update(self, name: str, arg: Any) -> Any:
        return await self.handle.execute_update(name, arg)

    async def refused(self, name: str, arg: Any, words: str) -> None:
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await self.update(name, arg)
        assert words in str(caught.value.cause)


@pytest.fixture
async def founding(time_env: WorkflowEnvironment, apps: tuple[TestClient, TestClient],
                   settings: Settings, pool: db.Pool) -> AsyncIterator[Any]:
    directory, meetings = apps
    queue, prefix = f"committee-{uuid.uuid4()}", f"test-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession() as session:
        client = ServiceClient(session, base_url=str(directory.make_url("")).rstrip("/"),
                               token=app_token(settings, "workflows", ["directory:write"]))
        meetings_client = ServiceClient(
            session, base_url=str(meetings.make_url("")).rstrip("/"),
            token=app_token(settings, "workflows", ["meetings:manage"]))
        async with Worker(time_env.client, task_queue=queue,
                          workflows=[CommitteeFoundingWorkflow],
                          activities=[*CommitteeActivities(client, meetings_client).all(),
                                      *OutboxActivities(pool).all()]):
            (sub,) = bridge.subscriptions(time_env.client, prefix=prefix)

            async def start(compound_id: str, **extra: Any) -> Run:
                handle = await time_env.client.start_workflow(
                    CommitteeFoundingWorkflow.run, t.CommitteeInput(compound_id, **extra),
                    id=t.workflow_id(compound_id), task_queue=queue)
                return Run(time_env, handle, sub)

            yield start


def member(c: Compound, name: str, represents: str = "owner") -> t.Member:
    return t.Member(person_id=c.people.get(name, str(uuid.uuid4())), name=name,
                    represents=represents)


async def to_meeting_notice(run: Run, c: Compound) -> None:
    """From the request to the meeting notice, with every refusal on the way."""
    await run.at(t.REQUESTED)

    async def qualified() -> t.CommitteeState | None:  # the directory's roll is being read
        state = await run.state()
        return state if state.qualification is not None else None

    state = await eventually(qualified)
    assert state.qualification == t.Qualification(115000, 95000, 9)
    await run.update("confirm", t.Confirmation(note="已核实", by="street"))
    await run.at(t.PREPARATORY_GROUP)
    lopsided = [member(c, OWNERS[0]), member(c, "开发商代表", "developer"),
                member(c, "街道代表", "street_office")]
    await run.refused("form_group", t.PreparatoryGroup(lopsided), "业主代表须超过半数")
    group = [*lopsided, member(c, OWNERS[1]), member(c, OWNERS[2])]
    await run.update("form_group", t.PreparatoryGroup(group, by="street"))
    await run.at(t.GROUP_PUBLICITY)
    await run.refused("nominate", t.Candidates("r", "s", [member(c, OWNERS[0])]), "不能提名")
    await run.env.sleep(7.5 * DAY)
    await run.at(t.RULES_AND_CANDIDATES)
    stranger = t.Member(str(uuid.uuid4()), "外人")
    await run.refused("nominate", t.Candidates("r", "s", [member(c, OWNERS[0]), stranger]),
                      "候选人须是本小区业主: 外人")
    await run.update("nominate", t.Candidates(f"rules-{c.id}", f"statute-{c.id}",
                                              [member(c, n) for n in OWNERS]))
    await run.at(t.CANDIDATE_PUBLICITY)
    await run.env.sleep(7.5 * DAY)
    state = await run.at(t.MEETING_NOTICE)
    entered = state.history[-1].entered_at
    await run.refused("schedule_meeting", t.Meeting((entered + dt.timedelta(days=14)).isoformat()),
                      "至少提前 15 天")


async def elect(meetings: TestClient, c: Compound, token: TokenFactory,
                approvals: list[tuple[str, list[int]]]) -> dict[str, Any]:
    """A committee election in meetings, 7 seats and 9 candidates; returns its vote.closed."""
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    pid = (await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals", json={
        "title": "选举业主委员会", "matter": "art278_3", "body": "候选人 9 名, 应选 7 名"},
        headers=street), 201))["id"]
    opened = await ok(await meetings.post(f"/v1/compounds/{c.id}/proposals/{pid}/elections", json={
        "closes_at": later(), "seats": 7, "secret": True,
        "candidates": [{"person_id": c.people[n], "name": n} for n in OWNERS]},
        headers=street), 201)
    v = f"/v1/compounds/{c.id}/votes/{opened['vote']['id']}"
    for name, picks in approvals:
        await ok(await meetings.post(f"{v}/election-ballots", json={
            "approve": [c.people[OWNERS[i]] for i in picks]},
            headers=c.as_owner(token, name)), 201)
    await ok(await meetings.post(f"{v}/close", headers=street))
    assert meetings.app is not None
    # this election's vote.closed (the session's database holds other tests' closed votes too)
    row = await meetings.app[POOL].fetchrow(
        "SELECT payload FROM outbox WHERE subject = $1"
        " AND convert_from(payload, 'UTF8')::jsonb -> 'data' ->> 'vote_id' = $2",
        "linli.meetings.vote.closed", opened["vote"]["id"])
    assert row is not None, "the closed election's vote.closed is in meetings' outbox"
    event = msgspec.json.decode(bytes(row["payload"]), type=bus.CloudEvent)
    assert event.data["vote_id"] == opened["vote"]["id"]
    return {"event": event, "result": event.data["result"]}


async def test_founding_elects_registers_records_and_re_elects_after_the_term(
        founding: Any, apps: tuple[TestClient, TestClient], token: TokenFactory,
        pool: db.Pool) -> None:
    directory, meetings = apps
    c = await nine_owners(directory, token)
    run = await founding(c.id)
    first_run = run.handle.result_run_id
    await to_meeting_notice(run, c)
    entered = (await run.state()).history[-1].entered_at
    await run.update("schedule_meeting", t.Meeting((entered + dt.timedelta(days=20)).isoformat()))
    await run.at(t.ELECTION)
    # every owner approves 业主1–7 (业主9 stays home); 业主8 and 业主9 are not elected
    vote = await elect(meetings, c, token, [(n, list(range(7))) for n in OWNERS[:8]])
    assert vote["result"]["outcome"] == "complete"
    assert await bus.apply_once(pool, run.sub, vote["event"]) is True
    await run.handle.signal("adoption_closed", t.AdoptionClosed(f"rules-{c.id}", "passed"))
    await run.handle.signal("adoption_closed", t.AdoptionClosed(str(uuid.uuid4()), "rejected"))
    await run.handle.signal("adoption_closed", t.AdoptionClosed(f"statute-{c.id}", "rejected"))
    # the statute was rejected: no officers, no registration until the owners adopt it
    state = await run.at(t.ADOPTION_FAILED)
    assert state.adoptions == {"rules": "passed", "statute": "rejected"}
    assert "管理规约未获业主大会通过" in state.history[-1].note
    assert state.history[-2].outcome == "elected"
    await run.refused("choose_officers", t.Officers(c.people[OWNERS[0]], []), "不能推选")
    await run.refused("resubmit", t.Resubmission(rules_proposal_id=f"rules-{c.id}"),
                      "须附重新表决的管理规约议案")
    await run.update("resubmit", t.Resubmission(statute_proposal_id=f"statute2-{c.id}",
                                                by="group"))
    state = await run.at(t.ADOPTION_VOTE)
    assert state.statute_proposal_id == f"statute2-{c.id}"
    assert state.adoptions == {"rules": "passed"}
    await run.handle.signal("adoption_closed", t.AdoptionClosed(f"statute2-{c.id}", "passed"))
    state = await run.at(t.OFFICERS)
    assert state.adoptions == {"rules": "passed", "statute": "passed"}
    assert state.history[-2].outcome == "adopted"
    assert state.election is not None
    elected = state.election.elected
    assert elected == [c.people[n] for n in OWNERS[:7]]
    await run.refused("choose_officers", t.Officers(c.people[OWNERS[8]], []), "当选委员中推选")
    await run.update("choose_officers", t.Officers(elected[0], [elected[1]], by="members"))
    await run.at(t.REGISTRATION)
    await run.env.sleep(31 * DAY)  # the filing is late: the street office is reminded

    async def reminded() -> list[dict[str, Any]]:
        return [e for e in await events_of(pool, c.id)
                if e["type"] == "linli.workflows.committee.reminder_due"]

    late = await eventually(reminded)
    assert [(e["data"]["kind"], e["data"]["audience"]) for e in late] == [
        ("committee_registration_overdue", "street_office")]
    today = dt.date.today()
    await run.update("register", t.Registration(today.isoformat(), by="street"))
    state = await run.at(t.IN_OFFICE)
    ends = today.replace(year=today.year + 5) if not (today.month == 2 and today.day == 29) \
        else today.replace(year=today.year + 5, day=28)
    assert state.term_ends_on == ends.isoformat()
    roster = await ok(await directory.get(f"/v1/compounds/{c.id}/roster?on={today}",
                                          headers=c.street))
    (committee,) = [r for r in roster["items"] if r["organisation"]["kind"] == "owners_committee"]
    assert committee["organisation"]["name"] == "第1届业主委员会"
    titles = {r["person_id"]: (r["title"], r["starts_on"], r["ends_on"])
              for r in committee["roles"]}
    assert titles == {p: ("主任" if p == elected[0] else "副主任" if p == elected[1] else "委员",
                          today.isoformat(), ends.isoformat()) for p in elected}

    await run.env.sleep((ends - today).days * DAY)  # three months before the end: re-election
    latest = run.env.client.get_workflow_handle(t.workflow_id(c.id))

    async def continued() -> bool:  # the next term's founding runs as a new run
        return (await latest.describe()).run_id != first_run

    await eventually(continued)
    again = Run(run.env, latest, run.sub)
    state = await again.at(t.REQUESTED)
    assert state.term == 2
    reminders = [(e["data"]["kind"], e["data"]["audience"]) for e in await events_of(pool, c.id)
                 if e["type"] == "linli.workflows.committee.reminder_due"]
    assert reminders[1:] == [("committee_term_ending", "owners_committee"),
                             ("committee_term_ending", "street_office")]
    old = run.env.client.get_workflow_handle(t.workflow_id(c.id), run_id=first_run)
    history = await old.fetch_history()
    await Replayer(workflows=[CommitteeFoundingWorkflow]).replay_workflow(history)
    # committee_founded.json is the same story recorded before the adoptions blocked the founding
    await keep_history(old, "committee_founded_after_revote")
    changed = [e["data"]["step"] for e in await events_of(pool, c.id)
               if e["type"] == "linli.workflows.committee.step_changed"]
    assert changed == ["requested", "preparatory_group", "group_publicity",
                       "rules_and_candidates", "candidate_publicity", "meeting_notice",
                       "election", "adoption_failed", "adoption_vote", "officers",
                       "registration", "in_office", "re_election", "requested"]
    await again.update("cancel", CancelRequest("测试结束"))


async def test_a_compound_that_does_not_qualify_ends_with_the_next_step_named(
        founding: Any, apps: tuple[TestClient, TestClient], token: TokenFactory) -> None:
    directory, _ = apps
    c = await new_compound(directory, token)
    await c.unit("101", "100.00", "业主甲")
    await c.unit("102", "100.01", status="unsold")  # 10000 of 20001 delivered: short of half
    run = await founding(c.id)
    final = await run.handle.result()
    assert [h.step for h in final.history] == [t.REQUESTED, t.NOT_QUALIFIED]
    assert final.qualification == t.Qualification(20001, 10000, 1)
    assert "重新申请" in final.history[-1].note
    await Replayer(workflows=[CommitteeFoundingWorkflow]).replay_workflow(
        await run.handle.fetch_history())
    await keep_history(run.handle, "committee_not_qualified")


async def test_failed_elections_lead_to_a_supplementary_election_then_a_management_committee(
        founding: Any, apps: tuple[TestClient, TestClient], token: TokenFactory) -> None:
    directory, _ = apps
    c = await nine_owners(directory, token)
    run = await founding(c.id)
    await to_meeting_notice(run, c)
    for round_, closed in enumerate((
            t.ElectionClosed("v1", "too_few_qualified", [c.people[n] for n in OWNERS[:5]],
                             open_seats=2),
            t.ElectionClosed("v2", "tie", [c.people[n] for n in OWNERS[:6]],
                             tied=[c.people[n] for n in OWNERS[6:8]], open_seats=1)), start=1):
        entered = (await run.at(t.MEETING_NOTICE)).history[-1].entered_at
        await run.update("schedule_meeting",
                         t.Meeting((entered + dt.timedelta(days=16)).isoformat()))
        await run.at(t.ELECTION)
        await run.handle.signal("election_closed", closed)
        state = await run.at(t.ELECTION_FAILED)
        assert state.history[-2].outcome == closed.outcome  # how the election step ended
        assert "下一步: 补选" in state.history[-1].note
        await run.refused("decide_next", t.NextStep("give_up"), "supplementary_election")
        if round_ == 1:
            await run.update("decide_next", t.NextStep("supplementary_election"))
    await run.update("decide_next", t.NextStep(t.PROPERTY_MANAGEMENT_COMMITTEE, note="街道决定"))
    final = await run.handle.result()
    assert [h.step for h in final.history][-3:] == [
        t.ELECTION, t.ELECTION_FAILED, t.PROPERTY_MANAGEMENT_COMMITTEE]
    assert [h.outcome for h in final.history if h.step == t.ELECTION] == [
        "too_few_qualified", "tie"]
    await Replayer(workflows=[CommitteeFoundingWorkflow]).replay_workflow(
        await run.handle.fetch_history())
    await keep_history(run.handle, "committee_management_committee")


async def test_cancelled_founding_ends_as_cancelled(founding: Any,
                                                   apps: tuple[TestClient, TestClient],
                                                   token: TokenFactory) -> None:
    directory, _ = apps
    c = await nine_owners(directory, token)
    run = await founding(c.id)
    await run.at(t.REQUESTED)
    await run.refused("cancel", CancelRequest(" "), "说明原因")
    await run.update("cancel", CancelRequest("业主撤回申请"))
    final = await run.handle.result()
    assert [(h.step, h.note) for h in final.history][-1] == ("cancelled", "业主撤回申请")
