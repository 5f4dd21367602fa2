"""The bridge: events become workflow starts and signals, once, by entity id.

Handlers run through the kernel's apply_once (inbox in the workflows schema), the way the
worker's durable consumers run them, against the Temporal dev server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from linli import bus, db
from linli.config import Settings
from services.issues import events as issues
from services.meetings import events as meetings
from tests.conftest import eventually
from tests.workflows.fakes import FakeIssues
from workflows import bridge
from workflows.follow_up.workflow import IssueFollowUpWorkflow
from workflows.outbox import OutboxActivities


async def test_issue_events_start_and_signal_the_follow_up(settings: Settings, pool: db.Pool) -> None:
    client = await Client.connect(settings.temporal_address)
    queue, prefix = f"bridge-{uuid.uuid4()}", f"test-{uuid.uuid4().hex[:8]}"
    subs = {s.event.name: s for s in bridge.subscriptions(client, queue, prefix=prefix)}
    issue_id, compound_id = uuid.uuid4(), uuid.uuid4()
    accepted = issues.ISSUE_ACCEPTED.new(subject=str(issue_id), compound_id=str(compound_id),
                                         data=issues.IssueAccepted(
        issue_id=issue_id, compound_id=compound_id, category="lift",
        respond_by=datetime.now(UTC) + timedelta(days=1), resolve_by=datetime.now(UTC) + timedelta(days=3)))
    async with Worker(client, task_queue=queue, workflows=[IssueFollowUpWorkflow],
                      activities=[*FakeIssues().all(), *OutboxActivities(pool).all()]):
        sub = subs[issues.ISSUE_ACCEPTED.name]
        assert await bus.apply_once(pool, sub, accepted) is True
        handle = client.get_workflow_handle(f"issue-{issue_id}")
        first = await handle.describe()
        assert first.status == WorkflowExecutionStatus.RUNNING and first.task_queue == queue
        assert await bus.apply_once(pool, sub, accepted) is False  # redelivered: nothing again
        again = issues.ISSUE_ACCEPTED.new(subject=str(issue_id), compound_id=str(compound_id),
                                          data=issues.ISSUE_ACCEPTED.parse(accepted))
        assert await bus.apply_once(pool, sub, again) is True  # republished: the same run kept
        assert (await handle.describe()).run_id == first.run_id

        resolved = issues.ISSUE_RESOLVED.new(subject=str(issue_id), compound_id=str(compound_id),
                                             data=issues.IssueResolved(
            issue_id=issue_id, compound_id=compound_id, category="lift", reporter_id="reporter-1"))
        assert await bus.apply_once(pool, subs[issues.ISSUE_RESOLVED.name], resolved)
        async def in_satisfaction() -> bool:
            return bool((await handle.query("state"))["step"] == "satisfaction")

        await eventually(in_satisfaction)
        await handle.execute_update("cancel", {"reason": "测试结束"})
        assert (await handle.result())["step"] == "cancelled"

        # an event for a proposal without a workflow is applied (and acked), not an error
        pid = uuid.uuid4()
        closed = meetings.VOTE_CLOSED.new(subject=str(pid), compound_id=str(compound_id),
                                          data=meetings.VoteClosed(
            vote_id=uuid.uuid4(), proposal_id=pid, compound_id=compound_id, version=1,
            rule="civil_code_major", outcome="passed", result={}))
        assert await bus.apply_once(pool, subs[meetings.VOTE_CLOSED.name], closed) is True
