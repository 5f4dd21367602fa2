"""A re-vote decided just before the decision deadline, while its revised version is still being
published in meetings, goes to a second round: the deadline's automatic abandon never overtakes
a decision the workflow already accepted (workflow.patched "decision-in-flight")."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from linli import db
from tests.workflows.fakes import FakeMeetings
from tests.workflows.test_proposal import at_step
from workflows.outbox import OutboxActivities
from workflows.proposal import types as t
from workflows.proposal.workflow import ProposalWorkflow

HOUR = 3600.0


class SlowPublish(FakeMeetings):
    """Meetings whose publishing of a version hangs until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__(close_outcomes=["rejected"])
        self.publishing = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name=t.PUBLISH_VERSION)
    async def publish_version(self, req: t.NewVersion) -> int:
        self.publishing.set()
        await self.release.wait()
        return await super().publish_version(req)


async def test_revise_decision_publishing_at_the_deadline_is_not_abandoned(
    time_env: WorkflowEnvironment, pool: db.Pool
) -> None:
    fake, queue = SlowPublish(), f"test-{uuid.uuid4()}"
    data = t.ProposalInput(compound_id=str(uuid.uuid4()), proposal_id=str(uuid.uuid4()),
                           convener="convener-1", consultation_seconds=HOUR,
                           consultation_reminders=[], vote_seconds=HOUR, vote_reminders=[],
                           vote_grace_seconds=60, decision_seconds=HOUR)
    async with Worker(time_env.client, task_queue=queue, workflows=[ProposalWorkflow],
                      activities=[*fake.all(), *OutboxActivities(pool).all()]):
        handle = await time_env.client.start_workflow(
            ProposalWorkflow.run, data, id=f"proposal-{data.proposal_id}", task_queue=queue)
        await at_step(handle, t.CONSULTATION)
        await time_env.sleep(3 * HOUR)  # consultation, vote, fallback close: rejected
        deadline = (await at_step(handle, t.REJECTED)).deadlines["decision"]
        left = (deadline - await time_env.get_current_time()).total_seconds()
        await time_env.sleep(left - 5)
        update = await handle.start_update(
            ProposalWorkflow.decide, t.Decision("revise", "降低预算", t.Revision("v2", "降低预算"),
                                                by="convener-1"),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED)
        await asyncio.wait_for(fake.publishing.wait(), 15)
        # the deadline passes while it publishes (within the activity's 20 s timeout)
        await time_env.sleep(15)
        fake.release.set()
        assert await update.result() == "revise"
        state = await at_step(handle, t.CONSULTATION)
        assert (state.round, state.version) == (2, 2)
        await handle.cancel()
        # the run winds down (closes the consultation, withdraws) while this worker still runs:
        # a run left with pending activities on a gone queue would stop the shared test server
        # skipping time for every later test
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        history = await handle.fetch_history()
    await Replayer(workflows=[ProposalWorkflow]).replay_workflow(history)
    assert [h.step for h in state.history] == [t.DRAFT, t.CONSULTATION, t.VOTE, t.REJECTED,
                                               t.CONSULTATION]
