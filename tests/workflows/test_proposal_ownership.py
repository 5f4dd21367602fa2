"""One owner for each step of a proposal: while ProposalWorkflow runs it, meetings refuses every
transition the workflow drives when it comes from a person (409 naming the workflow), at every
step of the workflow, and nothing changes on either side; the convener ends or extends the
consultation through the workflow instead; cancelling the workflow withdraws the proposal and
cancels what is open in meetings; the workflow trusts meetings' result, not the signal's payload.

Real meetings and directory (tests/workflows/council.py), time-skipping Temporal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.testing import WorkflowEnvironment

from linli import db
from tests.integration.test_meetings_support import later, outbox
from tests.workflows.council import Council
from tests.workflows.test_proposal import DAY, Run, at_step, finish, proposal, steps, vote_id
from workflows.proposal import types as t
from workflows.proposal.workflow import ProposalWorkflow

T = TypeVar("T")
WITHIN = 120.0  # real seconds any one update, query or result may take: a stall fails, not hangs


@dataclass(frozen=True)
class Transition:
    """A meetings transition the workflow drives, as a person would ask for it."""

    name: str
    path: str  # relative to the compound; {pid} and {vid} are filled in
    body: dict[str, Any]
    needs_vote: bool = False


TRANSITIONS = [
    Transition("open_consultation", "/proposals/{pid}/consultation", {"closes_at": later(30 * 86400)}),
    Transition("close_consultation", "/proposals/{pid}/consultation/close", {}),
    Transition("new_version", "/proposals/{pid}/versions", {"body": "改为只做隔热层",
                                                           "change_summary": "缩小范围"}),
    Transition("open_vote", "/proposals/{pid}/votes", {"closes_at": later(30 * 86400)}),
    Transition("close_vote", "/votes/{vid}/close", {}, needs_vote=True),
    Transition("cancel_vote", "/votes/{vid}/cancel", {"reason": "先暂停"}, needs_vote=True),
    Transition("withdraw", "/proposals/{pid}/withdraw", {"reason": "不做了"}),
]


async def bounded(run: Run, what: str, call: Awaitable[T]) -> T:
    """Await a workflow call for at most WITHIN seconds; a stalled run (blocked on a refusal,
    an activity retrying for ever) fails the test and says where the run stands."""
    try:
        return await asyncio.wait_for(call, WITHIN)
    except TimeoutError:
        try:
            state = await asyncio.wait_for(run.handle.query(ProposalWorkflow.state), 10)
            where = f"step {state.step}, blocked {state.blocked}"
        except TimeoutError:
            where = "the state query did not answer either"
        raise AssertionError(f"{what} not done within {WITHIN} s: {where}") from None


def update(run: Run, what: Any, arg: Any) -> Awaitable[Any]:
    return bounded(run, getattr(what, "__name__", str(what)), run.handle.execute_update(what, arg))


def query(run: Run) -> Awaitable[t.ProposalState]:
    return bounded(run, "state query", run.handle.query(ProposalWorkflow.state))


def finished(run: Run, name: str) -> Awaitable[t.ProposalSummary]:
    return bounded(run, f"the run's result ({name})", finish(run, name))


async def meetings_view(run: Run) -> dict[str, Any]:
    """What meetings holds about the proposal: status, version, consultation, votes."""
    council, pid = run.council, run.pid
    p = await council.get(f"/proposals/{pid}")
    r = await council.meetings.get(council.url(f"/proposals/{pid}/consultation"),
                                   headers=council.branch)
    consultation = await r.json() if r.status == 200 else None
    return {"status": p["status"], "version": p["current_version"], "managed_by": p["managed_by"],
            "consultation": consultation and (consultation["status"], consultation["closes_at"]),
            "votes": [(v["id"], v["status"]) for v in await run.votes()]}


async def settled(run: Run, step: str) -> None:
    """The step is entered before its activity opens it in meetings: wait (bounded) until
    meetings shows what the step opened."""
    for _ in range(300):
        view = await meetings_view(run)
        if step != t.CONSULTATION or (view["consultation"] or ("",))[0] == "open":
            if step != t.VOTE or any(s == "open" for _, s in view["votes"]):
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"meetings never showed the {step} step opened")


async def people_are_refused(run: Run, step: str, vote: str | None) -> None:
    """Every transition, asked by the party branch in this step: 409 naming the workflow (or,
    for a vote already closed, the no-op meetings always answers); nothing changes anywhere.
    Bounded as a whole: a meetings request that never answers fails here, naming the step."""
    await bounded(run, f"the refusals in {step}", refusals(run, step, vote))


async def refusals(run: Run, step: str, vote: str | None) -> None:
    workflow_id = run.handle.id
    await settled(run, step)
    before = await meetings_view(run)
    state = await query(run)
    assert state.step == step and state.managed and before["managed_by"] == workflow_id
    open_vote = any(s == "open" for _, s in before["votes"])
    for tr in TRANSITIONS:
        if tr.needs_vote and vote is None:
            continue
        path = run.council.url(tr.path.format(pid=run.pid, vid=vote))
        r = await run.council.meetings.post(path, json=tr.body, headers=run.council.branch)
        answer = await r.json()
        if tr.needs_vote and not open_vote:  # a closed vote: close is idempotent, cancel is 409
            assert r.status in (200, 409), (step, tr.name, answer)
            continue
        assert r.status == 409, (step, tr.name, answer)
        assert answer["type"] == "urn:linli:problem:managed-by-workflow", (step, tr.name, answer)
        assert workflow_id in answer["detail"], (step, tr.name, answer)
    assert await meetings_view(run) == before, step
    after = await query(run)
    assert (after.step, after.round, after.version, after.vote_id, after.deadlines) == (
        state.step, state.round, state.version, state.vote_id, state.deadlines), step


async def test_every_transition_at_every_step(time_env: WorkflowEnvironment, pool: db.Pool,
                                              council: Council) -> None:
    now = await time_env.get_current_time()
    plan = [t.MilestonePlan("屋面隔热层", (now.replace(year=now.year + 1)).isoformat(), "物业")]
    async with proposal(time_env, pool, council, milestones=plan) as run:
        state = await at_step(run.handle, t.CONSULTATION)
        await people_are_refused(run, t.CONSULTATION, None)
        # the convener extends the consultation through the workflow: meetings follows
        first = state.deadlines["consultation_closes"]
        await update(run, ProposalWorkflow.extend_consultation,
                     t.ConsultationExtension("业主要求多留时间", 3 * DAY, "c-1"))
        state = await query(run)
        assert (state.deadlines["consultation_closes"] - first).total_seconds() == 3 * DAY
        view = await meetings_view(run)
        assert view["consultation"][0] == "open"
        # ... and ends it early: the vote opens at once, the reason and who are in the history
        await update(run, ProposalWorkflow.end_consultation, t.ConsultationEnd("意见已充分", "c-1"))
        vote = await vote_id(run.handle)
        state = await query(run)
        assert (state.history[1].outcome, state.history[2].note, state.history[2].by) == (
            "ended_early", "意见已充分", "c-1")
        view = await meetings_view(run)
        assert view["consultation"][0] == "closed" and view["votes"] == [(vote, "open")]
        await people_are_refused(run, t.VOTE, vote)
        # the vote closes rejected in meetings; the signal claims otherwise: meetings wins
        await run.council.ballots(vote, "oppose", "oppose")
        real = await run.council.close(vote)
        assert real.outcome == "rejected"
        await run.handle.signal(ProposalWorkflow.vote_closed, t.VoteClosed(vote, "passed"))
        state = await at_step(run.handle, t.REJECTED)
        assert [(v.vote_id, v.outcome) for v in state.votes] == [(vote, "rejected")]
        await people_are_refused(run, t.REJECTED, vote)
        await update(run, ProposalWorkflow.decide, t.Decision(
            "revise", "缩小范围", t.Revision("只做隔热层", "缩小范围", by="c-1"), by="c-1"))
        await at_step(run.handle, t.CONSULTATION)
        # the version published on the convener's decision is the convener's, not the app's
        versions = (await run.council.get(f"/proposals/{run.pid}/versions"))["items"]
        assert [(v["number"], v["created_by"]) for v in versions][-1] == (2, "c-1")
        await update(run, ProposalWorkflow.end_consultation,
                     t.ConsultationEnd("第二轮不再征求", "c-1"))
        second = await vote_id(run.handle)
        await run.council.ballots(second, "agree", "agree", "agree")
        # every owner has voted: the convener closes the vote through the workflow
        await update(run, ProposalWorkflow.close_vote, t.VoteCloseEarly("全体业主已投票", "c-1"))
        state = await at_step(run.handle, t.IMPLEMENTATION)
        assert [(v.vote_id, v.outcome) for v in state.votes][-1] == (second, "passed")
        await people_are_refused(run, t.IMPLEMENTATION, second)
        await run.handle.signal(ProposalWorkflow.milestone_progress,
                                t.MilestoneProgress("屋面隔热层", 100))
        await at_step(run.handle, t.ACCEPTANCE)
        await people_are_refused(run, t.ACCEPTANCE, second)
        await update(run, ProposalWorkflow.accept, t.AcceptanceReport(True, ["主任"]))
        await at_step(run.handle, t.SATISFACTION)
        await people_are_refused(run, t.SATISFACTION, second)
        summary = await finished(run, "managed_completed")
    assert summary.outcome == t.COMPLETED
    assert steps(summary)[-1] == t.COMPLETED
    view = await meetings_view(run)  # the run ended: the mark is gone, the proposal passed
    assert view["managed_by"] is None and view["status"] == "passed"


async def test_cancel_in_consultation_withdraws(time_env: WorkflowEnvironment, pool: db.Pool,
                                                council: Council) -> None:
    async with proposal(time_env, pool, council) as run:
        await at_step(run.handle, t.CONSULTATION)
        await settled(run, t.CONSULTATION)
        # a revision during the consultation: one notice of the reopened consultation, with the
        # workflow's deadline (meetings does not announce the interim move as well)
        await update(run, ProposalWorkflow.revise, t.Revision("第二版", "补充预算"))
        for _ in range(300):  # the workflow reopens it on version 2 (bounded wait)
            if any(e["type"] == "linli.meetings.consultation.opened" and e["data"]["version"] == 2
                   for e in await outbox(council.meetings, run.pid)):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the workflow never reopened the consultation on version 2")
        await update(run, ProposalWorkflow.cancel, t.CancelRequest("街道叫停", "c-1"))
        summary = await finished(run, "managed_cancelled_in_consultation")
    assert summary.outcome == t.CANCELLED
    opened = [e["data"] for e in await outbox(council.meetings, run.pid)
              if e["type"] == "linli.meetings.consultation.opened"]
    assert [o["version"] for o in opened] == [1, 2]
    view = await meetings_view(run)
    assert view["status"] == "withdrawn" and view["managed_by"] is None
    assert view["consultation"][0] == "closed"


async def test_cancel_in_vote_withdraws_and_cancels_the_vote(
        time_env: WorkflowEnvironment, pool: db.Pool, council: Council) -> None:
    async with proposal(time_env, pool, council) as run:
        await at_step(run.handle, t.CONSULTATION)
        await update(run, ProposalWorkflow.end_consultation, t.ConsultationEnd("直接表决", "c-1"))
        vote = await vote_id(run.handle)
        await update(run, ProposalWorkflow.cancel, t.CancelRequest("预算来源变化", "c-1"))
        summary = await finished(run, "managed_cancelled_in_vote")
    assert summary.outcome == t.CANCELLED
    view = await meetings_view(run)
    assert view["status"] == "withdrawn" and view["managed_by"] is None
    assert view["votes"] == [(vote, "cancelled")]
    # with the mark gone a person meets meetings' own rules again (a withdrawn proposal)
    r = await council.meetings.post(council.url(f"/proposals/{run.pid}/votes"),
                                    json={"closes_at": later(86400)}, headers=council.branch)
    assert r.status == 409 and (await r.json())["type"] == "urn:linli:problem:proposal-withdrawn"


async def test_consultation_changes_are_refused_outside_consultation(
        time_env: WorkflowEnvironment, pool: db.Pool, council: Council) -> None:
    async with proposal(time_env, pool, council) as run:
        await at_step(run.handle, t.CONSULTATION)
        for bad in (t.ConsultationEnd("  "), ):
            try:
                await update(run, ProposalWorkflow.end_consultation, bad)
            except Exception as exc:  # the validator refuses: no reason
                assert "原因" in str(exc.__cause__ or exc)
            else:
                raise AssertionError("an end without a reason was accepted")
        await update(run, ProposalWorkflow.end_consultation, t.ConsultationEnd("够了"))
        await vote_id(run.handle)
        try:
            await update(run, ProposalWorkflow.extend_consultation,
                         t.ConsultationExtension("再延长", DAY))
        except Exception as exc:
            assert "征求意见进行中" in str(exc.__cause__ or exc)
        else:
            raise AssertionError("an extension during the vote was accepted")
        await update(run, ProposalWorkflow.cancel, t.CancelRequest("测试结束"))
        await bounded(run, "the run's result", run.handle.result())
