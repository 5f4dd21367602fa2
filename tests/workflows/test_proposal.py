"""Every path of ProposalWorkflow on the time-skipping server: weeks of timers in seconds.

The real activities run against the real meetings and directory services (tests/workflows/
council.py); the tests act as the owners and the party branch over HTTP and signal the vote
result as the bridge would. Events go to the real outbox in PostgreSQL. Each run's history is
replayed at once (and kept with LINLI_RECORD_HISTORIES=1 for tests/workflows/test_replay.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from linli import db
from tests.conftest import eventually
from tests.integration.test_meetings_support import ok, outbox
from tests.workflows.conftest import events_of, keep_history
from tests.workflows.council import OWNERS, Council
from workflows.outbox import OutboxActivities
from workflows.proposal import types as t
from workflows.proposal.workflow import ProposalWorkflow
from workflows.worker import temporal_worker

DAY = 86400.0
Handle = WorkflowHandle[ProposalWorkflow, t.ProposalSummary]


@dataclass
class Run:
    handle: Handle
    council: Council
    input: t.ProposalInput

    @property
    def pid(self) -> str:
        return self.input.proposal_id

    async def votes(self) -> list[dict[str, Any]]:
        votes: list[dict[str, Any]] = (await self.council.get(f"/proposals/{self.pid}/votes"))["items"]
        return votes


@asynccontextmanager
async def proposal(env: WorkflowEnvironment, pool: db.Pool, council: Council,
                   **options: Any) -> AsyncIterator[Run]:
    """A proposal in meetings, the production worker on a fresh task queue, a started
    ProposalWorkflow."""
    queue = f"test-{uuid.uuid4()}"
    data = t.ProposalInput(compound_id=council.compound.id, proposal_id=await council.proposal(),
                           convener="convener-1", **options)
    # the production worker (workflows/worker.py: its runner and tuning)
    async with temporal_worker(env.client, queue, [ProposalWorkflow],
                               [*council.activities, *OutboxActivities(pool).all()]):
        handle = await env.client.start_workflow(
            ProposalWorkflow.run, data, id=f"proposal-{data.proposal_id}", task_queue=queue)
        yield Run(handle, council, data)


async def at_step(handle: Handle, step: str) -> t.ProposalState:
    """Poll the state query until the workflow is in `step` (time does not skip meanwhile)."""

    async def there() -> t.ProposalState | None:
        state = await handle.query(ProposalWorkflow.state)
        return state if state.step == step else None

    result: t.ProposalState = await eventually(there, within=60)
    return result


async def finish(run: Run, name: str) -> t.ProposalSummary:
    """The result, then replay the run's history against today's code."""
    summary = await run.handle.result()
    history = await run.handle.fetch_history()
    await Replayer(workflows=[ProposalWorkflow]).replay_workflow(history)
    await keep_history(run.handle, name)
    return summary


def steps(summary: t.ProposalSummary) -> list[str]:
    return [h.step for h in summary.history]


async def vote_id(handle: Handle) -> str:
    """The vote the workflow opened in meetings (once the activity has returned)."""
    async def opened() -> str | None:
        return (await at_step(handle, t.VOTE)).vote_id

    result: str = await eventually(opened, within=60)
    return result


async def vote_closed(run: Run, choice: str) -> t.VoteClosed:
    """Two owners of three vote, the branch closes the vote, the result is signalled."""
    vote = await vote_id(run.handle)
    await run.council.ballots(vote, choice, choice)
    result = await run.council.close(vote)
    await run.handle.signal(ProposalWorkflow.vote_closed, result)
    return result


async def carry_out(env: WorkflowEnvironment, run: Run) -> None:
    """Finish every milestone, sign off, collect two ratings."""
    state = await at_step(run.handle, t.IMPLEMENTATION)
    for m in state.milestones:
        await run.handle.signal(ProposalWorkflow.milestone_progress, t.MilestoneProgress(m.name, 100))
    await at_step(run.handle, t.ACCEPTANCE)
    await run.handle.execute_update(ProposalWorkflow.accept, t.AcceptanceReport(True, ["业委会主任"]))
    await at_step(run.handle, t.SATISFACTION)
    for person, score in (("r1", 5), ("r2", 4), ("r1", 4)):
        await run.handle.signal(ProposalWorkflow.rating, t.Rating(person, score))


async def milestones(env: WorkflowEnvironment, *days: float) -> list[t.MilestonePlan]:
    now = await env.get_current_time()
    names = ["屋面隔热层", "平改坡", "外墙修补"]
    return [t.MilestonePlan(names[i], (now + timedelta(days=d)).isoformat(), "物业")
            for i, d in enumerate(days)]


async def test_passes_first_time(time_env: WorkflowEnvironment, pool: db.Pool,
                                 council: Council) -> None:
    plan = await milestones(time_env, 120, 150)
    async with proposal(time_env, pool, council, milestones=plan) as run:
        state = await at_step(run.handle, t.CONSULTATION)
        assert set(state.deadlines) == {"consultation_closes"}
        for i, stance in enumerate(["support", "support", "oppose", "suggest"]):
            await run.handle.signal(ProposalWorkflow.opinion_recorded, t.OpinionRecorded(f"o{i}", stance))
        await run.handle.signal(ProposalWorkflow.opinion_recorded, t.OpinionRecorded("o0", "support"))
        await time_env.sleep(14 * DAY + 60)
        await vote_id(run.handle)
        await time_env.sleep(13.5 * DAY)  # past both reminders (3 days and 1 day before the end)
        result = await vote_closed(run, "agree")
        assert result.outcome == "passed" and result.rule == "civil_code_major"
        await carry_out(time_env, run)
        summary = await finish(run, "passes_first_time")
    assert summary.outcome == t.COMPLETED and summary.rounds == 1
    assert steps(summary) == [t.DRAFT, t.CONSULTATION, t.VOTE, t.IMPLEMENTATION, t.ACCEPTANCE,
                              t.SATISFACTION, t.COMPLETED]
    assert [h.outcome for h in summary.history[:-1]] == [
        "started", "closed", "passed", "done", "approved", "closed"]
    assert summary.opinions == {"support": 2, "oppose": 1, "suggest": 1}
    # one rating per person: r1's second rating (4) does not replace the first (5)
    assert summary.ratings == 2 and summary.satisfaction == 4.5
    assert summary.overdue_milestones == 0
    votes = await run.votes()  # one vote, closed, passed; the consultation closed
    assert [(v["status"], v["outcome"]) for v in votes] == [("closed", "passed")]
    assert (await council.get(f"/proposals/{run.pid}/consultation"))["status"] == "closed"
    events = await events_of(pool, run.pid)
    changes = [e["data"]["step"] for e in events if e["type"].endswith("step_changed")]
    assert changes == steps(summary)
    reminders = [e["data"] for e in events if e["type"] == "linli.workflows.proposal.reminder_due"]
    assert [r["kind"] for r in reminders] == ["consultation_opened", "consultation_ending",
                                             "vote_ending", "vote_ending", "satisfaction_open"]
    assert sorted(reminders[2]["person_ids"]) == sorted(council.person(n) for n in OWNERS)
    assert all(e["compoundid"] == run.input.compound_id for e in events)
    assert len({e["id"] for e in events}) == len(events)


async def test_rejected_then_revised_and_passed(time_env: WorkflowEnvironment, pool: db.Pool,
                                                council: Council) -> None:
    async with proposal(time_env, pool, council, milestones=await milestones(time_env, 200)) as run:
        state = await at_step(run.handle, t.CONSULTATION)
        first_close = state.deadlines["consultation_closes"]
        await time_env.sleep(10 * DAY)
        # a revision in consultation extends the window by 5 days (14 + 5 from the start)
        version = await run.handle.execute_update(
            ProposalWorkflow.revise, t.Revision("加装防水层", "根据意见补充防水层", window="extend",
                                                extend_seconds=5 * DAY))
        assert version == 2
        state = await run.handle.query(ProposalWorkflow.state)
        assert state.deadlines["consultation_closes"] == first_close + timedelta(days=5)
        await time_env.sleep(6 * DAY)
        assert (await run.handle.query(ProposalWorkflow.state)).step == t.CONSULTATION
        await time_env.sleep(3 * DAY + 60)
        assert (await vote_closed(run, "oppose")).outcome == "rejected"
        await at_step(run.handle, t.REJECTED)
        with pytest.raises(WorkflowUpdateFailedError):  # revise needs a revision
            await run.handle.execute_update(ProposalWorkflow.decide, t.Decision("revise"))
        await run.handle.execute_update(ProposalWorkflow.decide, t.Decision(
            "revise", "降低预算", t.Revision("预算下调 20%", "降低预算", budget_fen=8_000_000),
            by="convener-1"))
        state = await at_step(run.handle, t.CONSULTATION)
        assert state.round == 2 and state.version == 3
        await time_env.sleep(14 * DAY + 60)
        # no vote_closed event this time: after the deadline and grace the workflow closes it
        await run.council.ballots(await vote_id(run.handle), "agree", "agree")
        await time_env.sleep(14 * DAY + 3601)
        await carry_out(time_env, run)
        summary = await finish(run, "rejected_then_revised")
    assert summary.outcome == t.COMPLETED and summary.rounds == 2
    assert steps(summary) == [t.DRAFT, t.CONSULTATION, t.VOTE, t.REJECTED, t.CONSULTATION, t.VOTE,
                              t.IMPLEMENTATION, t.ACCEPTANCE, t.SATISFACTION, t.COMPLETED]
    assert [(v.outcome, v.version) for v in summary.votes] == [("rejected", 2), ("passed", 3)]
    assert summary.history[4].by == "convener-1"  # round 2 began on the convener's decision
    assert summary.history[3].outcome == "revise"
    assert [(v["outcome"], v["version"]) for v in await run.votes()] == [("rejected", 2), ("passed", 3)]
    versions = (await council.get(f"/proposals/{run.pid}/versions"))["items"]
    assert [v["number"] for v in versions] == [1, 2, 3]
    assert versions[2]["budget_fen"] == 8_000_000


async def test_abandoned_after_rejection(time_env: WorkflowEnvironment, pool: db.Pool,
                                         council: Council) -> None:
    async with proposal(time_env, pool, council, max_rounds=1) as run:
        await at_step(run.handle, t.CONSULTATION)
        await time_env.sleep(14 * DAY + 60)
        await vote_id(run.handle)
        await time_env.sleep(14 * DAY + 3601)  # nobody voted: the fallback close fails the quorum
        await at_step(run.handle, t.REJECTED)
        with pytest.raises(WorkflowUpdateFailedError):  # the round limit allows no re-vote
            await run.handle.execute_update(ProposalWorkflow.decide, t.Decision(
                "revise", "", t.Revision("再改", "再改")))
        await run.handle.execute_update(ProposalWorkflow.decide,
                                        t.Decision("abandon", "业主意见分歧过大", by="convener-1"))
        summary = await finish(run, "abandoned")
    assert summary.outcome == t.ABANDONED and summary.reason == "业主意见分歧过大"
    assert steps(summary) == [t.DRAFT, t.CONSULTATION, t.VOTE, t.REJECTED, t.ABANDONED]
    assert summary.history[-1].by == "convener-1"
    assert summary.votes[0].outcome == "rejected"
    assert [v["status"] for v in await run.votes()] == ["closed"]
    events = await events_of(pool, run.pid)
    assert events[-1]["data"]["step"] == t.ABANDONED and events[-1]["data"]["outcome"] == "abandon"


async def test_cancelled_mid_vote(time_env: WorkflowEnvironment, pool: db.Pool, council: Council) -> None:
    async with proposal(time_env, pool, council) as run:
        await at_step(run.handle, t.CONSULTATION)
        with pytest.raises(WorkflowUpdateFailedError):  # a reason is required
            await run.handle.execute_update(ProposalWorkflow.cancel, t.CancelRequest("  "))
        await time_env.sleep(14 * DAY + 60)
        await vote_id(run.handle)
        await time_env.sleep(5 * DAY)
        vote = await vote_id(run.handle)
        await run.council.ballots(vote, "agree")
        await run.handle.execute_update(ProposalWorkflow.cancel,
                                        t.CancelRequest("街道要求暂停", "convener-1"))
        # recorded as a new file: the old cancelled_mid_vote history (before the compensation)
        # must keep replaying through workflow.patched
        summary = await finish(run, "cancelled_mid_vote_cancels_vote")
        state = await run.handle.query(ProposalWorkflow.state)
    assert summary.outcome == t.CANCELLED and summary.reason == "街道要求暂停"
    assert steps(summary) == [t.DRAFT, t.CONSULTATION, t.VOTE, t.CANCELLED]
    assert summary.history[2].outcome == "cancelled" and summary.votes == []
    assert summary.history[-1].by == "convener-1"
    assert state.vote_status == "cancelled"
    # the compensation: the open vote is cancelled in meetings (no result), its ballot kept
    votes = await run.votes()
    assert [(v["id"], v["status"], v["outcome"], v["cancel_reason"]) for v in votes] == [
        (vote, "cancelled", None, "街道要求暂停")]
    turnout = await council.get(f"/votes/{vote}/turnout")
    assert turnout["ballots"] == 1
    assert (await council.get(f"/proposals/{run.pid}/consultation"))["status"] == "closed"
    cancelled = [e for e in await outbox(council.meetings, run.pid)
                 if e["type"] == "linli.meetings.vote.cancelled"]
    assert [e["data"]["vote_id"] for e in cancelled] == [vote]
    events = await events_of(pool, run.pid)
    assert events[-1]["data"] | {"at": None} == events[-1]["data"] | {
        "step": t.CANCELLED, "previous": t.VOTE, "note": "街道要求暂停", "at": None}


async def test_review_meeting_scheduled_during_consultation(
        time_env: WorkflowEnvironment, pool: db.Pool, council: Council) -> None:
    """A 党群议事会 convened in the real meetings service by the convener's organisation, the
    proposal on its agenda, kept in the state; only during consultation."""
    c = council.compound
    org = await ok(await c.directory.post(f"/v1/compounds/{c.id}/organisations", json={
        "kind": "party_branch", "name": "阳光花园党支部"}, headers=c.street), 201)
    await ok(await c.directory.post(f"/v1/compounds/{c.id}/organisations/{org['id']}/roles", json={
        "person_id": await c.person("王书记"), "title": "书记", "starts_on": "2020-01-01"},
        headers=c.street), 201)
    async with proposal(time_env, pool, council) as run:
        await at_step(run.handle, t.CONSULTATION)
        await time_env.sleep(3 * DAY)
        now = await time_env.get_current_time()
        starts = (now + timedelta(days=7)).astimezone(timezone(timedelta(hours=8)))
        with pytest.raises(WorkflowUpdateFailedError):  # a place or a link is needed
            await run.handle.execute_update(ProposalWorkflow.schedule_review,
                                            t.ReviewMeeting(starts.isoformat()))
        with pytest.raises(WorkflowUpdateFailedError):  # not in the past
            await run.handle.execute_update(ProposalWorkflow.schedule_review, t.ReviewMeeting(
                (now - timedelta(days=1)).isoformat(), "党群服务站"))
        meeting_id = await run.handle.execute_update(
            ProposalWorkflow.schedule_review,
            t.ReviewMeeting(starts.isoformat(), "党群服务站二楼会议室", by="convener-1"))
        state = await run.handle.query(ProposalWorkflow.state)
        assert [(r.meeting_id, r.starts_at, r.place, r.round, r.by) for r in state.reviews] == [
            (meeting_id, starts, "党群服务站二楼会议室", 1, "convener-1")]
        meeting = await council.get(f"/meetings/{meeting_id}")
        assert (meeting["kind"], meeting["convener_org_id"]) == ("party_masses_council", org["id"])
        assert meeting["place"] == "党群服务站二楼会议室"
        assert meeting["title"] == "议案意见审议: 顶楼隔热改造"
        assert datetime.fromisoformat(meeting["starts_at"]) == starts
        assert datetime.fromisoformat(meeting["ends_at"]) == starts + timedelta(hours=2)
        assert [(i["source"], i["proposal_id"], i["title"]) for i in meeting["agenda"]] == [
            ("proposal", run.pid, "审议议案: 顶楼隔热改造")]
        assert "王书记" in {i["name"] for i in meeting["invitees"]}
        await time_env.sleep(11 * DAY + 60)
        await vote_id(run.handle)
        with pytest.raises(WorkflowUpdateFailedError):  # the consultation is over
            await run.handle.execute_update(ProposalWorkflow.schedule_review, t.ReviewMeeting(
                (starts + timedelta(days=30)).isoformat(), "党群服务站"))
        await run.handle.execute_update(ProposalWorkflow.cancel, t.CancelRequest("测试结束"))
        summary = await finish(run, "review_scheduled")
    assert summary.outcome == t.CANCELLED
    assert [m["id"] for m in (await council.get("/meetings"))["items"]] == [meeting_id]


async def test_milestone_overdue_escalates(time_env: WorkflowEnvironment, pool: db.Pool,
                                           council: Council) -> None:
    plan = await milestones(time_env, 40, 90)  # the first is due 12 days into implementation
    async with proposal(time_env, pool, council, milestones=plan) as run:
        await at_step(run.handle, t.CONSULTATION)
        await time_env.sleep(14 * DAY + 60)
        await vote_closed(run, "agree")
        await at_step(run.handle, t.IMPLEMENTATION)
        await run.handle.signal(ProposalWorkflow.milestone_progress, t.MilestoneProgress("屋面隔热层", 60))
        await time_env.sleep(30 * DAY)
        state = await run.handle.query(ProposalWorkflow.state)
        first, second = state.milestones
        assert first.escalated_at is not None and first.percent == 60 and second.escalated_at is None
        await carry_out(time_env, run)
        summary = await finish(run, "milestone_overdue")
    assert summary.outcome == t.COMPLETED and summary.overdue_milestones == 1
    events = await events_of(pool, run.pid)
    overdue = [e["data"] for e in events if e["type"] == "linli.workflows.proposal.milestone_overdue"]
    assert len(overdue) == 1
    assert overdue[0]["milestone"] == "屋面隔热层" and overdue[0]["percent"] == 60
    assert overdue[0]["escalate_to"] == ["owners_committee", "party_branch"]


async def test_acceptance_with_defects(time_env: WorkflowEnvironment, pool: db.Pool,
                                       council: Council) -> None:
    async with proposal(time_env, pool, council, milestones=await milestones(time_env, 100)) as run:
        await at_step(run.handle, t.CONSULTATION)
        await time_env.sleep(14 * DAY + 60)
        await vote_closed(run, "agree")
        await at_step(run.handle, t.IMPLEMENTATION)
        await run.handle.signal(ProposalWorkflow.milestone_progress, t.MilestoneProgress("屋面隔热层", 100))
        await at_step(run.handle, t.ACCEPTANCE)
        with pytest.raises(WorkflowUpdateFailedError):  # rejecting needs the defects listed
            await run.handle.execute_update(ProposalWorkflow.accept, t.AcceptanceReport(False))
        answer = await run.handle.execute_update(
            ProposalWorkflow.accept, t.AcceptanceReport(False, defects=["檐口渗水", "排水沟堵塞"]))
        assert answer == t.IMPLEMENTATION
        state = await at_step(run.handle, t.IMPLEMENTATION)
        open_items = [m.name for m in state.milestones if m.done_at is None]
        assert open_items == ["整改: 檐口渗水", "整改: 排水沟堵塞"]
        await carry_out(time_env, run)
        summary = await finish(run, "acceptance_with_defects")
    assert summary.outcome == t.COMPLETED and summary.defects == 2
    assert steps(summary)[3:] == [t.IMPLEMENTATION, t.ACCEPTANCE, t.IMPLEMENTATION, t.ACCEPTANCE,
                                  t.SATISFACTION, t.COMPLETED]
    assert summary.history[4].outcome == "defects"


async def test_a_proposal_meetings_does_not_know_blocks_at_once(
        time_env: WorkflowEnvironment, pool: db.Pool, council: Council) -> None:
    """A 4xx from meetings is not retried for ever, nor does it fail the run silently: the run
    is blocked at once with meetings' reason until staff abandon it (tests/workflows/
    test_proposal_blocked.py has the rest)."""
    queue = f"test-{uuid.uuid4()}"
    data = t.ProposalInput(compound_id=council.compound.id, proposal_id=str(uuid.uuid4()),
                           convener="convener-1")
    async with Worker(time_env.client, task_queue=queue, workflows=[ProposalWorkflow],
                      activities=[*council.activities, *OutboxActivities(pool).all()]):
        handle = await time_env.client.start_workflow(
            ProposalWorkflow.run, data, id=f"proposal-{data.proposal_id}", task_queue=queue)

        async def stuck() -> t.ProposalState | None:
            state = await handle.query(ProposalWorkflow.state)
            return state if state.blocked is not None else None

        state = await eventually(stuck, within=60)
        assert state.step == t.DRAFT and state.blocked is not None
        assert state.blocked.call == t.GET_PROPOSAL and "(404): 议案不存在" in state.blocked.reason
        await handle.execute_update(ProposalWorkflow.unblock, t.Unblock("abandon", "议案号写错了"))
        summary = await handle.result()
    assert summary.outcome == t.ABANDONED and summary.reason == "议案号写错了"
    events = await events_of(pool, data.proposal_id)
    assert [e["data"].get("step") for e in events if e["type"].endswith("step_changed")] == [
        t.DRAFT, t.ABANDONED]
