"""A call meetings refuses for good (a 4xx) blocks ProposalWorkflow in a visible state instead of
failing it: the state names the call, meetings' reason (zh-CN) and what staff can do; an event
asks the convener's organisation; staff retry the call or abandon the proposal; a cancel still
ends the run. While the vote is being opened the state says so (vote_status "opening").

Real meetings and directory (tests/workflows/council.py), time-skipping Temporal. The refusal
is real: an app withdraws the proposal in meetings during the consultation, so opening the vote
is refused (409, 已撤回).
"""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from linli import db
from tests.conftest import bearer, eventually
from tests.integration.test_meetings_support import ok
from tests.workflows.conftest import events_of
from tests.workflows.council import Council
from tests.workflows.test_proposal import DAY, Handle, Run, at_step, finish, proposal, steps
from tests.workflows.test_proposal_ownership import settled
from workflows.proposal import types as t
from workflows.proposal.workflow import ProposalWorkflow

OPTIONS = {"consultation_seconds": 2 * DAY, "consultation_reminders": []}


async def withdrawn_behind_its_back(time_env: WorkflowEnvironment, run: Run) -> None:
    """An app (meetings:manage, e.g. an administrator's script) withdraws the proposal in
    meetings while the workflow consults; at the deadline the workflow tries to open the vote."""
    await at_step(run.handle, t.CONSULTATION)
    await settled(run, t.CONSULTATION)
    council = run.council
    app = bearer(council.token(app="admin-script", scopes=["meetings:manage"], compounds=["*"]))
    await ok(await council.meetings.post(council.url(f"/proposals/{run.pid}/withdraw"),
                                         headers=app, json={"reason": "脚本误操作"}))
    await time_env.sleep(2 * DAY + 60)


async def blocked(handle: Handle, attempts: int = 1) -> t.ProposalState:
    """The state once the run is blocked (for the `attempts`-th time)."""

    async def there() -> t.ProposalState | None:
        state = await handle.query(ProposalWorkflow.state)
        return state if state.blocked is not None and state.blocked.attempts == attempts else None

    result: t.ProposalState = await eventually(there, within=60)
    return result


async def test_refused_vote_blocks_until_staff_abandon(time_env: WorkflowEnvironment,
                                                      pool: db.Pool, council: Council) -> None:
    async with proposal(time_env, pool, council, **OPTIONS) as run:
        await withdrawn_behind_its_back(time_env, run)
        state = await blocked(run.handle)
        assert state.step == t.VOTE and state.vote_id is None and state.vote_status == "opening"
        assert state.blocked is not None
        assert state.blocked.call == t.OPEN_VOTE and state.blocked.call_label == "开启表决"
        assert "议案已撤回, 不能表决" in state.blocked.reason and "409" in state.blocked.reason
        assert "重试" in state.blocked.help and "放弃" in state.blocked.help
        # nothing to unblock with a bad answer, and abandoning needs a reason
        for wrong in (t.Unblock("later"), t.Unblock("abandon")):
            with pytest.raises(WorkflowUpdateFailedError):
                await run.handle.execute_update(ProposalWorkflow.unblock, wrong)
        # staff retry: meetings still refuses (the proposal stays withdrawn): blocked again
        assert await run.handle.execute_update(ProposalWorkflow.unblock, t.Unblock("retry")) == t.VOTE
        again = await blocked(run.handle, attempts=2)
        assert again.blocked is not None and again.blocked.since >= state.blocked.since
        await run.handle.execute_update(ProposalWorkflow.unblock, t.Unblock(
            "abandon", "议案已在议事服务中撤回, 不再推进", by="branch-secretary"))
        summary = await finish(run, "blocked_then_abandoned")
    assert summary.outcome == t.ABANDONED and summary.reason == "议案已在议事服务中撤回, 不再推进"
    assert steps(summary) == [t.DRAFT, t.CONSULTATION, t.VOTE, t.ABANDONED]
    assert summary.history[-1].by == "branch-secretary"
    assert await run.votes() == []  # no vote was ever opened on the withdrawn proposal
    events = await events_of(pool, run.pid)
    asked = [e["data"] for e in events if e["type"] == "linli.workflows.proposal.blocked"]
    assert [(a["call"], a["attempts"], a["audience"]) for a in asked] == [
        (t.OPEN_VOTE, 1, "party_branch"), (t.OPEN_VOTE, 2, "party_branch")]
    assert all(a["title"] == "顶楼隔热改造" and "已撤回" in a["reason"] for a in asked)
    # the steps after the proposal was read name it, for the notices people read
    changed = [e["data"] for e in events if e["type"].endswith("step_changed")]
    assert [c["title"] for c in changed] == ["", "顶楼隔热改造", "顶楼隔热改造", "顶楼隔热改造"]


async def test_a_blocked_run_can_be_cancelled(time_env: WorkflowEnvironment, pool: db.Pool,
                                             council: Council) -> None:
    async with proposal(time_env, pool, council, **OPTIONS) as run:
        await withdrawn_behind_its_back(time_env, run)
        await blocked(run.handle)
        await run.handle.execute_update(ProposalWorkflow.cancel, t.CancelRequest("议案已撤回"))
        summary = await finish(run, "blocked_then_cancelled")
        state = await run.handle.query(ProposalWorkflow.state)  # the worker answers it
    assert summary.outcome == t.CANCELLED and steps(summary)[-1] == t.CANCELLED
    assert state.blocked is None and state.managed is False
    assert (await council.get(f"/proposals/{run.pid}"))["status"] == "withdrawn"


async def test_the_vote_is_said_to_be_opening_before_it_has_an_id(
        time_env: WorkflowEnvironment, pool: db.Pool, council: Council) -> None:
    """Before the vote step no vote; while the vote opens "opening"; then open, then closed."""
    async with proposal(time_env, pool, council, **OPTIONS) as run:
        state = await at_step(run.handle, t.CONSULTATION)
        assert state.vote_status is None and state.vote_id is None
        await time_env.sleep(2 * DAY + 60)
        state = await at_step(run.handle, t.VOTE)
        assert (state.vote_id is None) == (state.vote_status == "opening")

        async def opened() -> t.ProposalState | None:
            s = await run.handle.query(ProposalWorkflow.state)
            return s if s.vote_id is not None else None

        state = await eventually(opened, within=60)
        assert state.vote_status == "open"
        await run.handle.execute_update(ProposalWorkflow.cancel, t.CancelRequest("测试结束"))
        assert (await run.handle.result()).outcome == t.CANCELLED
