"""IssueFollowUpWorkflow on the time-skipping server (issues played by tests/workflows/fakes.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from linli import db
from tests.conftest import eventually
from tests.workflows.conftest import events_of, keep_history
from tests.workflows.fakes import FakeIssues
from workflows.follow_up import types as t
from workflows.follow_up.workflow import IssueFollowUpWorkflow
from workflows.outbox import OutboxActivities

DAY = 86400.0
Handle = WorkflowHandle[IssueFollowUpWorkflow, t.FollowUpState]


@asynccontextmanager
async def follow_up(env: WorkflowEnvironment, pool: db.Pool, fake: FakeIssues,
                    respond_days: float, resolve_days: float) -> AsyncIterator[Handle]:
    queue = f"test-{uuid.uuid4()}"
    now = await env.get_current_time()
    data = t.IssueFollowUpInput(
        compound_id=str(uuid.uuid4()), issue_id=str(uuid.uuid4()), category="lift",
        respond_by=(now + timedelta(days=respond_days)).isoformat(),
        resolve_by=(now + timedelta(days=resolve_days)).isoformat(), satisfaction_seconds=7 * DAY)
    async with Worker(env.client, task_queue=queue, workflows=[IssueFollowUpWorkflow],
                      activities=[*fake.all(), *OutboxActivities(pool).all()]):
        yield await env.client.start_workflow(IssueFollowUpWorkflow.run, data,
                                              id=f"issue-{data.issue_id}", task_queue=queue)


async def at_step(handle: Handle, step: str) -> t.FollowUpState:
    async def there() -> t.FollowUpState | None:
        state = await handle.query(IssueFollowUpWorkflow.state)
        return state if state.step == step else None

    result: t.FollowUpState = await eventually(there, within=60)
    return result


async def finish(handle: Handle, name: str) -> t.FollowUpState:
    result = await handle.result()
    await Replayer(workflows=[IssueFollowUpWorkflow]).replay_workflow(await handle.fetch_history())
    await keep_history(handle, name)
    return result


async def test_resolved_in_time_and_satisfied(time_env: WorkflowEnvironment, pool: db.Pool) -> None:
    fake = FakeIssues()
    fake.first_response_at = "2026-01-01T00:00:00+00:00"
    async with follow_up(time_env, pool, fake, 1, 7) as handle:
        await at_step(handle, "watching")
        await time_env.sleep(2 * DAY)  # respond_by passes with a response: no escalation
        await handle.signal(IssueFollowUpWorkflow.resolved_signal, t.IssueResolved("reporter-1"))
        await at_step(handle, "satisfaction")
        await handle.signal(IssueFollowUpWorkflow.satisfaction, t.SatisfactionAnswer(True))
        final = await finish(handle, "follow_up_satisfied")
    assert [h.step for h in final.history] == ["watching", "satisfaction", "completed"]
    assert final.history[-2].outcome == "satisfied" and final.satisfied is True
    assert not final.escalated and fake.calls[t.ESCALATE_ISSUE] == 0
    events = await events_of(pool, final.issue_id)
    asked = [e["data"] for e in events if e["type"].endswith("reminder_due")]
    assert asked[0]["kind"] == "satisfaction_requested" and asked[0]["person_ids"] == ["reporter-1"]


async def test_overdue_escalates_and_unsatisfied_reopens(time_env: WorkflowEnvironment,
                                                        pool: db.Pool) -> None:
    fake = FakeIssues()
    async with follow_up(time_env, pool, fake, 1, 5) as handle:
        await at_step(handle, "watching")
        await time_env.sleep(2 * DAY)  # no first response by respond_by
        state = await at_step(handle, "escalated")
        assert state.escalated and fake.calls[t.ESCALATE_ISSUE] == 1
        await time_env.sleep(5 * DAY)  # resolve_by passes too: escalated only once
        await handle.signal(IssueFollowUpWorkflow.resolved_signal, t.IssueResolved("reporter-1"))
        await at_step(handle, "satisfaction")
        await handle.signal(IssueFollowUpWorkflow.satisfaction, t.SatisfactionAnswer(False, "还在漏水"))
        await at_step(handle, "reopened")
        assert fake.calls[t.REOPEN_ISSUE] == 1
        await handle.signal(IssueFollowUpWorkflow.resolved_signal, t.IssueResolved("reporter-1"))
        await at_step(handle, "satisfaction")
        final = await finish(handle, "follow_up_reopened")  # no answer within 7 days
    assert [h.step for h in final.history] == ["watching", "escalated", "satisfaction", "reopened",
                                               "satisfaction", "completed"]
    assert final.history[-2].outcome == "no_answer" and final.reopened == 1
    assert fake.calls[t.ESCALATE_ISSUE] == 1


async def test_issue_rejected_ends_the_follow_up(time_env: WorkflowEnvironment, pool: db.Pool) -> None:
    fake = FakeIssues(status="rejected")
    async with follow_up(time_env, pool, fake, 1, 5) as handle:
        final = await finish(handle, "follow_up_rejected")
    assert [h.step for h in final.history] == ["watching", "completed"]
    assert final.history[0].outcome == "rejected"


async def test_a_redelivered_resolution_does_not_end_a_reopened_issue(
        time_env: WorkflowEnvironment, pool: db.Pool) -> None:
    """The bridge may signal one issue.resolved event twice (redelivered after a crash): after
    the reporter reopened the issue, the old event is no new resolution; a new one is."""
    fake = FakeIssues()
    async with follow_up(time_env, pool, fake, 1, 5) as handle:
        await at_step(handle, "watching")
        await time_env.sleep(2 * DAY)
        await at_step(handle, "escalated")  # escalated once: the reopened round has no timer
        first = t.IssueResolved("reporter-1", event_id=str(uuid.uuid4()))
        await handle.signal(IssueFollowUpWorkflow.resolved_signal, first)
        await at_step(handle, "satisfaction")
        await handle.signal(IssueFollowUpWorkflow.satisfaction, t.SatisfactionAnswer(False, "没修好"))
        await at_step(handle, "reopened")
        await handle.signal(IssueFollowUpWorkflow.resolved_signal, first)  # redelivered
        await handled_every_signal(handle)
        assert (await handle.query(IssueFollowUpWorkflow.state)).step == "reopened"
        await handle.signal(IssueFollowUpWorkflow.resolved_signal,
                            t.IssueResolved("reporter-1", event_id=str(uuid.uuid4())))
        await at_step(handle, "satisfaction")
        await handle.signal(IssueFollowUpWorkflow.satisfaction, t.SatisfactionAnswer(True))
        final = await handle.result()
        await Replayer(workflows=[IssueFollowUpWorkflow]).replay_workflow(
            await handle.fetch_history())
    assert [h.step for h in final.history] == ["watching", "escalated", "satisfaction", "reopened",
                                               "satisfaction", "completed"]
    assert final.reopened == 1 and final.satisfied is True


async def handled_every_signal(handle: Handle) -> None:
    """Wait until a workflow task completed after the last signal: the workflow has run its
    handler and everything that followed from it."""
    async def handled() -> bool:
        kinds = [e.event_type for e in (await handle.fetch_history()).events]
        last_signal = max(i for i, k in enumerate(kinds)
                          if k == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
        return EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in kinds[last_signal:]

    await eventually(handled, within=60)
